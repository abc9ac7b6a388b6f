//! サービス種類コード: the first two characters of a 介護サービスコード (the other four, the
//! サービス項目コード, are the 介護給付費単位数等サービスコード表's, which change with every fee
//! revision and are not checked here beyond their shape: four digits or capital letters).
//! The table holds the service types of the national code list that a home-care plan can name
//! (居宅サービス, 地域密着型サービス, 介護予防, 居宅介護支援 and 総合事業); a code with another
//! type is refused as unknown.

/// (code, name) of every service type a plan or a usage file may name.
pub const SERVICE_TYPES: &[(&str, &str)] = &[
    ("11", "訪問介護"),
    ("12", "訪問入浴介護"),
    ("13", "訪問看護"),
    ("14", "訪問リハビリテーション"),
    ("15", "通所介護"),
    ("16", "通所リハビリテーション"),
    ("17", "福祉用具貸与"),
    ("21", "短期入所生活介護"),
    ("22", "短期入所療養介護(介護老人保健施設)"),
    ("23", "短期入所療養介護(病院等)"),
    ("2A", "短期入所療養介護(介護医療院)"),
    ("24", "介護予防短期入所生活介護"),
    ("25", "介護予防短期入所療養介護(介護老人保健施設)"),
    ("26", "介護予防短期入所療養介護(病院等)"),
    ("2B", "介護予防短期入所療養介護(介護医療院)"),
    ("27", "特定施設入居者生活介護(短期利用)"),
    ("28", "地域密着型特定施設入居者生活介護(短期利用)"),
    ("31", "居宅療養管理指導"),
    ("33", "特定施設入居者生活介護"),
    ("34", "介護予防居宅療養管理指導"),
    ("35", "介護予防特定施設入居者生活介護"),
    ("38", "認知症対応型共同生活介護(短期利用)"),
    ("39", "介護予防認知症対応型共同生活介護(短期利用)"),
    ("43", "居宅介護支援"),
    ("46", "介護予防支援"),
    ("62", "介護予防訪問入浴介護"),
    ("63", "介護予防訪問看護"),
    ("64", "介護予防訪問リハビリテーション"),
    ("66", "介護予防通所リハビリテーション"),
    ("67", "介護予防福祉用具貸与"),
    ("68", "小規模多機能型居宅介護(短期利用)"),
    ("69", "介護予防小規模多機能型居宅介護(短期利用)"),
    ("71", "夜間対応型訪問介護"),
    ("72", "認知症対応型通所介護"),
    ("73", "小規模多機能型居宅介護"),
    ("74", "介護予防認知症対応型通所介護"),
    ("75", "介護予防小規模多機能型居宅介護"),
    ("76", "定期巡回・随時対応型訪問介護看護"),
    ("77", "看護小規模多機能型居宅介護"),
    ("78", "地域密着型通所介護"),
    ("79", "看護小規模多機能型居宅介護(短期利用)"),
    ("A1", "訪問型サービス(みなし)"),
    ("A2", "訪問型サービス(独自)"),
    ("A3", "訪問型サービス(独自／定率)"),
    ("A4", "訪問型サービス(独自／定額)"),
    ("A5", "通所型サービス(みなし)"),
    ("A6", "通所型サービス(独自)"),
    ("A7", "通所型サービス(独自／定率)"),
    ("A8", "通所型サービス(独自／定額)"),
    ("A9", "その他の生活支援サービス(配食／定率)"),
    ("AA", "その他の生活支援サービス(配食／定額)"),
    ("AB", "その他の生活支援サービス(見守り／定率)"),
    ("AC", "その他の生活支援サービス(見守り／定額)"),
    ("AD", "その他の生活支援サービス(その他／定率)"),
    ("AE", "その他の生活支援サービス(その他／定額)"),
    ("AF", "介護予防ケアマネジメント"),
];

/// The name of a service type, if the table has it.
pub fn name_of(code: &str) -> Option<&'static str> {
    SERVICE_TYPES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Why a 介護サービスコード is not one, or `None`: six characters, a known type, four digits or
/// capital letters after it.
pub fn code_problem(code: &str) -> Option<String> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
        return Some("must be a 6-character サービスコード (種類 2 + 項目 4)".into());
    }
    match name_of(&code[..2]) {
        Some(_) => None,
        None => Some(format!("unknown サービス種類コード {}", &code[..2])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_by_their_type() {
        assert_eq!(code_problem("111111"), None);
        assert_eq!(code_problem("A21214"), None);
        assert!(code_problem("991111").is_some());
        assert!(code_problem("11111").is_some());
        assert!(code_problem("11ab11").is_some());
        assert_eq!(name_of("43"), Some("居宅介護支援"));
    }
}
