//! The words the auditor's pages say for coded values (audit actions, outcomes, roles), until
//! the console's one word table (`console::words`, `ui.say`) takes them: then these rows move
//! into it as a block and [`say`] becomes `ui.say`.

use super::super::{Lang, Ui};

/// (kind, wire word, 日本語, English)
const WORDS: &[(&str, &str, &str, &str)] = &[
    ("audit_action", "access_log.read", "アクセス記録の閲覧", "Read an access log"),
    ("audit_action", "account.invite", "アカウントの招待", "Invite an account"),
    ("audit_action", "account.list", "アカウント一覧", "List accounts"),
    ("audit_action", "account.reset_factor", "二要素認証のリセット", "Reset a second factor"),
    ("audit_action", "audit.export", "監査ログの書き出し", "Export the audit log"),
    ("audit_action", "audit.read", "監査ログの検索", "Search the audit log"),
    ("audit_action", "audit.review", "緊急アクセスの確認", "Review a break-glass access"),
    ("audit_action", "audit.verify", "監査ログの検証", "Verify the audit log"),
    ("audit_action", "audit.rotate_signing_key", "署名鍵の更新", "Rotate the signing key"),
    ("audit_action", "care_plan.export", "ケアプランの書き出し", "Export care plans"),
    ("audit_action", "care_plan.import", "ケアプランの取込", "Import care plans"),
    ("audit_action", "care_team.reachable", "連絡できる担当者の確認", "See who is reachable"),
    ("audit_action", "care_team.read", "ケアチームの閲覧", "Read the care team"),
    ("audit_action", "care_team.write", "ケアチームの変更", "Change the care team"),
    ("audit_action", "changes.read", "変更フィードの取得", "Read the change feed"),
    ("audit_action", "consent.coverage", "同意の適用範囲の確認", "Check consent coverage"),
    ("audit_action", "consent.create", "同意の記録", "Record a consent"),
    ("audit_action", "consent.list", "同意の閲覧", "Read consents"),
    ("audit_action", "consent.revoke", "同意の撤回", "Revoke a consent"),
    ("audit_action", "consent.release_restricted", "制限項目の開示", "Release restricted fields"),
    ("audit_action", "consent_log.accesses", "同意に基づくアクセスの閲覧", "Read a consent's accesses"),
    ("audit_action", "consent_log.export", "同意記録の書き出し", "Export the consent log"),
    ("audit_action", "consent_log.read", "同意記録の閲覧", "Read the consent log"),
    ("audit_action", "contact_hours.replace", "ケアマネタイムの登録", "Set contact hours"),
    ("audit_action", "contact_sheet.list", "連絡票一覧", "List contact sheets"),
    ("audit_action", "contact_sheet.read", "連絡票の閲覧", "Read a contact sheet"),
    ("audit_action", "contact_sheet.send", "連絡票の送信", "Send a contact sheet"),
    ("audit_action", "contact_sheet.stats", "連絡票の集計", "Contact-sheet figures"),
    ("audit_action", "document.create", "文書の作成", "Create a document"),
    ("audit_action", "document.delete", "文書の削除", "Delete a document"),
    ("audit_action", "document.history", "文書の履歴の閲覧", "Read a document's history"),
    ("audit_action", "document.list", "文書一覧", "List documents"),
    ("audit_action", "document.read", "文書の閲覧", "Read a document"),
    ("audit_action", "document.update", "文書の更新", "Update a document"),
    ("audit_action", "fhir.document", "FHIR文書の取得", "Read a FHIR document"),
    ("audit_action", "fhir.everything", "FHIRによる記録全体の取得", "Read a whole record by FHIR"),
    ("audit_action", "fhir.export", "FHIR一括出力", "FHIR bulk export"),
    ("audit_action", "fhir.export.delete", "FHIR一括出力の取消", "Cancel a FHIR export"),
    ("audit_action", "fhir.export.download", "FHIR一括出力の取得", "Download a FHIR export"),
    ("audit_action", "fhir.export.start", "FHIR一括出力の開始", "Start a FHIR export"),
    ("audit_action", "fhir.export.status", "FHIR一括出力の状況確認", "Check a FHIR export"),
    ("audit_action", "fhir.read", "FHIRリソースの閲覧", "Read a FHIR resource"),
    ("audit_action", "fhir.search", "FHIRによる検索", "Search by FHIR"),
    ("audit_action", "keys.rotate", "暗号鍵の更新", "Rotate the master key"),
    ("audit_action", "organization.create", "事業所の登録", "Register an organisation"),
    ("audit_action", "organization.update", "事業所の更新", "Update an organisation"),
    ("audit_action", "patient.create", "利用者の登録", "Register a patient"),
    ("audit_action", "patient.erase", "利用者の消去", "Erase a patient"),
    ("audit_action", "patient.fhir", "FHIRによる利用者の記録の取得", "Read a patient's record by FHIR"),
    ("audit_action", "patient.index", "利用者索引の再作成", "Rebuild the patient index"),
    ("audit_action", "patient.list", "利用者一覧", "List patients"),
    ("audit_action", "patient.read", "利用者の閲覧", "Read a patient"),
    ("audit_action", "patient.record", "利用者の記録の閲覧(画面)", "Open a patient's record (console)"),
    ("audit_action", "patient.search", "利用者の検索", "Search patients"),
    ("audit_action", "plan.read", "年間計画の閲覧", "Read the annual plan"),
    ("audit_action", "plan.write", "年間計画の更新", "Write the annual plan"),
    ("audit_action", "practitioner.create", "職員の登録", "Register a practitioner"),
    ("audit_action", "practitioner.update", "職員の更新", "Update a practitioner"),
    ("audit_action", "report.indicators", "指標の閲覧", "Read indicators"),
    ("audit_action", "report.item_fill", "共有項目の記入率の閲覧", "Read item fill rates"),
    ("audit_action", "service_client.register", "連携システムの登録", "Register a service client"),
    ("audit_action", "service_client.token", "連携システムへのトークン発行", "Issue a service-client token"),
    ("audit_action", "session.end", "サインアウト", "Sign out"),
    ("audit_action", "session.list", "セッション一覧", "List sessions"),
    ("audit_action", "session.revoke", "セッションの取消", "Revoke a session"),
    ("audit_action", "session.start", "サインイン", "Sign in"),
    ("audit_action", "sessions.end", "全セッションの終了", "End every session"),
    ("audit_action", "subscription.create", "通知設定の作成", "Create a subscription"),
    ("audit_action", "subscription.delete", "通知設定の削除", "Delete a subscription"),
    ("audit_action", "subscription.deliver", "通知の送信", "Deliver a notification"),
    ("audit_action", "subscription.enable", "通知設定の再開", "Enable a subscription"),
    ("audit_action", "subscription.failing", "通知の送信失敗", "A subscription failing"),
    ("audit_action", "subscription.list", "通知設定一覧", "List subscriptions"),
    ("audit_action", "subscription.read", "通知設定の閲覧", "Read a subscription"),
    ("audit_action", "subscription.replay", "通知の再送", "Replay notifications"),
    ("audit_action", "vacancy.confirm", "空き情報の確認", "Confirm vacancies"),
    ("audit_action", "vacancy.publish", "空き情報の掲載", "Publish vacancies"),
    ("audit_outcome", "allowed", "許可", "Allowed"),
    ("audit_outcome", "denied", "拒否", "Denied"),
    ("audit_outcome", "rejected", "入力不備", "Rejected (bad input)"),
    ("audit_outcome", "failed", "失敗", "Failed"),
    ("role", "physician", "医師", "Physician"),
    ("role", "dentist", "歯科医師", "Dentist"),
    ("role", "pharmacist", "薬剤師", "Pharmacist"),
    ("role", "nurse", "看護師", "Nurse"),
    ("role", "therapist", "リハビリ職", "Therapist"),
    ("role", "care_manager", "ケアマネジャー", "Care manager"),
    ("role", "care_worker", "介護職員", "Care worker"),
    ("role", "social_worker", "社会福祉士", "Social worker"),
    ("role", "admin", "管理者", "Administrator"),
    ("role", "auditor", "監査担当", "Auditor"),
    ("role", "analyst", "分析担当(市町村・医師会)", "Analyst"),
    ("role", "system", "システム", "System"),
    ("consent_status", "active", "有効", "In force"),
    ("consent_status", "revoked", "撤回", "Revoked"),
    ("obtained_by", "signed_form", "署名した同意書", "Signed form"),
    ("obtained_by", "verbal", "口頭", "Verbal"),
    ("obtained_by", "proxy", "代理人による同意", "By a proxy"),
    ("purpose", "treatment", "診療・ケア", "Treatment and care"),
    ("purpose", "emergency", "救急", "Emergency"),
    ("doc_type", "care-path", "地域連携パス", "Care path"),
    ("doc_type", "care-plan", "居宅サービス計画書", "Care plan"),
    ("doc_type", "clinical-information", "臨床情報", "Clinical information"),
    ("doc_type", "contact-sheet", "連絡票", "Contact sheet"),
    ("doc_type", "discharge-summary", "退院時サマリー", "Discharge summary"),
    ("doc_type", "end-of-life-record", "看取りの記録", "End-of-life record"),
    ("doc_type", "patient-summary", "患者サマリー", "Patient summary"),
    ("doc_type", "referral-letter", "診療情報提供書", "Referral letter"),
    ("doc_type", "service-use", "サービス利用票", "Monthly service use"),
    ("doc_type", "visiting-nursing-report", "訪問看護報告書", "Visiting-nursing report"),
];

/// The word for `wire` of `kind` in the page's language; an unknown word is shown as it is
/// (nothing the log holds is hidden), which the unit test keeps from happening for the known.
pub fn say(ui: &Ui, kind: &str, wire: &str) -> String {
    match WORDS.iter().find(|(k, w, _, _)| *k == kind && *w == wire) {
        Some((_, _, ja, en)) => match ui.lang {
            Lang::Ja => (*ja).to_owned(),
            Lang::En => (*en).to_owned(),
        },
        None => wire.to_owned(),
    }
}

/// The audit actions a search may pick, with their words, in the table's order.
pub fn actions(ui: &Ui) -> Vec<(&'static str, String)> {
    WORDS.iter().filter(|(k, ..)| *k == "audit_action").map(|(_, w, _, _)| (*w, say(ui, "audit_action", w))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_and_role_has_words_and_no_row_twice() {
        for outcome in crate::domain::audit_log::OUTCOMES {
            assert!(WORDS.iter().any(|(k, w, ..)| *k == "audit_outcome" && w == outcome), "{outcome}");
        }
        for role in crate::auth::Role::ALL {
            assert!(WORDS.iter().any(|(k, w, ..)| *k == "role" && *w == role.as_str()), "{role:?}");
        }
        let mut keys: Vec<_> = WORDS.iter().map(|(k, w, ..)| (*k, *w)).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
        assert!(WORDS.iter().all(|(_, _, ja, en)| !ja.is_empty() && !en.is_empty() && !ja.is_ascii()));
    }
}
