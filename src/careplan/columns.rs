//! The column tables: one per file kind, every column with its number, its name in the
//! specification, the member of the stored row it becomes, and what it may hold. Importing
//! and exporting both read these tables and nothing else, so correcting a column is an edit
//! here (and `docs/care-plan-exchange.md`, which lists the same tables).
//!
//! Where a table comes from: 居宅サービス計画2表 is the specification's item list as published
//! (vol.1156, 22 items). 居宅サービス計画1表 and 利用者補足情報 follow the published items as
//! far as we could read them (1–14) and our reading of the 1表 form after that. 第6表, 実績 and
//! 第7表 are our reading of the forms (サービス利用票・別表) in the specification's conventions.
//! `docs/care-plan-exchange.md` says which is which, column by column.

/// What a column may hold, and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text of at most this many characters, kept as written.
    Text(usize),
    /// Exactly this many ASCII digits, kept as a string.
    Digits(usize),
    /// `YYYYMMDD`, stored `YYYY-MM-DD`.
    Date,
    /// `YYYYMM`, stored `YYYY-MM`.
    Month,
    /// `HHMM` (00:00–24:00), kept as written.
    Time,
    /// A whole number of at most this many digits, stored as a JSON integer.
    Int(usize),
    /// A decimal such as `10.72` (単位数単価), kept as written.
    Decimal,
    /// One of these codes, kept as written.
    Code(&'static [&'static str]),
    /// 介護サービスコード: six characters, the first two a service type of `service_types`.
    ServiceCode,
    /// サービス種別 (the 2表's kind of service): text, at most 100 characters.
    ServiceKind,
    /// The count on day N of the month (1–31), stored in the row's `days` array.
    Day(u8),
    /// Left blank: a column of the file's layout that this kind of record does not use.
    Blank,
}

/// One column of a file.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The member of the stored row (`""` for the three columns every file starts with, which
    /// name the file's version and the patient rather than the row).
    pub key: &'static str,
    /// The item name in the specification.
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn col(key: &'static str, name: &'static str, kind: Kind, required: bool) -> Column {
    Column { key, name, kind, required }
}

/// Every file starts with these: CSVバージョン, 保険者番号, 被保険者番号.
pub const LEAD: usize = 3;

const fn lead() -> [Column; LEAD] {
    [
        col("", "CSVバージョン", Kind::Text(10), true),
        col("", "保険者番号", Kind::Digits(6), true),
        col("", "被保険者番号", Kind::Digits(10), true),
    ]
}

/// 要介護状態区分コード: 01 非該当, 06 事業対象者, 11 経過的要介護, 12–13 要支援1–2, 21–25 要介護1–5.
pub const CARE_LEVELS: &[&str] = &["01", "06", "11", "12", "13", "21", "22", "23", "24", "25"];

const VENDOR: Column = col("vendor_code", "更新業者コード", Kind::Text(20), false);
const IDENTIFIER: Column = col("identifier", "識別子", Kind::Text(40), false);

/// 利用者補足情報 (UPHOSOKU): who the patient is, one row per patient.
pub const SUPPLEMENT: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("plan_date", "居宅サービス計画作成(変更)日", Kind::Date, false),
        col("name_kana", "利用者氏名フリガナ", Kind::Text(100), true),
        col("name", "利用者氏名", Kind::Text(100), true),
        col("sex", "利用者性別", Kind::Code(&["1", "2"]), true),
        col("birth_date", "利用者生年月日", Kind::Date, true),
        col("postal_code", "利用者郵便番号", Kind::Text(8), false),
        col("address1", "利用者住所1", Kind::Text(200), false),
        col("address2", "利用者住所2", Kind::Text(200), false),
        col("phone", "利用者電話番号", Kind::Text(20), false),
        col("certified_on", "認定日", Kind::Date, false),
        col("limit_from", "限度額適用開始年月日", Kind::Date, false),
        col("limit_until", "限度額適用終了年月日", Kind::Date, false),
        col("care_level", "要介護状態区分", Kind::Code(CARE_LEVELS), false),
        col("limit_units", "区分支給限度基準額", Kind::Int(7), false),
        VENDOR,
        IDENTIFIER,
    ]
};

/// 居宅サービス計画1表 (UP1KYO): one row per patient.
pub const PLAN1: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("created_on", "作成年月日", Kind::Date, true),
        col("postal_code", "利用者郵便番号", Kind::Text(8), false),
        col("address1", "利用者住所1", Kind::Text(200), false),
        col("address2", "利用者住所2", Kind::Text(200), false),
        col("planner_name", "居宅サービス計画作成者氏名", Kind::Text(100), true),
        col("office_name", "介護支援事業者名", Kind::Text(200), true),
        col("office_postal_code", "介護支援事業者郵便番号", Kind::Text(8), false),
        col("office_address1", "介護支援事業者住所1", Kind::Text(200), false),
        col("office_address2", "介護支援事業者住所2", Kind::Text(200), false),
        col("office_number", "介護支援事業者コード", Kind::Digits(10), true),
        col("plan_date", "居宅サービス計画作成(変更)日", Kind::Date, true),
        col("first_plan_date", "初回居宅サービス計画作成日", Kind::Date, false),
        col("plan_kind", "計画区分(1 初回・2 紹介・3 継続)", Kind::Code(&["1", "2", "3"]), true),
        col("certification", "認定区分(1 認定済・2 申請中)", Kind::Code(&["1", "2"]), true),
        col("certified_on", "認定日", Kind::Date, false),
        col("valid_from", "認定の有効期間(開始)", Kind::Date, false),
        col("valid_until", "認定の有効期間(終了)", Kind::Date, false),
        col("care_level", "要介護状態区分", Kind::Code(CARE_LEVELS), false),
        col("intentions", "利用者及び家族の生活に対する意向を踏まえた課題分析の結果", Kind::Text(4000), false),
        col("committee_opinion", "介護認定審査会の意見及びサービスの種類の指定", Kind::Text(4000), false),
        col("overall_policy", "総合的な援助の方針", Kind::Text(4000), false),
        col("living_support_reason", "生活援助中心型の算定理由", Kind::Text(400), false),
        VENDOR,
        IDENTIFIER,
    ]
};

/// 居宅サービス計画2表 (UP2KYO): one row per service of a goal of a need; the published list.
pub const PLAN2: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("created_on", "居宅計画書作成年月日", Kind::Date, true),
        col("plan_date", "居宅サービス計画作成(変更)日", Kind::Date, true),
        col("need_no", "課題NO", Kind::Int(3), true),
        col("need", "課題", Kind::Text(4000), true),
        col("goal_no", "援助目標NO", Kind::Int(3), true),
        col("long_term_goal", "長期目標", Kind::Text(4000), false),
        col("short_term_goal", "短期目標", Kind::Text(4000), false),
        col("long_term_period", "長期期間", Kind::Text(100), false),
        col("short_term_period", "短期期間", Kind::Text(100), false),
        col("service_no", "援助内容NO", Kind::Int(3), true),
        col("service_content", "サービス内容", Kind::Text(4000), false),
        col("insured", "保険対象区分(1 保険給付対象)", Kind::Code(&["", "1"]), false),
        col("service_kind", "サービス種別", Kind::ServiceKind, false),
        col("provider_number", "サービス事業者コード", Kind::Digits(10), false),
        col("provider_name", "サービス事業所名", Kind::Text(200), false),
        col("frequency", "頻度", Kind::Text(100), false),
        col("period", "実施期間", Kind::Text(100), false),
        VENDOR,
        IDENTIFIER,
    ]
};

/// 第6表 サービス利用票 (UPPLAN, 予定) and 実績 (UPJSK, the same columns, the provider's counts):
/// one row per service (a time band, a service code, a provider) with its count on each day.
pub const USAGE6: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("month", "対象年月", Kind::Month, true),
        col("office_number", "居宅介護支援事業所番号", Kind::Digits(10), true),
        col("created_on", "作成年月日", Kind::Date, true),
        col("start", "提供時間帯(開始)", Kind::Time, false),
        col("end", "提供時間帯(終了)", Kind::Time, false),
        col("service_name", "サービス内容", Kind::Text(100), true),
        col("provider_number", "サービス事業者事業所番号", Kind::Digits(10), true),
        col("provider_name", "サービス事業者事業所名", Kind::Text(200), true),
        col("service_code", "サービスコード", Kind::ServiceCode, true),
        col("days", "1日", Kind::Day(1), false),
        col("days", "2日", Kind::Day(2), false),
        col("days", "3日", Kind::Day(3), false),
        col("days", "4日", Kind::Day(4), false),
        col("days", "5日", Kind::Day(5), false),
        col("days", "6日", Kind::Day(6), false),
        col("days", "7日", Kind::Day(7), false),
        col("days", "8日", Kind::Day(8), false),
        col("days", "9日", Kind::Day(9), false),
        col("days", "10日", Kind::Day(10), false),
        col("days", "11日", Kind::Day(11), false),
        col("days", "12日", Kind::Day(12), false),
        col("days", "13日", Kind::Day(13), false),
        col("days", "14日", Kind::Day(14), false),
        col("days", "15日", Kind::Day(15), false),
        col("days", "16日", Kind::Day(16), false),
        col("days", "17日", Kind::Day(17), false),
        col("days", "18日", Kind::Day(18), false),
        col("days", "19日", Kind::Day(19), false),
        col("days", "20日", Kind::Day(20), false),
        col("days", "21日", Kind::Day(21), false),
        col("days", "22日", Kind::Day(22), false),
        col("days", "23日", Kind::Day(23), false),
        col("days", "24日", Kind::Day(24), false),
        col("days", "25日", Kind::Day(25), false),
        col("days", "26日", Kind::Day(26), false),
        col("days", "27日", Kind::Day(27), false),
        col("days", "28日", Kind::Day(28), false),
        col("days", "29日", Kind::Day(29), false),
        col("days", "30日", Kind::Day(30), false),
        col("days", "31日", Kind::Day(31), false),
        col("total", "合計回数", Kind::Int(3), true),
        VENDOR,
        IDENTIFIER,
    ]
};

/// 第7表 サービス利用票別表 (UPBEPYO): one row per provider and service code, units and amounts
/// as the 別表 has them.
pub const USAGE7: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("month", "対象年月", Kind::Month, true),
        col("provider_number", "事業所番号", Kind::Digits(10), true),
        col("provider_name", "事業所名", Kind::Text(200), true),
        col("service_code", "サービスコード", Kind::ServiceCode, true),
        col("service_name", "サービス内容/種類", Kind::Text(100), true),
        col("units", "単位数", Kind::Int(7), true),
        col("discount_percent", "割引後率(%)", Kind::Int(3), false),
        col("discounted_units", "割引後単位数", Kind::Int(7), false),
        col("count", "回数", Kind::Int(3), true),
        col("service_units", "サービス単位/金額", Kind::Int(9), true),
        col("over_type_limit", "種類支給限度基準を超える単位数", Kind::Int(9), false),
        col("within_type_limit", "種類支給限度基準内単位数", Kind::Int(9), false),
        col("over_limit", "区分支給限度基準を超える単位数", Kind::Int(9), false),
        col("within_limit", "区分支給限度基準内単位数", Kind::Int(9), false),
        col("unit_price", "単位数単価", Kind::Decimal, true),
        col("total_cost", "費用総額(保険/事業対象分)", Kind::Int(10), true),
        col("benefit_percent", "給付率(%)", Kind::Int(3), true),
        col("benefit", "保険/事業費請求額", Kind::Int(10), true),
        col("copay", "利用者負担(保険/事業対象分)", Kind::Int(10), true),
        col("copay_full", "利用者負担(全額負担分)", Kind::Int(10), false),
        VENDOR,
        IDENTIFIER,
    ]
};

/// サービス内容/種類 of the 7表 record that carries the patient's totals rather than a service.
pub const TOTAL: &str = "合計";

/// 第7表's 合計 record (UPBEPYO, the 別表's 区分支給限度管理 total line; our reading): the same
/// 25 columns as a service record, so one file holds both, told apart by サービス内容/種類.
/// Its 単位数 is the 区分支給限度基準額 (units), and each amount is the sum of the patient's
/// service records of the file (`careplan::totals` checks that). The columns a total has no
/// value for (the provider, the code, the price, the rates) stay blank.
pub const USAGE7_TOTAL: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("month", "対象年月", Kind::Month, true),
        col("", "事業所番号", Kind::Blank, false),
        col("", "事業所名", Kind::Blank, false),
        col("", "サービスコード", Kind::Blank, false),
        col("service_name", "サービス内容/種類", Kind::Code(&[TOTAL]), true),
        col("limit_units", "区分支給限度基準額(単位)", Kind::Int(7), true),
        col("", "割引後率(%)", Kind::Blank, false),
        col("", "割引後単位数", Kind::Blank, false),
        col("", "回数", Kind::Blank, false),
        col("service_units", "サービス単位/金額 合計", Kind::Int(9), true),
        col("over_type_limit", "種類支給限度基準を超える単位数 合計", Kind::Int(9), false),
        col("within_type_limit", "種類支給限度基準内単位数 合計", Kind::Int(9), false),
        col("over_limit", "区分支給限度基準を超える単位数 合計", Kind::Int(9), false),
        col("within_limit", "区分支給限度基準内単位数 合計", Kind::Int(9), false),
        col("", "単位数単価", Kind::Blank, false),
        col("total_cost", "費用総額(保険/事業対象分) 合計", Kind::Int(10), true),
        col("", "給付率(%)", Kind::Blank, false),
        col("benefit", "保険/事業費請求額 合計", Kind::Int(10), true),
        col("copay", "利用者負担(保険/事業対象分) 合計", Kind::Int(10), true),
        col("copay_full", "利用者負担(全額負担分) 合計", Kind::Int(10), false),
        VENDOR,
        IDENTIFIER,
    ]
};

/// 居宅サービス計画1表_削除 (UP1KYODEL): ends the plan filed for the patient.
pub const PLAN1_DELETE: &[Column] = &{
    let [a, b, c] = lead();
    [a, b, c, col("plan_date", "居宅サービス計画作成(変更)日", Kind::Date, true)]
};

/// 第6表_削除 (UPPLANDEL) and 実績_削除 (UPJSKDEL): ends the month's plan or a provider's actuals.
pub const USAGE_DELETE: &[Column] = &{
    let [a, b, c] = lead();
    [
        a,
        b,
        c,
        col("month", "対象年月", Kind::Month, true),
        col("provider_number", "サービス事業者事業所番号", Kind::Digits(10), false),
    ]
};
