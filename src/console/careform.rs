//! A document's content as a readable form: sections in the schema's order, labels from the
//! schema's bilingual `description`s ("English / 日本語"), withheld values shown as withheld.
//! Also the field-by-field difference between two versions.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Lang;
use super::i18n::label;
use crate::schemas::Registry;

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
    common: Option<&'static Value>,
    lang: Lang,
    /// The top-level properties in the order the schema file writes them (the parsed schema's
    /// map is sorted by name).
    order: Vec<&'a str>,
}

/// The shared definitions (`common/1.0.0`), which the registry compiles into the validators but
/// does not list as a document type; parsed once from the embedded copy.
fn common() -> Option<&'static Value> {
    static COMMON: std::sync::OnceLock<Option<Value>> = std::sync::OnceLock::new();
    COMMON
        .get_or_init(|| {
            crate::schemas::EMBEDDED
                .iter()
                .find(|(path, _)| *path == "common/1.0.0.json")
                .and_then(|(_, text)| serde_json::from_str(text).ok())
        })
        .as_ref()
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
        Some(Self { root, common: common(), lang, order })
    }

    /// The node a `$ref` names (only refs into the common schema's `$defs` are followed).
    fn resolve<'n>(&self, node: &'n Value) -> &'n Value
    where
        'a: 'n,
    {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else { return node };
        let name = reference.rsplit('/').next().unwrap_or_default();
        self.common.and_then(|c| c.pointer(&format!("/$defs/{name}"))).unwrap_or(node)
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
            html.push_str(&self.value(Some(node), value, &pointer, withheld));
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

    fn value(&self, node: Option<&'a Value>, value: Option<&Value>, pointer: &str, withheld: &[String]) -> String {
        if withheld.iter().any(|w| w == pointer) {
            return self.withheld_badge(pointer);
        }
        let resolved = node.map(|n| self.resolve(n));
        match value {
            None | Some(Value::Null) => String::new(),
            Some(Value::Object(map)) => {
                let mut keys: Vec<&String> = Vec::new();
                if let Some(props) = resolved.and_then(|n| n.get("properties")).and_then(Value::as_object) {
                    keys.extend(props.keys());
                }
                keys.extend(map.keys().filter(|k| !keys.contains(k)).collect::<Vec<_>>());
                let mut html = String::from("<dl class=\"fields\">");
                for key in keys {
                    let child_pointer = format!("{pointer}/{key}");
                    let child_value = map.get(key).filter(|v| !v.is_null());
                    if child_value.is_none() && !withheld.contains(&child_pointer) {
                        continue;
                    }
                    let child = self.child(node, key);
                    html.push_str(&format!(
                        "<div><dt>{}</dt><dd>{}</dd></div>",
                        esc(&self.label(child, key)),
                        self.value(child, child_value, &child_pointer, withheld)
                    ));
                }
                html.push_str("</dl>");
                html
            }
            Some(Value::Array(items)) => {
                let item_node = resolved.and_then(|n| n.get("items"));
                let mut html = String::from("<ol class=\"items\">");
                for (i, item) in items.iter().enumerate() {
                    html.push_str(&format!(
                        "<li>{}</li>",
                        self.value(item_node, Some(item), &format!("{pointer}/{i}"), withheld)
                    ));
                }
                html.push_str("</ol>");
                html
            }
            Some(Value::Bool(b)) => label(self.lang, if *b { "yes" } else { "no" }).to_owned(),
            Some(Value::String(s)) => esc(s),
            Some(other) => esc(&other.to_string()),
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
}
