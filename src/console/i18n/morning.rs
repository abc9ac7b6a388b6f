//! The morning page and "my patients".

use super::Label;

pub const LABELS: &[Label] = &[
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
