//! The tables of both backends; kept by hand in step with migrations/{sqlite,postgres}.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> Text,
        updated_at -> Text,
        medical_institution_code -> Nullable<Text>,
        ltc_provider_number -> Nullable<Text>,
    }
}

diesel::table! {
    practitioners (id) {
        id -> Text,
        name -> Text,
        profession -> Text,
        organization_id -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    patients (id) {
        id -> Text,
        managing_organization_id -> Text,
        care_level -> Nullable<Text>,
        sealed -> Text,
        ltc_index -> Nullable<Text>,
        data_key -> Nullable<Text>,
        data_key_kid -> Text,
        created_at -> Text,
        created_by -> Text,
        updated_at -> Text,
        updated_by -> Text,
        erased_at -> Nullable<Text>,
        access_rev -> BigInt,
        hi_index -> Nullable<Text>,
    }
}

diesel::table! {
    care_team_members (patient_id, position) {
        patient_id -> Text,
        position -> Integer,
        organization_id -> Text,
        practitioner_id -> Nullable<Text>,
        role -> Text,
        since -> Text,
        until -> Nullable<Text>,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        patient_id -> Text,
        doc_type -> Text,
        schema_version -> Text,
        version -> Integer,
        deleted -> Bool,
        created_at -> Text,
        created_by -> Text,
        updated_at -> Text,
        updated_by -> Text,
    }
}

diesel::table! {
    document_versions (document_id, version) {
        document_id -> Text,
        version -> Integer,
        patient_id -> Text,
        doc_type -> Text,
        schema_version -> Text,
        op -> Text,
        content -> Nullable<Text>,
        seq -> BigInt,
        created_at -> Text,
        created_by -> Text,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (caller, idem_key) {
        caller -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Text,
    }
}

diesel::joinable!(practitioners -> organizations (organization_id));
diesel::joinable!(patients -> organizations (managing_organization_id));
diesel::joinable!(care_team_members -> patients (patient_id));
diesel::joinable!(documents -> patients (patient_id));
diesel::joinable!(document_versions -> documents (document_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    practitioners,
    patients,
    care_team_members,
    documents,
    document_versions,
    counters,
    idempotency_keys,
    consents,
    consent_versions,
    break_glass_grants,
    audit_events,
    audit_head,
    audit_reviews,
    audit_checkpoints,
    contact_sheets,
    contact_sheet_parties,
    contact_sheet_events,
    contact_hours,
    contact_hour_exceptions,
);

diesel::table! {
    consents (id) {
        id -> Text,
        patient_id -> Text,
        status -> Text,
        organizations -> Text,
        permitted_types -> Text,
        denied_types -> Text,
        purposes -> Text,
        period_start -> Text,
        period_end -> Nullable<Text>,
        obtained_by -> Text,
        proxy -> Nullable<Text>,
        release_restricted -> Bool,
        recorded_by -> Text,
        recorded_org -> Text,
        recorded_at -> Text,
        revoked_at -> Nullable<Text>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    consent_versions (id, version) {
        id -> Text,
        patient_id -> Text,
        status -> Text,
        organizations -> Text,
        permitted_types -> Text,
        denied_types -> Text,
        purposes -> Text,
        period_start -> Text,
        period_end -> Nullable<Text>,
        obtained_by -> Text,
        proxy -> Nullable<Text>,
        release_restricted -> Bool,
        recorded_by -> Text,
        recorded_org -> Text,
        recorded_at -> Text,
        revoked_at -> Nullable<Text>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    break_glass_grants (id) {
        id -> Text,
        patient_id -> Text,
        actor_sub -> Text,
        actor_org -> Text,
        reason -> Text,
        started_at -> Text,
        expires_at -> Text,
        actor_role -> Text,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Text,
        actor_sub -> Text,
        actor_org -> Text,
        actor_role -> Text,
        action -> Text,
        patient_id -> Nullable<Text>,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        resource_version -> Nullable<Integer>,
        outcome -> Text,
        status -> Integer,
        purpose -> Text,
        break_glass -> Bool,
        break_glass_reason -> Nullable<Text>,
        request_id -> Text,
        prev_hash -> Text,
        hash -> Text,
        basis -> Nullable<Text>,
        digest -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (seq) {
        seq -> BigInt,
        hash -> Text,
        signed_at -> Text,
        key_id -> Text,
        signature -> Text,
    }
}

diesel::table! {
    audit_signing_keys (key_id) {
        key_id -> Text,
        public_key -> Text,
        valid_from_seq -> BigInt,
        valid_until_seq -> Nullable<BigInt>,
        created_at -> Text,
    }
}

diesel::table! {
    audit_reviews (event_seq) {
        event_seq -> BigInt,
        reviewer_sub -> Text,
        reviewer_org -> Text,
        comment -> Text,
        reviewed_at -> Text,
    }
}

diesel::table! {
    vacancy_postings (facility_id, service) {
        facility_id -> Text,
        service -> Text,
        version -> Integer,
        contact -> Text,
        notes -> Nullable<Text>,
        confirmed_at -> Text,
        confirmed_by -> Text,
        updated_at -> Text,
        updated_by -> Text,
    }
}

diesel::table! {
    contact_sheets (id) {
        id -> Text,
        patient_id -> Nullable<Text>,
        sender_sub -> Text,
        sender_org -> Text,
        to_org -> Text,
        to_practitioner -> Nullable<Text>,
        category -> Text,
        urgency -> Text,
        body -> Text,
        reply_by -> Nullable<Text>,
        state -> Text,
        version -> Integer,
        sent_at -> Text,
        delivered_at -> Nullable<Text>,
        read_at -> Nullable<Text>,
        read_by -> Nullable<Text>,
        answered_at -> Nullable<Text>,
        closed_at -> Nullable<Text>,
        withdrawn_at -> Nullable<Text>,
        updated_at -> Text,
        data_key -> Nullable<Text>,
        data_key_kid -> Nullable<Text>,
    }
}

diesel::table! {
    vacancy_days (facility_id, service, day) {
        facility_id -> Text,
        service -> Text,
        day -> Text,
        beds_free -> Integer,
        beds -> Text,
        accepts -> Text,
    }
}

diesel::table! {
    contact_sheet_parties (sheet_id, organization_id) {
        sheet_id -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    vacancy_changes (seq) {
        seq -> BigInt,
        facility_id -> Text,
        service -> Text,
        version -> Integer,
        op -> Text,
        confirmed_at -> Text,
        at -> Text,
    }
}

diesel::table! {
    contact_sheet_events (sheet_id, version) {
        sheet_id -> Text,
        version -> Integer,
        seq -> BigInt,
        patient_id -> Nullable<Text>,
        op -> Text,
        actor_sub -> Text,
        actor_org -> Text,
        to_org -> Nullable<Text>,
        to_practitioner -> Nullable<Text>,
        note -> Nullable<Text>,
        at -> Text,
    }
}

diesel::table! {
    contact_hours (practitioner_id, position) {
        practitioner_id -> Text,
        position -> Integer,
        organization_id -> Text,
        weekday -> Integer,
        start_time -> Text,
        end_time -> Text,
        channel -> Text,
        audience -> Text,
        notes -> Nullable<Text>,
    }
}

diesel::table! {
    contact_hour_exceptions (practitioner_id, day) {
        practitioner_id -> Text,
        day -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Text,
        organization_id -> Text,
        role -> Text,
        purpose -> Text,
        url -> Text,
        doc_types -> Text,
        events -> Text,
        secret -> Text,
        secret_kid -> Text,
        status -> Text,
        delivered_seq -> BigInt,
        attempts -> Integer,
        failing_since -> Nullable<Text>,
        next_attempt_at -> Text,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Text>,
        last_delivered_at -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Text>,
        created_by -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    annual_plans (year) {
        year -> Integer,
        version -> Integer,
        body -> Text,
        updated_at -> Text,
        updated_by -> Text,
        updated_org -> Text,
    }
}

diesel::table! {
    annual_plan_versions (year, version) {
        year -> Integer,
        version -> Integer,
        body -> Text,
        updated_at -> Text,
        updated_by -> Text,
        updated_org -> Text,
    }
}

diesel::table! {
    ended_tokens (digest) {
        digest -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    ended_users (organization_id, sub) {
        organization_id -> Text,
        sub -> Text,
        ended_at -> BigInt,
    }
}

diesel::table! {
    service_clients (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        role -> Text,
        scopes -> Text,
        public_keys -> Text,
        created_at -> Text,
        created_by -> Text,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        login -> Text,
        organization_id -> Text,
        sub -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        totp_secret -> Nullable<Text>,
        totp_kid -> Nullable<Text>,
        totp_enrolled -> Bool,
        totp_last_step -> BigInt,
        invite_hash -> Nullable<Text>,
        invite_expires_at -> Nullable<BigInt>,
        failures -> Integer,
        locked_until -> BigInt,
        factor_reset_at -> Nullable<BigInt>,
        created_at -> BigInt,
        created_by -> Text,
    }
}

diesel::table! {
    client_assertions (client_id, jti) {
        client_id -> Text,
        jti -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    account_recovery_codes (account_id, code_hash) {
        account_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Text,
        public_id -> Text,
        account_id -> Nullable<Text>,
        organization_id -> Text,
        sub -> Text,
        role -> Text,
        how -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}
