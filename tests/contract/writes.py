"""Every write of the API that the README flow (flow.py) does not make, through the client
openapi-python-client generated: each body built with the generated model (`from_dict`, as a
vendor's code would from its own data), each answer parsed into the documented model and
asserted. The batch (`POST /v1/batch`) first: the sync push a nurse-station vendor needs most."""

import datetime
import json
import os
import uuid
import zoneinfo

from carepath_client import AuthenticatedClient
from carepath_client.api.audit import list_events, review_event
from carepath_client.api.consents import create_consent, revoke_consent
from carepath_client.api.coordination import (
    close_sheet,
    forward_sheet,
    put_contact_hours,
    reply_sheet,
    send_sheet,
    withdraw_sheet,
)
from carepath_client.api.directory import (
    create_organization,
    create_practitioner,
    end_sessions,
    put_organization,
    put_practitioner,
)
from carepath_client.api.documents import create_document, delete_document, get_document
from carepath_client.api.fhir import export_delete, export_system_get, get_patient_bundle, import_bundle
from carepath_client.api.patients import create_patient, erase_patient, put_care_team
from carepath_client.api.reports import get_plan, put_plan
from carepath_client.api.subscriptions import (
    create_subscription,
    delete_subscription,
    enable_subscription,
    replay_subscription,
)
from carepath_client.api.sync import post_batch
from carepath_client.api.vacancies import confirm_posting, put_posting
from carepath_client.models import (
    AuditPage,
    BatchCreate,
    BatchInput,
    BatchResults,
    BatchUpdate,
    CarePath110Input,
    CareTeamInput,
    Consent,
    ConsentInput,
    ContactHours,
    DischargeSummary100Input,
    Document,
    EndSessionsInput,
    EraseInput,
    ForwardInput,
    ImportBundleBody,
    OrganizationInput,
    PatientInput,
    PlanInput,
    PractitionerInput,
    ReplayInput,
    ReplyInput,
    ReviewInput,
    RevokeInput,
    SheetInput,
    ShortStayService,
    SubscriptionInput,
    VacancyPosting,
    VacancyPostingInput,
)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "schemas")


def ok(r, status):
    assert r.status_code == status, f"{r.status_code}: {r.content[:400]!r}"
    return r.parsed


def run(base, admin, doctor, org, patient, doc, token):
    def client(tok):
        return AuthenticatedClient(base_url=base, token=tok, raise_on_unexpected_status=True)

    today = datetime.datetime.now(TOKYO).date()
    suffix = uuid.uuid4().hex[:8]
    care_path = {"type": "care-path", "schema_version": "1.1.0", "content": {"care_level": "care_2", "diagnoses": []}}

    # The batch: a create and an update of the flow's document, as a tablet syncs them.
    current = ok(get_document.sync_detailed(doc, client=doctor), 200)
    batch = BatchInput.from_dict({"atomic": True, "operations": [
        dict(care_path, op="create", patient_id=patient, idempotency_key=f"tablet-1-{suffix}-1"),
        dict(care_path, op="update", document_id=doc, if_match=current.version, idempotency_key=f"tablet-1-{suffix}-2"),
    ]})
    assert isinstance(batch.operations[0], BatchCreate) and isinstance(batch.operations[1], BatchUpdate), batch
    results = ok(post_batch.sync_detailed(client=doctor, body=batch), 200)
    assert isinstance(results, BatchResults), results
    assert [x.status for x in results.results] == [201, 200], results
    assert isinstance(results.results[1].document, Document) and results.results[1].document.version == current.version + 1
    # The same batch again replays its first answers (per-operation idempotency keys).
    again = ok(post_batch.sync_detailed(client=doctor, body=batch), 200)
    assert [x.document.id for x in again.results] == [x.document.id for x in results.results], again

    # The directory.
    r = ok(put_organization.sync_detailed(org, client=admin, body=OrganizationInput.from_dict(
        {"name": f"新見クリニック {suffix}", "kind": "clinic", "phone": "0867-72-0001"})), 200)
    assert r.phone == "0867-72-0001", r
    station = ok(create_organization.sync_detailed(client=admin, body=OrganizationInput.from_dict(
        {"name": f"ひまわり訪問看護 {suffix}", "kind": "visiting_nurse_station"})), 201).id
    city = ok(create_organization.sync_detailed(client=admin, body=OrganizationInput.from_dict(
        {"name": f"新見市 {suffix}", "kind": "municipality"})), 201).id
    facility = ok(create_organization.sync_detailed(client=admin, body=OrganizationInput.from_dict(
        {"name": f"あおぞらショートステイ {suffix}", "kind": "care_facility"})), 201).id
    practitioner = ok(create_practitioner.sync_detailed(client=admin, body=PractitionerInput.from_dict(
        {"name": "新見 二郎", "profession": "physician", "organization": org})), 201).id
    r = ok(put_practitioner.sync_detailed(practitioner, client=admin, body=PractitionerInput.from_dict(
        {"name": "新見 次郎", "profession": "physician", "organization": org})), 200)
    assert r.name == "新見 次郎", r
    r = ok(put_contact_hours.sync_detailed(practitioner, client=client(token(practitioner, "physician", org)),
        body=ContactHours.from_dict({"slots": [{"weekday": "tuesday", "start": "13:00", "end": "14:00",
                                                "channel": "phone", "audience": "care_managers"}]})), 200)
    assert r.slots[0].start == "13:00", r

    # The team, consent and its revocation.
    nurse = client(token(f"ns-{suffix}", "nurse", station))
    team = CareTeamInput.from_dict({"members": [
        {"organization": station, "role": "nurse", "since": today.isoformat()}]})
    r = ok(put_care_team.sync_detailed(patient, client=doctor, body=team), 200)
    assert [m.organization for m in r.members] == [station], r
    consent = ok(create_consent.sync_detailed(patient, client=doctor, body=ConsentInput.from_dict({
        "status": "active", "organizations": "care_team", "purposes": ["treatment"],
        "period": {"start": today.isoformat()}, "obtained_by": "signed_form"})), 201)
    assert isinstance(consent, Consent) and consent.status == "active", consent

    # Contact sheets: sent, answered, forwarded, closed; another withdrawn.
    sheet_body = {"patient_id": patient, "to": {"organization": station}, "category": "question",
                  "urgency": "routine", "body": "入浴は可能でしょうか"}
    sheet = ok(send_sheet.sync_detailed(client=doctor, body=SheetInput.from_dict(sheet_body)), 201).id
    r = ok(reply_sheet.sync_detailed(sheet, client=nurse, body=ReplyInput(body="可能です")), 200)
    assert r.state == "answered", r
    r = ok(close_sheet.sync_detailed(sheet, client=doctor), 200)
    assert r.state == "closed", r
    second = ok(send_sheet.sync_detailed(client=doctor, body=SheetInput.from_dict(sheet_body)), 201).id
    r = ok(forward_sheet.sync_detailed(second, client=nurse, body=ForwardInput.from_dict(
        {"to": {"organization": org}, "note": "主治医へ"})), 200)
    assert r.state == "forwarded", r
    third = ok(send_sheet.sync_detailed(client=doctor, body=SheetInput.from_dict(sheet_body)), 201).id
    r = ok(withdraw_sheet.sync_detailed(third, client=doctor), 200)
    assert r.state == "withdrawn", r

    # A document deleted with If-Match: a tombstone (`content: null`, as the schema says).
    deletable = ok(create_document.sync_detailed(patient, client=doctor, body=CarePath110Input.from_dict(care_path)), 201)
    r = ok(delete_document.sync_detailed(deletable.id, client=doctor, if_match=f'"{deletable.version}"'), 200)
    assert r.deleted and r.content is None, r

    # FHIR: the record out, a discharge summary back in as a document Bundle, a bulk export.
    summary = json.load(open(os.path.join(EXAMPLES, "discharge-summary", "examples", "1.0.0-full.json"), encoding="utf-8"))
    body = DischargeSummary100Input.from_dict({"type": "discharge-summary", "schema_version": "1.0.0", "content": summary})
    ok(create_document.sync_detailed(patient, client=doctor, body=body), 201)
    record = ok(get_patient_bundle.sync_detailed(patient, client=doctor), 200).to_dict()
    composition = [e for e in record["entry"] if e["resource"]["resourceType"] == "Composition"]
    assert len(composition) == 1, [e["resource"]["resourceType"] for e in record["entry"]]
    rest = [e for e in record["entry"] if e["resource"]["resourceType"] != "Composition"]
    bundle = {"resourceType": "Bundle", "type": "document", "timestamp": "2025-11-01T10:00:00+09:00",
              "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
              "entry": composition + rest}
    r = ok(import_bundle.sync_detailed(patient, client=doctor, body=ImportBundleBody.from_dict(bundle)), 201)
    assert isinstance(r, Document) and r.type_ == "discharge-summary", r
    kick = export_system_get.sync_detailed(client=doctor)
    assert kick.status_code == 202, kick
    job = kick.headers["content-location"].rsplit("/", 1)[-1]
    assert export_delete.sync_detailed(job, client=doctor).status_code == 202

    # Webhooks.
    subscription = ok(create_subscription.sync_detailed(client=doctor, body=SubscriptionInput.from_dict(
        {"url": "https://ehr.example.com/hooks"})), 201)
    ok(replay_subscription.sync_detailed(subscription.id, client=doctor, body=ReplayInput(since=0)), 200)
    ok(enable_subscription.sync_detailed(subscription.id, client=doctor), 200)
    assert delete_subscription.sync_detailed(subscription.id, client=doctor).status_code == 204

    # The vacancy board: a posting, then its confirmation with the ETag it answered.
    staff = client(token(f"cw-{suffix}", "care_worker", facility))
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    posting = VacancyPostingInput.from_dict({"days": [{"date": tomorrow, "beds": [{"room": "shared", "sex": "any", "free": 2}],
                                                       "accepts": ["urinary_catheter"]}], "contact": {"phone": "0867-72-1111"}})
    r = put_posting.sync_detailed(facility, ShortStayService.DAILY_LIVING, client=staff, body=posting)
    assert r.status_code == 201 and isinstance(r.parsed, VacancyPosting), r
    r = ok(confirm_posting.sync_detailed(facility, ShortStayService.DAILY_LIVING, client=staff,
                                         if_match=r.headers["etag"]), 200)
    assert isinstance(r, VacancyPosting), r

    # The annual plan of this 年度, by the city's analyst.
    analyst = client(token(f"analyst-{suffix}", "analyst", city))
    year = today.year if today.month >= 4 else today.year - 1
    plan = PlanInput.from_dict({"items": [{"area": "H", "what": "在宅看取りの推進", "status": "in_progress",
                                           "indicators": [{"indicator": "home_death_rate", "group": "outcome", "target": 0.5}]}]})
    # The fuzzer ran first and may have written this year's plan: then it is replaced with its ETag.
    existing = get_plan.sync_detailed(year, client=analyst)
    if existing.status_code == 200:
        r = put_plan.sync_detailed(year, client=analyst, body=plan, if_match=existing.headers["etag"])
        assert r.status_code == 200, r
    else:
        assert existing.status_code == 404, existing
        r = put_plan.sync_detailed(year, client=analyst, body=plan)
        assert r.status_code == 201, r
    read = ok(get_plan.sync_detailed(year, client=analyst), 200)
    assert read.items[0].what == "在宅看取りの推進" and read.items[0].indicators[0].indicator == "home_death_rate", read

    # The auditor reviews a break-glass read; the operator ends a user's sessions, erases a patient.
    outsider = client(token(f"er-{suffix}", "nurse", facility))
    r = outsider.get_httpx_client().get(f"/v1/patients/{patient}", headers={"x-break-glass": "unconscious, family doctor unreachable"})
    assert r.status_code == 200, r.text
    auditor = client(token(f"audit-{suffix}", "auditor", city))
    events = ok(list_events.sync_detailed(client=auditor, break_glass=True, patient_id=patient), 200)
    assert isinstance(events, AuditPage) and events.items, events
    r = ok(review_event.sync_detailed(events.items[0].seq, client=auditor, body=ReviewInput(comment="妥当")), 200)
    assert r.comment == "妥当", r
    assert end_sessions.sync_detailed(station, client=admin, body=EndSessionsInput(sub=f"ns-{suffix}")).status_code == 204
    erasable = ok(create_patient.sync_detailed(client=doctor, body=PatientInput.from_dict(
        {"name": "山田 太郎", "birth_date": "1938-05-01", "sex": "male", "managing_organization": org})), 201).id
    assert erase_patient.sync_detailed(erasable, client=admin, body=EraseInput(reason="本人の申し出")).status_code == 204
    r = ok(revoke_consent.sync_detailed(patient, consent.id, client=doctor, body=RevokeInput(reason="撤回")), 200)
    assert r.status == "revoked", r

    print("writes: batch (and its replay), directory, contact hours, team, consent and revocation, sheets "
          "(reply, close, forward, withdraw), tombstone, FHIR import and export, webhooks, vacancy posting and "
          "confirmation, annual plan, break-glass review, session end, erasure: all as documented")
