//! The schema registry: every document type and version, compiled once at start from the schemas
//! embedded in the binary (plus an optional regional directory), with the places that their
//! `x-carepath-sensitivity` annotations mark.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

/// The annotation that marks patient information in a schema.
pub const SENSITIVITY: &str = "x-carepath-sensitivity";
/// Folder of shared definitions: registered for `$ref`, not a document type.
const COMMON: &str = "common";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Identifying,
    Clinical,
    Restricted,
}

/// One step of a marked place: an object member, or every element of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    AnyIndex,
}

/// A place in documents of one schema that carries patient information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    pub path: Vec<Step>,
    pub sensitivity: Sensitivity,
}

/// `major.minor.patch`, ordered numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64, pub u64, pub u64);

impl Version {
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts =
            s.split('.').map(|p| if p.is_empty() || p.len() > 1 && p.starts_with('0') { None } else { p.parse().ok() });
        let v = Self(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

pub struct SchemaEntry {
    pub doc_type: String,
    pub version: Version,
    pub schema: Value,
    pub marked: Vec<Marked>,
    /// Every field the schema names, in schema order (see [`field_paths`]).
    pub fields: Vec<FieldPath>,
    validator: jsonschema::Validator,
}

/// A field of a schema as the item-fill report names it: a JSON Pointer whose array steps are
/// `*` (`/medications/*/dose`). A sealed field is a leaf: its subtree is stored as one ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub path: String,
    pub sealed: bool,
}

impl SchemaEntry {
    /// The validation errors, each located by a pointer into the request body (`/content/...`):
    /// the first `MAX_REPORTED_ERRORS`, then one entry counting the rest.
    pub fn validate(&self, content: &Value) -> Vec<FieldError> {
        FieldError::capped(
            self.validator
                .iter_errors(content)
                .map(|e| FieldError::new(format!("/content{}", e.instance_path().as_str()), e.to_string())),
        )
    }
}

/// Why the registry could not be built; names the file.
#[derive(Debug, thiserror::Error)]
#[error("schema {file}: {problem}")]
pub struct SchemaError {
    pub file: String,
    pub problem: String,
}

pub struct Registry {
    entries: BTreeMap<(String, Version), SchemaEntry>,
}

fn err(file: &str, problem: impl std::fmt::Display) -> SchemaError {
    SchemaError { file: file.to_owned(), problem: problem.to_string() }
}

impl Registry {
    /// Compiles the embedded schemas and, if given, those in `extra_dir` (same layout:
    /// `<type>/<major.minor.patch>.json`), which may add types and versions but not replace one.
    pub fn load(extra_dir: Option<&Path>) -> Result<Self, SchemaError> {
        let mut files: Vec<(String, String)> =
            EMBEDDED.iter().map(|(p, c)| ((*p).to_owned(), (*c).to_owned())).collect();
        if let Some(dir) = extra_dir {
            files.extend(read_dir_files(dir)?);
        }
        let mut parsed = Vec::new();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for (rel, text) in files {
            let Some((ty, file)) = rel.split_once('/') else { continue };
            let Some(version) = file.strip_suffix(".json").and_then(Version::parse) else { continue };
            let ty = ty.to_owned();
            let schema: Value = serde_json::from_str(&text).map_err(|e| err(&rel, format!("not JSON: {e}")))?;
            let id = schema.get("$id").and_then(Value::as_str).ok_or_else(|| err(&rel, "has no $id"))?;
            by_id.insert(id.to_owned(), schema.clone());
            parsed.push((rel, ty, version, schema));
        }
        let mut registry = jsonschema::Registry::new();
        for (id, schema) in &by_id {
            registry = registry.add(id.as_str(), schema.clone()).map_err(|e| err(id, e))?;
        }
        let registry = registry.prepare().map_err(|e| err("(registry)", e))?;

        let mut entries = BTreeMap::new();
        for (rel, ty, version, schema) in parsed {
            if ty == COMMON {
                continue;
            }
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(&schema)
                .map_err(|e| err(&rel, e))?;
            let marked = marked_places(&schema, &by_id).map_err(|e| err(&rel, e))?;
            let fields = field_paths(&schema, &by_id).map_err(|e| err(&rel, e))?;
            if entries.contains_key(&(ty.clone(), version)) {
                return Err(err(&rel, "this type and version already exist"));
            }
            entries.insert(
                (ty.clone(), version),
                SchemaEntry { doc_type: ty, version, schema, marked, fields, validator },
            );
        }
        Ok(Self { entries })
    }

    pub fn get(&self, doc_type: &str, version: &str) -> Option<&SchemaEntry> {
        self.entries.get(&(doc_type.to_owned(), Version::parse(version)?))
    }

    pub fn has_type(&self, doc_type: &str) -> bool {
        self.entries.keys().any(|(t, _)| t == doc_type)
    }

    /// Types with their versions, oldest first.
    pub fn types(&self) -> BTreeMap<&str, Vec<String>> {
        let mut out: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (ty, version) in self.entries.keys() {
            out.entry(ty.as_str()).or_default().push(version.to_string());
        }
        out
    }
}

fn read_dir_files(dir: &Path) -> Result<Vec<(String, String)>, SchemaError> {
    let mut out = Vec::new();
    let types = std::fs::read_dir(dir).map_err(|e| err(&dir.display().to_string(), e))?;
    for ty in types.flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).map_err(|e| err(&path.display().to_string(), e))?;
                out.push((
                    format!("{}/{}", ty.file_name().to_string_lossy(), file.file_name().to_string_lossy()),
                    text,
                ));
            }
        }
    }
    Ok(out)
}

/// Walks a schema (following `$ref` into shared definitions) and lists the places it marks.
/// A mark covers its whole subtree, so the walk stops there.
fn marked_places(schema: &Value, by_id: &HashMap<String, Value>) -> Result<Vec<Marked>, String> {
    let mut out = Vec::new();
    walk(schema, schema, by_id, &mut Vec::new(), &mut out, 0)?;
    Ok(out)
}

fn walk(
    node: &Value,
    doc: &Value,
    by_id: &HashMap<String, Value>,
    path: &mut Vec<Step>,
    out: &mut Vec<Marked>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err("schema nests or recurses deeper than 64 levels".into());
    }
    let Some(obj) = node.as_object() else { return Ok(()) };
    if let Some(mark) = obj.get(SENSITIVITY) {
        let sensitivity = serde_json::from_value(mark.clone())
            .map_err(|_| format!("{SENSITIVITY} must be identifying, clinical or restricted, not {mark}"))?;
        out.push(Marked { path: path.clone(), sensitivity });
        return Ok(());
    }
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        let (target_doc, target) =
            resolve(reference, doc, by_id).ok_or_else(|| format!("cannot resolve $ref {reference}"))?;
        walk(target, target_doc, by_id, path, out, depth + 1)?;
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            path.push(Step::Key(name.clone()));
            walk(sub, doc, by_id, path, out, depth + 1)?;
            path.pop();
        }
    }
    if let Some(items) = obj.get("items") {
        path.push(Step::AnyIndex);
        walk(items, doc, by_id, path, out, depth + 1)?;
        path.pop();
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for sub in obj.get(combinator).and_then(Value::as_array).into_iter().flatten() {
            walk(sub, doc, by_id, path, out, depth + 1)?;
        }
    }
    Ok(())
}

/// Every field path of a schema (following `$ref`), stopping at sealed places.
fn field_paths(schema: &Value, by_id: &HashMap<String, Value>) -> Result<Vec<FieldPath>, String> {
    let mut out = Vec::new();
    fields_walk(schema, schema, by_id, &mut String::new(), &mut out, 0)?;
    Ok(out)
}

fn fields_walk(
    node: &Value,
    doc: &Value,
    by_id: &HashMap<String, Value>,
    path: &mut String,
    out: &mut Vec<FieldPath>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err("schema nests or recurses deeper than 64 levels".into());
    }
    let Some(obj) = node.as_object() else { return Ok(()) };
    let sealed = obj.contains_key(SENSITIVITY);
    // An array's element (`/x/*`) is its own field only when sealed; otherwise `/x` says it.
    let named = !path.is_empty() && (sealed || !path.ends_with("/*"));
    match out.iter_mut().find(|f| f.path == *path) {
        Some(seen) => seen.sealed |= sealed,
        None if named => out.push(FieldPath { path: path.clone(), sealed }),
        None => {}
    }
    if sealed {
        return Ok(());
    }
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        let (target_doc, target) =
            resolve(reference, doc, by_id).ok_or_else(|| format!("cannot resolve $ref {reference}"))?;
        fields_walk(target, target_doc, by_id, path, out, depth + 1)?;
    }
    let len = path.len();
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            path.push('/');
            path.push_str(&name.replace('~', "~0").replace('/', "~1"));
            fields_walk(sub, doc, by_id, path, out, depth + 1)?;
            path.truncate(len);
        }
    }
    if let Some(items) = obj.get("items") {
        path.push_str("/*");
        fields_walk(items, doc, by_id, path, out, depth + 1)?;
        path.truncate(len);
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for sub in obj.get(combinator).and_then(Value::as_array).into_iter().flatten() {
            fields_walk(sub, doc, by_id, path, out, depth + 1)?;
        }
    }
    Ok(())
}

/// Resolves `#/json/pointer` within `doc`, or `<$id>#/json/pointer` within a registered schema.
fn resolve<'a>(reference: &str, doc: &'a Value, by_id: &'a HashMap<String, Value>) -> Option<(&'a Value, &'a Value)> {
    let (base, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    let target_doc = if base.is_empty() { doc } else { by_id.get(base)? };
    Some((target_doc, target_doc.pointer(fragment)?))
}
