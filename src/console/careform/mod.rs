//! A document's content as a readable form: sections in the schema's order, labels from the
//! schema's bilingual `description`s ("English / 日本語"), withheld values shown as withheld.
//! Also the field-by-field difference between two versions.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Lang;
use super::i18n::label;
use crate::schemas::Registry;

mod labels;
mod order;

/// HTML-escapes text for an element's content or a quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A schema and the shared definitions its `$ref`s point into.
pub struct Form<'a> {
    root: &'a Value,
    lang: Lang,
    /// The top-level properties in the order the schema file writes them (the parsed schema's
    /// map is sorted by name).
    order: Vec<&'a str>,
}

/// The shared definitions (`common/{version}`), which the registry compiles into the validators
/// but does not list as a document type; each version parsed once from the embedded copy.
fn common(version: &str) -> Option<&'static Value> {
    static COMMON: std::sync::OnceLock<Vec<(String, Value)>> = std::sync::OnceLock::new();
    let all = COMMON.get_or_init(|| {
        crate::schemas::EMBEDDED
            .iter()
            .filter_map(|(path, text)| {
                let version = path.strip_prefix("common/")?.strip_suffix(".json")?;
                Some((version.to_owned(), serde_json::from_str(text).ok()?))
            })
            .collect()
    });
    all.iter().find(|(v, _)| v == version).map(|(_, schema)| schema)
}

impl<'a> Form<'a> {
    pub fn new(registry: &'a Registry, doc_type: &str, version: &str, lang: Lang) -> Option<Self> {
        let root = &registry.get(doc_type, version)?.schema;
        let text = crate::schemas::EMBEDDED
            .iter()
            .find(|(path, _)| *path == format!("{doc_type}/{version}.json"))
            .map_or("", |(_, text)| *text);
        let mut order: Vec<&str> = root
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        order.sort_by_key(|key| text.find(&format!("\"{key}\"")).unwrap_or(usize::MAX));
        Some(Self { root, lang, order })
    }

    /// The node a `$ref` names (only refs into a common schema's `$defs` are followed, each into
    /// the version it names).
    fn resolve<'n>(&self, node: &'n Value) -> &'n Value
    where
        'a: 'n,
    {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else { return node };
        let name = reference.rsplit('/').next().unwrap_or_default();
        let version = reference.split("/common/").nth(1).and_then(|rest| rest.split(".json").next()).unwrap_or("1.0.0");
        common(version).and_then(|c| c.pointer(&format!("/$defs/{name}"))).unwrap_or(node)
    }

    /// The kind a coded value of `key` is looked up under: the shared definition it belongs to
    /// and the key (`infection.status`), so that a word that means two things means the right one.
    fn kind_of(node: Option<&Value>, key: &str) -> String {
        let def = node.and_then(|n| n.get("$ref")).and_then(Value::as_str).and_then(|r| r.rsplit('/').next());
        format!("{}.{key}", def.unwrap_or_default())
    }

    fn child<'n>(&self, node: Option<&'n Value>, key: &str) -> Option<&'n Value>
    where
        'a: 'n,
    {
        let node = self.resolve(node?);
        match key.parse::<usize>() {
            _ if key == "*" => node.get("items"),
            Ok(_) if node.get("items").is_some() => node.get("items"),
            _ => node.get("properties")?.get(key),
        }
    }

    /// The label of a property node, in the page's language; the key when it has none.
    fn label(&self, node: Option<&Value>, key: &str) -> String {
        if let Some(label) = labels::label(self.lang, key) {
            return label.to_owned();
        }
        let text = node
            .and_then(|n| n.get("description").and_then(Value::as_str))
            .or_else(|| node.map(|n| self.resolve(n)).and_then(|n| n.get("description").and_then(Value::as_str)));
        let Some(text) = text else { return key.to_owned() };
        let (en, ja) = text.rsplit_once(" / ").unwrap_or((text, text));
        let short = match self.lang {
            Lang::Ja => ja.split('（').next().unwrap_or(ja),
            Lang::En => en.split([':', '(']).next().unwrap_or(en),
        };
        short.trim().to_owned()
    }

    /// The whole content as sections; `withheld` holds the JSON pointers withheld from the caller.
    pub fn render(&self, content: &Value, withheld: &[String]) -> String {
        let mut html = String::new();
        let Some(props) = self.root.get("properties").and_then(Value::as_object) else { return html };
        for key in &self.order {
            let Some(node) = props.get(*key) else { continue };
            let pointer = format!("/{key}");
            let value = content.get(key).filter(|v| !v.is_null());
            let hidden = withheld.iter().any(|w| w == &pointer || w.starts_with(&format!("{pointer}/")));
            if value.is_none() && !hidden {
                continue;
            }
            html.push_str(&format!("<section class=\"field-section\"><h3>{}</h3>", esc(&self.label(Some(node), key))));
            html.push_str(&self.value(Some(node), value, &pointer, withheld, Field { key, kind: key.to_string() }));
            html.push_str("</section>");
        }
        html
    }

    fn withheld_badge(&self, pointer: &str) -> String {
        format!(
            "<span class=\"withheld\" data-withheld=\"{}\" title=\"{}\">{}</span>",
            esc(pointer),
            label(self.lang, "withheld_note"),
            label(self.lang, "withheld")
        )
    }

    fn value(
        &self,
        node: Option<&'a Value>,
        value: Option<&Value>,
        pointer: &str,
        withheld: &[String],
        field: Field,
    ) -> String {
        if withheld.iter().any(|w| w == pointer) {
            return self.withheld_badge(pointer);
        }
        let resolved = node.map(|n| self.resolve(n));
        match value {
            None | Some(Value::Null) => String::new(),
            Some(Value::Object(map)) => {
                let mut keys: Vec<&str> = Vec::new();
                if let Some(props) = resolved.and_then(|n| n.get("properties")).and_then(Value::as_object) {
                    keys.extend(props.keys().map(String::as_str));
                }
                keys = order::in_schema_order(&keys);
                keys.extend(map.keys().map(String::as_str).filter(|k| !keys.contains(k)).collect::<Vec<_>>());
                let mut html = String::from("<dl class=\"fields\">");
                for key in keys {
                    let child_pointer = format!("{pointer}/{key}");
                    let child_value = map.get(key).filter(|v| !v.is_null());
                    if child_value.is_none() && !withheld.contains(&child_pointer) {
                        continue;
                    }
                    let child = self.child(node, key);
                    let kind = Self::kind_of(node, key);
                    html.push_str(&format!(
                        "<div><dt>{}</dt><dd>{}</dd></div>",
                        esc(&self.label(child, key)),
                        self.value(child, child_value, &child_pointer, withheld, Field { key, kind })
                    ));
                }
                html.push_str("</dl>");
                html
            }
            Some(Value::Array(items)) => {
                let item_node = resolved.and_then(|n| n.get("items"));
                let mut html = String::from("<ol class=\"items\">");
                for (i, item) in items.iter().enumerate() {
                    let item_field = Field { key: field.key, kind: field.kind.clone() };
                    html.push_str(&format!(
                        "<li>{}</li>",
                        self.value(item_node, Some(item), &format!("{pointer}/{i}"), withheld, item_field)
                    ));
                }
                html.push_str("</ol>");
                html
            }
            Some(Value::Bool(b)) => label(self.lang, if *b { "yes" } else { "no" }).to_owned(),
            Some(Value::String(s)) => esc(&self.text(resolved, s, &field)),
            Some(Value::Number(n)) => match labels::unit(field.key) {
                Some(unit) => esc(&format!("{n} {unit}")),
                None => esc(&n.to_string()),
            },
        }
    }

    /// A string as a reader wants it: a coded value as its word, a date as a date is written,
    /// a postal code after 〒; anything else as it is.
    fn text(&self, node: Option<&Value>, s: &str, field: &Field) -> String {
        let enumerated = node.and_then(|n| n.get("enum").or_else(|| n.get("items").and_then(|i| i.get("enum"))));
        if enumerated.is_some() {
            return super::words::say(self.lang, &field.kind, s).to_owned();
        }
        if field.key.ends_with("postal_code") {
            return format!("〒{s}");
        }
        match crate::clock::parse_day(s) {
            Some(day) if s.len() == 10 => super::format::long_date(self.lang, day),
            _ => s.to_owned(),
        }
    }

    /// The document type's name from the schema's `title` ("Care path 1.1.0 (地域連携パス)"):
    /// the part in brackets in Japanese, the part before the version in English.
    pub fn title(&self) -> String {
        let text = self.root.get("title").and_then(Value::as_str).unwrap_or_default();
        let ja = text.split_once('(').and_then(|(_, rest)| rest.rsplit_once(')')).map(|(inside, _)| inside);
        let en = text.split(|c: char| c.is_ascii_digit()).next().unwrap_or(text);
        match (self.lang, ja) {
            (Lang::Ja, Some(ja)) => ja.trim().to_owned(),
            _ => en.trim().to_owned(),
        }
    }

    /// A pointer as a path of labels, e.g. "服用薬 › 2 › 薬剤名"; a schema path's `*` (every
    /// element, as item fill names fields) is passed over: "服用薬 › 薬剤名".
    pub fn path_label(&self, pointer: &str) -> String {
        let mut node = Some(self.root);
        let mut parts = Vec::new();
        for segment in pointer.split('/').skip(1) {
            node = self.child(node, segment);
            if segment == "*" {
                continue;
            }
            match segment.parse::<usize>() {
                Ok(i) => parts.push((i + 1).to_string()),
                Err(_) => parts.push(self.label(node, segment)),
            }
        }
        parts.join(" › ")
    }
}

/// The field a value is shown for: its key (for its unit) and the kind its coded values are
/// looked up under.
struct Field<'k> {
    key: &'k str,
    kind: String,
}

/// Every leaf of `value` by JSON pointer, as text.
pub fn flatten(value: &Value) -> BTreeMap<String, String> {
    fn walk(value: &Value, pointer: String, out: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), out);
                }
            }
            Value::String(s) => {
                out.insert(pointer, s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(pointer, other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

/// One changed field between two versions.
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The fields that differ between `old` and `new`, in pointer order.
pub fn diff(form: Option<&Form>, old: &Value, new: &Value) -> Vec<Change> {
    let (old, new) = (flatten(old), flatten(new));
    let mut pointers: Vec<&String> = old.keys().chain(new.keys()).collect();
    pointers.sort();
    pointers.dedup();
    pointers
        .into_iter()
        .filter(|p| old.get(*p) != new.get(*p))
        .map(|p| Change {
            field: form.map_or_else(|| p.clone(), |f| f.path_label(p)),
            before: old.get(p).cloned(),
            after: new.get(p).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn diff_names_added_removed_and_changed_leaves() {
        let old = json!({"a": "1", "b": [1, 2], "c": {"d": true}});
        let new = json!({"a": "2", "b": [1], "c": {"d": true}, "e": "x"});
        let changes = diff(None, &old, &new);
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["/a", "/b/1", "/e"]);
        assert_eq!(changes[1].after, None);
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn sections_follow_the_schema_with_japanese_labels_and_withheld_fields_marked() {
        let registry = Registry::load(None).unwrap();
        let form = Form::new(&registry, "care-path", "1.1.0", Lang::Ja).unwrap();
        let content =
            json!({"notes": "<b>x</b>", "care_level": "care_2", "medications": [{"name": "A", "dose": "1錠"}]});
        let html = form.render(&content, &["/infections".to_owned()]);
        assert!(html.contains("<h3>要介護度</h3>"), "{html}");
        assert!(html.contains("data-withheld=\"/infections\""), "{html}");
        assert!(html.contains(">非開示</span>"));
        assert!(html.find("要介護度") < html.find("data-withheld"), "schema order: {html}");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x"), "content is escaped");
        assert_eq!(form.path_label("/medications/0/dose"), "服用薬 › 1 › 1回量");
        let en = Form::new(&registry, "care-path", "1.1.0", Lang::En).unwrap();
        assert!(en.render(&content, &[]).contains("<h3>Care level</h3>"));
    }

    #[test]
    fn nested_fields_in_schema_order_coded_values_as_words_and_numbers_with_units() {
        let registry = Registry::load(None).unwrap();
        let form = Form::new(&registry, "care-path", "1.1.0", Lang::Ja).unwrap();
        let content = json!({
            "care_level": "care_5",
            "adl": {"eating": "partial_assistance"},
            "certification_period": {"start": "2026-04-01", "end": "2027-03-31"},
            "infections": [{"name": "MRSA", "status": "active"}],
            "nutrition": {"height_cm": 152, "weight_kg": 41.5},
        });
        let html = form.render(&content, &[]);
        for wire in ["care_5", "partial_assistance", ">active<", "2026-04-01"] {
            assert!(!html.contains(wire), "the wire word {wire} is shown: {html}");
        }
        assert!(html.contains("要介護5") && html.contains("一部介助"), "{html}");
        assert!(html.contains("感染あり"), "an infection's active is its own word: {html}");
        assert!(html.contains("2026年4月1日"), "{html}");
        assert!(html.find("2026年4月1日") < html.find("2027年3月31日"), "start before end: {html}");
        assert!(html.contains("152 cm"), "{html}");
    }
}
