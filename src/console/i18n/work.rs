//! Words of the working day: sheet filters and steps, ケアマネタイム, error pages and why a part of a record is not shown.

use super::Label;

pub const LABELS: &[Label] = &[
    // Contact sheets: filters, pages, pickers and steps.
    ("sheet_filter", "表示する連絡票", "Sheets shown"),
    ("all_sheets", "すべて", "All"),
    ("unanswered", "未回答", "Unanswered"),
    ("next_page", "次のページ", "Next page"),
    ("no_patient", "利用者を指定しない(相談窓口への問い合わせなど)", "No patient (a question to a desk, say)"),
    ("pick_addressee", "宛先を選んでください", "Choose the addressee"),
    ("pick_team", "この利用者のケアチーム", "This patient's care team"),
    ("pick_people", "担当者(地域の名簿)", "People (the region's directory)"),
    ("pick_orgs", "事業所(受信箱あて)", "Organisations (their inbox)"),
    ("follow_up", "追記する", "Follow up"),
    ("forward", "転送する", "Forward"),
    ("forward_to", "転送先", "Forward to"),
    ("forward_note", "転送先へのひとこと", "A note for the new addressee"),
    ("close_sheet", "完了にする", "Close"),
    ("withdraw_sheet", "取り下げる", "Withdraw"),
    (
        "session_ended",
        "一定時間操作がなかったか、ログアウトされたため、もう一度ログインしてください。書きかけの内容は、このタブに下書きとして残っています。",
        "Your session ended (idle, or signed out elsewhere): please sign in again. What you were writing is kept as a draft in this tab.",
    ),
    ("draft_restored", "前回の書きかけを下書きから戻しました。", "Your unsent draft was restored."),
    // ケアマネタイム, kept by its owner.
    ("hours", "ケアマネタイム(連絡を受けられる時間)", "Contact hours"),
    (
        "hours_help",
        "ケアマネジャー等が連絡しやすい曜日と時間帯、連絡手段を公開します。時刻は日本時間です。空の行は無視されます。",
        "The weekdays, times and channels at which care managers and others may reach you (Japan time). Empty rows are ignored.",
    ),
    ("hours_nav", "ケアマネタイム", "Contact hours"),
    ("hours_slots", "毎週の時間帯", "Weekly slots"),
    ("hours_days", "連絡を受けられない日(休診日など)", "Days without contact hours"),
    ("hours_weekday", "曜日", "Weekday"),
    ("hours_start", "開始", "From"),
    ("hours_end", "終了", "To"),
    ("hours_audience", "対象", "For"),
    ("hours_day", "日付", "Day"),
    ("hours_publish", "公開する", "Publish"),
    ("hours_saved", "ケアマネタイムを公開しました。", "Your contact hours are published."),
    ("hours_refused", "公開できませんでした。次の行を確認してください", "Not published: please check these rows"),
    ("hours_check", "正しく入力してください(終了は開始より後、時刻は00:00〜24:00)", "please check it"),
    ("reach_at", "この日時に連絡できる人", "Who can I reach at"),
    ("reach_day", "日付", "Day"),
    ("reach_time", "時刻(日本時間)", "Time (Japan time)"),
    // Error pages: what happened, for the reader (the API's text is for developers).
    (
        "error_403",
        "この操作は、あなたの職種または所属では行えません。",
        "Your profession or organisation may not do this.",
    ),
    (
        "error_404",
        "見つかりません。削除されたか、あなたの事業所とは共有されていません。",
        "Not found: it was removed, or it is not shared with your organisation.",
    ),
    (
        "error_409",
        "ほかの人が先に更新したか、いまの状態ではこの操作はできません。画面を開き直してください。",
        "Someone changed it first, or it cannot be done in its present state. Open the page again.",
    ),
    ("error_410", "期限が切れたか、消去されています。", "It has expired, or was erased."),
    ("error_422", "入力内容を確認してください。", "Please check what was entered."),
    (
        "error_429",
        "操作が集中しています。少し待ってからもう一度お試しください。",
        "Too many requests: wait a moment and try again.",
    ),
    (
        "error_500",
        "システムで問題が起きました。時間をおいてもう一度お試しください。",
        "Something went wrong on our side. Try again later.",
    ),
    ("error_other", "この操作は完了できませんでした。", "This could not be done."),
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
];
