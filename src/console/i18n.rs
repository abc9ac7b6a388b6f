//! The console's words, Japanese first (the people of the region read Japanese), English on
//! request (`?lang=en`, then remembered in the `cp_lang` cookie).

use actix_web::HttpRequest;

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

pub const LANG_COOKIE: &str = "cp_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `lang=` of a query string, when it names a language.
    pub fn from_query(query: &str) -> Option<Self> {
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Self::parse(&v))
    }

    /// The request's language: the query, else the cookie, else Japanese.
    pub fn of(req: &HttpRequest) -> Self {
        Self::from_query(req.query_string())
            .or_else(|| req.cookie_value(LANG_COOKIE).and_then(|v| Self::parse(&v)))
            .unwrap_or(Lang::Ja)
    }
}

/// A cookie's value from the `Cookie` header (the console's cookies are plain tokens: no quoting).
pub trait CookieValue {
    fn cookie_value(&self, name: &str) -> Option<String>;
}

impl CookieValue for HttpRequest {
    fn cookie_value(&self, name: &str) -> Option<String> {
        self.headers()
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// The label of `key` in `lang`; an unknown key shows as itself (a test keeps the table whole).
pub fn label(lang: Lang, key: &str) -> &'static str {
    match LABELS.iter().find(|(k, _, _)| *k == key) {
        Some((_, ja, en)) => match lang {
            Lang::Ja => ja,
            Lang::En => en,
        },
        None => "?",
    }
}

/// (key, 日本語, English)
pub const LABELS: &[(&str, &str, &str)] = &[
    ("app", "地域連携ケアパス", "carepath console"),
    ("care_plan", "居宅サービス計画書", "Care plan"),
    ("no_care_plan", "居宅サービス計画書はまだありません", "No care plan yet"),
    ("table1", "第1表 居宅サービス計画書(1)", "Table 1: care plan (1)"),
    ("table2", "第2表 居宅サービス計画書(2)", "Table 2: care plan (2)"),
    ("plan_created", "作成年月日", "Written on"),
    ("planner", "居宅サービス計画作成者・事業所", "Care manager and office"),
    ("certification_period", "認定の有効期間", "Certification valid"),
    (
        "intentions",
        "利用者及び家族の生活に対する意向を踏まえた課題分析の結果",
        "The patient's and family's wishes, and the assessment",
    ),
    ("committee_opinion", "介護認定審査会の意見及びサービスの種類の指定", "Opinion of the certification committee"),
    ("overall_policy", "総合的な援助の方針", "Overall policy of support"),
    ("living_support_reason", "生活援助中心型の算定理由", "Reason for household-support visits"),
    ("need", "生活全般の解決すべき課題(ニーズ)", "Needs"),
    ("goals", "目標", "Goals"),
    ("services", "援助内容", "Support"),
    ("long_term_goal", "長期目標", "Long-term goal"),
    ("short_term_goal", "短期目標", "Short-term goal"),
    ("service_content", "サービス内容", "Service"),
    ("service_kind", "サービス種別", "Kind of service"),
    ("frequency", "頻度", "Frequency"),
    (
        "table2_notes",
        "※1 保険給付の対象となるサービスに○。※2 サービスを提供する事業所。",
        "※1 ○ where insurance covers the service. ※2 the provider.",
    ),
    ("service_use", "サービス利用票(第6表)", "Service schedule (table 6)"),
    ("no_service_use", "この月のサービス利用票はありません", "No service schedule for this month"),
    ("month", "対象年月", "Month"),
    ("show", "表示", "Show"),
    ("calendar_legend", "サービス名 予定回数 / 実績回数", "Service, planned count / actual count"),
    ("table7", "サービス利用票別表(第7表)", "Service use, billing sheet (table 7)"),
    ("t7_provider", "事業所名", "Provider"),
    ("t7_service", "サービス内容/種類", "Service"),
    ("t7_units", "単位数", "Units"),
    ("t7_count", "回数", "Count"),
    ("t7_service_units", "サービス単位/金額", "Service units"),
    ("t7_within_limit", "区分支給限度基準内単位数", "Units within the limit"),
    ("t7_unit_price", "単位数単価", "Price per unit"),
    ("t7_total_cost", "費用総額(保険対象分)", "Total cost (insured)"),
    ("t7_benefit_percent", "給付率(%)", "Benefit rate (%)"),
    ("t7_benefit", "保険給付額", "Insurance benefit"),
    ("t7_copay", "利用者負担(保険対象分)", "Co-payment (insured)"),
    ("t7_total", "区分支給限度基準額 {limit} 単位の合計", "Total, against a limit of {limit} units"),
    ("plan_upload", "ケアプランデータ連携ファイルの取込", "Import care-plan exchange files"),
    (
        "plan_upload_help",
        "介護ソフトが出力したCSV(利用者補足情報・1表・2表、または補足・6表・7表、実績、削除)を同じ送信単位でまとめて選んでください。すべて正しいときだけ取り込みます。",
        "Choose the CSV files your care software wrote (supplement, tables 1 and 2; or supplement, tables 6 and 7; actuals; deletions), one send unit together. They are stored only if all of them are right.",
    ),
    ("files", "ファイル", "Files"),
    ("upload", "取込", "Import"),
    ("upload_refused", "取り込めませんでした(何も保存していません)", "Not imported (nothing was stored)"),
    ("upload_stored", "取り込みました", "Imported"),
    ("row", "行", "Row"),
    ("created", "新規", "Created"),
    ("unchanged", "変更なし", "Unchanged"),
    ("withdrawn", "取消", "Withdrawn"),
    ("home", "ホーム", "Home"),
    ("sign_in", "ログイン", "Sign in"),
    ("sign_out", "ログアウト", "Sign out"),
    ("token", "アクセストークン", "Access token"),
    (
        "token_help",
        "地域の認証基盤が発行したトークンを貼り付けてください。",
        "Paste the token issued by the region's identity provider.",
    ),
    ("demo_users", "デモ利用者", "Demo users"),
    ("sign_in_oidc", "地域の認証基盤でログイン", "Sign in with the region's identity provider"),
    ("login", "ログイン名", "Login"),
    ("password", "パスワード", "Password"),
    (
        "otp_code",
        "確認コード（認証アプリのコード、またはリカバリーコード）",
        "Code (from the authenticator app, or a recovery code)",
    ),
    ("token_sign_in", "トークンでログイン（開発用）", "Sign in with a token (development)"),
    ("invite", "招待を受ける", "Accept the invitation"),
    ("invite_code", "招待コード", "Invitation code"),
    ("new_password", "新しいパスワード", "New password"),
    ("password_again", "パスワード（確認）", "New password, again"),
    (
        "password_help",
        "12文字以上。よく使われるパスワードは使えません。",
        "At least 12 characters; common passwords are refused.",
    ),
    ("continue", "次へ", "Continue"),
    ("enrol", "認証アプリの登録", "Set up the authenticator app"),
    (
        "enrol_help",
        "認証アプリでQRコードを読み取り、表示された6桁のコードを入力してください。",
        "Scan the QR code with an authenticator app, then enter the six-digit code it shows.",
    ),
    ("secret_text", "手入力用のキー", "Key to type in"),
    ("confirm", "登録する", "Confirm"),
    ("recovery_codes", "リカバリーコード", "Recovery codes"),
    (
        "recovery_help",
        "認証アプリが使えないときに、各コードを一度だけ使えます。この画面は一度しか表示されません。安全な場所に控えてください。",
        "Each code signs you in once when the authenticator app is not at hand. They are shown only now: keep them somewhere safe.",
    ),
    (
        "factor_reset_notice",
        "管理者があなたの二要素認証をリセットしました。心当たりがなければ管理者に連絡してください",
        "An administrator reset your second factor. If you did not ask for this, tell your administrator",
    ),
    ("recovery_left", "残りのリカバリーコード", "Recovery codes left"),
    ("bad_token", "トークンを確認できませんでした", "The token could not be verified"),
    ("patients", "利用者", "Patients"),
    ("patient", "利用者", "Patient"),
    ("search", "検索", "Search"),
    ("insured_number", "介護保険被保険者番号", "LTC insured number"),
    ("name", "氏名", "Name"),
    ("name_kana", "フリガナ", "Name (kana)"),
    ("birth_date", "生年月日", "Date of birth"),
    ("sex", "性別", "Sex"),
    ("care_level", "要介護度", "Care level"),
    ("managing_org", "管理事業所", "Managing organisation"),
    ("no_patients", "該当する利用者はいません", "No patients"),
    ("care_path", "地域連携パス", "Care path"),
    ("no_care_path", "地域連携パスはまだありません", "No care path yet"),
    ("withheld", "非開示", "Withheld"),
    ("withheld_note", "この項目はあなたの職種には開示されていません", "This field is not disclosed to your profession"),
    ("version", "版", "Version"),
    ("versions", "版の履歴", "Version history"),
    ("updated", "更新", "Updated"),
    ("by", "更新者", "By"),
    ("compare", "比較", "Compare"),
    ("diff", "版の差分", "Differences between versions"),
    ("field", "項目", "Field"),
    ("before", "変更前", "Before"),
    ("after", "変更後", "After"),
    ("no_diff", "差分はありません", "No differences"),
    ("care_team", "ケアチーム", "Care team"),
    ("organization", "事業所", "Organisation"),
    ("practitioner", "担当者", "Practitioner"),
    ("role", "職種", "Profession"),
    ("since", "開始", "Since"),
    ("until", "終了", "Until"),
    ("active", "有効", "Active"),
    ("consents", "同意", "Consents"),
    ("status", "状態", "Status"),
    ("period", "期間", "Period"),
    ("purposes", "利用目的", "Purposes"),
    ("reachable", "今連絡できる人", "Who can I contact now"),
    ("reachable_later", "後で連絡できる人", "Reachable later"),
    ("nobody", "該当なし", "Nobody"),
    ("channel", "連絡手段", "Channel"),
    ("sheets", "連絡票", "Contact sheets"),
    ("inbox", "受信箱", "Inbox"),
    ("sent", "送信済み", "Sent"),
    ("unread", "未読", "Unread"),
    ("overdue", "期限超過", "Overdue"),
    ("new_sheet", "連絡票を書く", "Write a contact sheet"),
    ("to_org", "宛先事業所ID", "To organisation (id)"),
    ("to_practitioner", "宛先担当者ID", "To practitioner (id)"),
    ("patient_id", "利用者ID", "Patient id"),
    ("category", "種別", "Category"),
    ("urgency", "緊急度", "Urgency"),
    ("reply_by", "回答期限", "Reply by"),
    ("reply_by_date", "期限日", "Date"),
    ("reply_by_time", "時刻(日本時間)", "Time (Japan time)"),
    ("form_refused", "送信できませんでした。次の項目を確認してください", "Not sent: please check these fields"),
    ("body", "本文", "Message"),
    ("send", "送信", "Send"),
    ("reply", "返信", "Reply"),
    ("from", "差出人", "From"),
    ("to", "宛先", "To"),
    ("sent_at", "送信日時", "Sent"),
    ("read_at", "既読", "Read"),
    ("read_by", "既読者", "Read by"),
    ("not_read", "未読", "Not read yet"),
    ("answered_at", "回答日時", "Answered"),
    ("thread", "やりとり", "Thread"),
    ("no_sheets", "連絡票はありません", "No contact sheets"),
    ("vacancies", "空床", "Vacancies"),
    ("vacancy_board", "ショートステイ空床情報", "Short-stay vacancy board"),
    ("date_from", "開始日", "From"),
    ("date_to", "終了日", "To"),
    ("service", "サービス", "Service"),
    ("any", "指定なし", "Any"),
    ("needs", "必要な医療的ケア", "Care needs"),
    ("facility", "施設", "Facility"),
    ("beds", "空床数", "Beds"),
    ("confirmed", "確認日時", "Confirmed"),
    ("stale", "情報が古い", "Stale"),
    ("no_vacancies", "条件に合う空床はありません", "No vacancies match"),
    ("live", "自動更新中", "Updating live"),
    ("live_changed", "空床情報が更新されました", "Vacancies changed"),
    ("audit", "監査", "Audit"),
    ("review_queue", "緊急アクセスの確認待ち", "Break-glass review queue"),
    ("reviewed", "確認済み", "Reviewed"),
    ("review", "確認する", "Mark reviewed"),
    ("note", "所見", "Note"),
    ("reason", "理由", "Reason"),
    ("actor", "操作者", "Actor"),
    ("action", "操作", "Action"),
    ("outcome", "結果", "Outcome"),
    ("at", "日時", "When"),
    ("seq", "番号", "Seq"),
    ("nothing_to_review", "確認待ちはありません", "Nothing to review"),
    ("chain", "監査ログの検証", "Audit chain verification"),
    ("chain_ok", "改ざんは検出されませんでした", "The chain verifies"),
    ("chain_broken", "改ざんまたは欠落があります", "The chain is broken"),
    ("verified_through", "検証済みの番号", "Verified through"),
    ("checkpoint", "最新の署名チェックポイント", "Last signed checkpoint"),
    ("no_checkpoint", "署名チェックポイントはまだありません", "No signed checkpoint yet"),
    ("signed_at", "署名日時", "Signed at"),
    ("key_id", "鍵ID", "Key id"),
    ("access_log", "利用者のアクセス記録", "A patient's access log"),
    ("event_search", "イベント検索", "Event search"),
    ("break_glass", "緊急アクセス", "Break-glass"),
    ("no_events", "該当するイベントはありません", "No events"),
    ("reports", "報告", "Reports"),
    ("error", "エラー", "Error"),
    ("back", "戻る", "Back"),
    ("skip", "本文へ移動", "Skip to content"),
    ("yes", "はい", "yes"),
    ("no", "いいえ", "no"),
    ("received", "受信文書", "Received documents"),
    ("received_at", "受信日時", "Received"),
    ("sender", "送信元", "Sender"),
    ("doc_kind", "文書種別", "Document"),
    ("bundle_id", "文書ID", "Document id"),
    ("contents", "内容", "Contents"),
    ("no_received", "受信した文書はありません", "No documents received"),
    ("vacancy_days", "空床(日別)", "Free beds by day"),
    ("beds_unit", "床", " beds"),
    ("accepts", "受け入れ可能な医療的ケア", "Care taken"),
    // Why a part of a record is not shown (access::Denial), as the reader needs to hear it.
    (
        "care_path_not_shared",
        "地域連携パスはあなたの事業所と共有されていません。",
        "The care path is not shared with your organisation.",
    ),
    ("refused_role", "あなたの職種ではこの情報を見ることができません。", "Your profession may not see this."),
    (
        "refused_not_managing",
        "この情報は利用者の管理事業所だけが見られます。",
        "Only the patient's managing organisation may see this.",
    ),
    (
        "refused_no_relationship",
        "あなたの事業所はこの利用者のケアチームに入っていません。",
        "Your organisation is not on this patient's care team.",
    ),
    (
        "refused_no_consent",
        "あなたの事業所との共有に本人の同意がありません。同意を記録すると共有されます。",
        "There is no consent to share with your organisation; once one is recorded, it is shared.",
    ),
    ("refused_consent_revoked", "共有の同意は撤回されています。", "The consent to share was revoked."),
    (
        "refused_consent_period",
        "共有の同意の期間外です(期限切れ、またはまだ始まっていません)。",
        "The consent to share is outside its period (ended, or not begun).",
    ),
    (
        "refused_type",
        "同意の範囲にこの種類の記録が含まれていません。",
        "The consent does not cover this kind of record.",
    ),
    (
        "refused_purpose",
        "同意の利用目的にこのアクセスの目的が含まれていません。",
        "The consent does not cover this purpose.",
    ),
    ("refused_other", "この情報は共有されていません。", "This is not shared with you."),
    // The morning page and "my patients" (issue 34).
    ("morning", "今日の確認", "This morning"),
    ("morning_answered", "回答が届いた連絡票", "New answers to your sheets"),
    ("morning_overdue", "期限を過ぎた未回答の連絡票", "Your sheets overdue and unanswered"),
    ("morning_waiting", "あなた宛ての連絡票", "Sheets waiting for you"),
    ("morning_consents", "同意の期限切れ間近・未取得", "Consents expiring or missing"),
    ("morning_discharges", "最近退院した利用者", "Patients discharged recently"),
    ("morning_none", "ありません", "None"),
    ("morning_patient", "利用者", "Patient"),
    ("morning_to", "宛先", "To"),
    ("morning_from", "差出人", "From"),
    ("morning_category", "種類", "Kind"),
    ("morning_state", "状態", "State"),
    ("morning_answered_at", "回答日時", "Answered"),
    ("morning_reply_by", "回答期限", "Reply by"),
    ("morning_sent_at", "受信日時", "Received"),
    ("morning_sheet", "(利用者なし)", "(no patient)"),
    ("morning_organization", "事業所", "Organisation"),
    ("morning_until", "同意の期限", "Covered until"),
    ("morning_no_consent", "同意なし", "No consent"),
    (
        "morning_consents_help",
        "担当の利用者のケアチームで、同意がない、または期限が近い事業所です",
        "Organisations on your patients' care teams without a consent, or whose consent ends soon",
    ),
    (
        "morning_discharges_help",
        "担当の利用者の退院時サマリーの退院日から",
        "From the discharge date of your patients' discharge summaries",
    ),
    ("morning_days", "日以内", " days"),
    ("morning_discharged_on", "退院日", "discharged"),
    ("morning_caseload", "担当の利用者", "Your patients"),
    ("mine_name_search", "氏名・フリガナ", "Name or kana"),
    ("mine_badge", "担当", "Yours"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_and_keys_are_unique() {
        let mut keys: Vec<_> = LABELS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "a label key appears twice");
        assert!(LABELS.iter().all(|(_, ja, en)| !ja.is_empty() && !en.is_empty()));
        assert_eq!(label(Lang::En, "patients"), "Patients");
        assert_eq!(label(Lang::Ja, "patients"), "利用者");
    }

    #[test]
    fn the_query_picks_the_language() {
        assert_eq!(Lang::from_query("a=1&lang=en"), Some(Lang::En));
        assert_eq!(Lang::from_query("lang=fr"), None);
    }
}
