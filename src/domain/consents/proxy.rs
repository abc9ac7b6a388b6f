//! The family member who consents for a patient (代諾者): a coded relation that auditors may
//! see, and a name and optional note that stay sealed with the consent. The relation was free
//! text once, and people wrote names and phone numbers into it; a code cannot carry them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::fields::Errors;

/// The proxy's relation to the patient (続柄).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// 配偶者
    Spouse,
    /// 長男
    EldestSon,
    /// 長女
    EldestDaughter,
    /// 次男
    SecondSon,
    /// 次女
    SecondDaughter,
    /// 息子 (another son)
    Son,
    /// 娘 (another daughter)
    Daughter,
    /// 子の配偶者 (嫁・婿)
    ChildInLaw,
    /// 孫
    Grandchild,
    /// 親
    Parent,
    /// 兄弟姉妹
    Sibling,
    /// 甥・姪
    NephewNiece,
    /// その他の親族
    OtherRelative,
    /// 成年後見人
    Guardian,
    /// その他
    Other,
}

impl Relation {
    /// Every relation with its Japanese label, in declaration order.
    pub const ALL: [(Relation, &'static str); 15] = [
        (Self::Spouse, "配偶者"),
        (Self::EldestSon, "長男"),
        (Self::EldestDaughter, "長女"),
        (Self::SecondSon, "次男"),
        (Self::SecondDaughter, "次女"),
        (Self::Son, "息子"),
        (Self::Daughter, "娘"),
        (Self::ChildInLaw, "子の配偶者"),
        (Self::Grandchild, "孫"),
        (Self::Parent, "親"),
        (Self::Sibling, "兄弟姉妹"),
        (Self::NephewNiece, "甥・姪"),
        (Self::OtherRelative, "その他の親族"),
        (Self::Guardian, "成年後見人"),
        (Self::Other, "その他"),
    ];

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        Self::ALL.iter().find(|(r, _)| *r == self).map_or("その他", |(_, l)| l)
    }

    /// A stored relation: the wire word, or a free-text one of the old form read as its code
    /// when it is exactly a label, else `other` (its text is kept, sealed, as the note).
    fn stored(text: &str) -> Option<Self> {
        serde_json::from_value(Value::String(text.to_owned()))
            .ok()
            .or_else(|| Self::ALL.iter().find(|(_, l)| *l == text.trim()).map(|(r, _)| *r))
    }
}

/// A family member (or guardian) consenting for the patient.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Proxy {
    /// The family member's name, at most 200 characters. Sealed.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Their relation to the patient, coded: the only part of the proxy the consent log shows.
    pub relation: Relation,
    /// Anything more about them (how to reach them, who else was present), at most 500
    /// characters. Sealed with the name; never in the consent log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

impl Proxy {
    pub(super) fn check(&self, errors: &mut Errors) {
        errors.text("/proxy/name", &self.name, 200);
        if let Some(note) = &self.note {
            errors.text("/proxy/note", note, 500);
        }
    }

    /// A proxy as sealed, of either form: an old free-text relation becomes its code, or
    /// `other` with the text moved to the note (sealed as before, shown only with the consent).
    pub(super) fn from_stored(value: Value) -> Option<Self> {
        let name = value.get("name")?.as_str()?.to_owned();
        let text = value.get("relation")?.as_str()?;
        let mut note = value.get("note").and_then(Value::as_str).map(str::to_owned);
        let relation = Relation::stored(text).unwrap_or_else(|| {
            note = Some(note.take().map_or_else(|| text.to_owned(), |n| format!("{text} / {n}")));
            Relation::Other
        });
        Some(Self { name, relation, note })
    }
}
