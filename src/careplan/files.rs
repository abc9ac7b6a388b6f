//! The kinds of file and their names: `<PREFIX>[_<対象年月>]_<送信元事業所番号>_<送信先事業所番号>_<作成日時>.CSV`.
//! The files of one send unit (送信単位) carry the same 作成日時 (the specification's ファイル連番).

use super::columns::{self, Column};

/// The CSV versions this implementation reads and writes (CSVバージョン, every file's first
/// column). One place to add a version when the specification revises the layout.
pub const CSV_VERSIONS: &[&str] = &["202306"];
/// The version our exports carry.
pub const CSV_VERSION: &str = "202306";

/// A kind of exchange file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    /// 利用者補足情報
    Supplement,
    /// 居宅サービス計画1表
    Plan1,
    /// 居宅サービス計画2表
    Plan2,
    /// 居宅サービス計画1表_削除
    Plan1Delete,
    /// 第6表 (サービス利用票) 予定
    Usage6,
    /// 第7表 (サービス利用票別表)
    Usage7,
    /// 第6表 実績情報 (the provider's, back to the office)
    Actual,
    /// 第6表 予定_削除
    Usage6Delete,
    /// 実績情報_削除
    ActualDelete,
}

impl FileKind {
    pub const ALL: [FileKind; 9] = [
        Self::Supplement,
        Self::Plan1,
        Self::Plan2,
        Self::Plan1Delete,
        Self::Usage6,
        Self::Usage7,
        Self::Actual,
        Self::Usage6Delete,
        Self::ActualDelete,
    ];

    /// The file name's prefix. UPHOSOKU, UP1KYO, UP2KYO, UPPLAN and UPJSK are the
    /// specification's; the 7表's and the deletions' are our reading.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Supplement => "UPHOSOKU",
            Self::Plan1 => "UP1KYO",
            Self::Plan2 => "UP2KYO",
            Self::Plan1Delete => "UP1KYODEL",
            Self::Usage6 => "UPPLAN",
            Self::Usage7 => "UPBEPYO",
            Self::Actual => "UPJSK",
            Self::Usage6Delete => "UPPLANDEL",
            Self::ActualDelete => "UPJSKDEL",
        }
    }

    /// Whether the name carries a 対象年月 (UPHOSOKU carries `000000` when sent with a plan).
    pub fn monthly(self) -> bool {
        !matches!(self, Self::Plan1 | Self::Plan2 | Self::Plan1Delete)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Supplement => columns::SUPPLEMENT,
            Self::Plan1 => columns::PLAN1,
            Self::Plan2 => columns::PLAN2,
            Self::Plan1Delete => columns::PLAN1_DELETE,
            Self::Usage6 | Self::Actual => columns::USAGE6,
            Self::Usage7 => columns::USAGE7,
            Self::Usage6Delete | Self::ActualDelete => columns::USAGE_DELETE,
        }
    }

    /// The columns of one record whose サービス内容/種類 is `service_name`: a 7表 record is a
    /// service, or with `合計` the patient's totals (the same count of columns, read otherwise).
    pub fn record_columns(self, service_name: Option<&str>) -> &'static [Column] {
        match self {
            Self::Usage7 if service_name == Some(columns::TOTAL) => columns::USAGE7_TOTAL,
            _ => self.columns(),
        }
    }

    /// The specification's name of the file, for messages.
    pub fn title(self) -> &'static str {
        match self {
            Self::Supplement => "利用者補足情報",
            Self::Plan1 => "居宅サービス計画1表",
            Self::Plan2 => "居宅サービス計画2表",
            Self::Plan1Delete => "居宅サービス計画1表_削除",
            Self::Usage6 => "第6表(サービス利用票)予定",
            Self::Usage7 => "第7表(サービス利用票別表)",
            Self::Actual => "第6表実績情報",
            Self::Usage6Delete => "第6表(サービス利用票)予定削除",
            Self::ActualDelete => "第6表実績情報削除",
        }
    }
}

/// A file name as the convention has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    pub kind: FileKind,
    /// 対象年月 `YYYYMM` (`000000` on a supplement sent with a plan); `None` for kinds without one.
    pub month: Option<String>,
    /// 送信元の事業所番号 (10 digits).
    pub from: String,
    /// 送信先の事業所番号 (10 digits).
    pub to: String,
    /// 作成日時 `YYYYMMDDHHMMSS`: the send unit's serial.
    pub created: String,
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

impl FileName {
    /// Reads a name; the message says what is wrong with it.
    pub fn parse(name: &str) -> Result<Self, String> {
        let stem = name
            .strip_suffix(".CSV")
            .or_else(|| name.strip_suffix(".csv"))
            .ok_or_else(|| "the file name must end in .CSV".to_owned())?;
        let parts: Vec<&str> = stem.split('_').collect();
        let kind = FileKind::ALL
            .into_iter()
            .find(|k| parts.first() == Some(&k.prefix()))
            .ok_or_else(|| format!("unknown file kind {:?}", parts.first().copied().unwrap_or_default()))?;
        let expected = if kind.monthly() { 5 } else { 4 };
        if parts.len() != expected {
            let shape = if kind.monthly() { "_<対象年月>" } else { "" };
            return Err(format!("the name must be {}{shape}_<送信元>_<送信先>_<作成日時>.CSV", kind.prefix()));
        }
        let rest = &parts[parts.len() - 3..];
        let month = kind.monthly().then(|| parts[1].to_owned());
        if let Some(m) = &month
            && !(digits(m, 6) && (m == "000000" || month_ok(m)))
        {
            return Err(format!("対象年月 {m:?} must be YYYYMM"));
        }
        if !digits(rest[0], 10) || !digits(rest[1], 10) {
            return Err("送信元 and 送信先 must be 10-digit 事業所番号".into());
        }
        if !digits(rest[2], 14) {
            return Err("作成日時 must be YYYYMMDDHHMMSS (14 digits)".into());
        }
        Ok(Self { kind, month, from: rest[0].to_owned(), to: rest[1].to_owned(), created: rest[2].to_owned() })
    }

    /// The name as the convention writes it.
    pub fn format(&self) -> String {
        let month = self.month.as_deref().map(|m| format!("_{m}")).unwrap_or_default();
        format!("{}{month}_{}_{}_{}.CSV", self.kind.prefix(), self.from, self.to, self.created)
    }
}

fn month_ok(m: &str) -> bool {
    m[4..].parse::<u8>().is_ok_and(|mm| (1..=12).contains(&mm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_and_write() {
        let name = "UPPLAN_201912_0300000100_0300000005_20191025200201.CSV";
        let parsed = FileName::parse(name).unwrap();
        assert_eq!(parsed.kind, FileKind::Usage6);
        assert_eq!(parsed.month.as_deref(), Some("201912"));
        assert_eq!(parsed.format(), name);
        let plan = FileName::parse("UP2KYO_0300000100_0300000005_20191110102233.CSV").unwrap();
        assert_eq!(plan.kind, FileKind::Plan2);
        assert!(FileName::parse("UPPLAN_0300000100_0300000005_20191025200201.CSV").is_err());
        assert!(FileName::parse("UPXXX_201912_0300000100_0300000005_20191025200201.CSV").is_err());
        assert!(FileName::parse("UPPLAN_201913_0300000100_0300000005_20191025200201.CSV").is_err());
        assert!(FileName::parse("UPHOSOKU_000000_0300000100_0300000005_20191025200201.CSV").is_ok());
    }
}
