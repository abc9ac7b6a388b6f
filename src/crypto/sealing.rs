//! Applies a schema's sensitivity marks to a document: every marked value is sealed on its own
//! before it is stored, and opened on the way out only for a caller who may see it. Values not
//! marked stay in clear, so the stored structure remains inspectable.

use serde_json::Value;

use crate::crypto::{CryptoError, DataKey, FieldContext, is_sealed};
use crate::schemas::{Marked, Sensitivity, Step};

/// Which document version the values belong to (bound into every ciphertext).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The patient whose data key seals the values.
    pub patient_id: &'a str,
    /// The document the values belong to.
    pub document_id: &'a str,
    /// The document version the values were sealed for.
    pub version: i64,
}

/// A document's content as a caller may see it.
#[derive(Debug)]
pub struct Opened {
    /// The document with every value this caller may not see left out.
    pub content: Value,
    /// Pointers (into `content`) of values withheld from this caller.
    pub withheld: Vec<String>,
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The concrete pointers in `value` that a marked path reaches (arrays expanded).
fn pointers(value: &Value, path: &[Step], at: String, out: &mut Vec<String>) {
    match path.split_first() {
        None => {
            if !value.is_null() {
                out.push(at);
            }
        }
        Some((Step::Key(k), rest)) => {
            if let Some(child) = value.as_object().and_then(|o| o.get(k)) {
                pointers(child, rest, format!("{at}/{}", escape(k)), out);
            }
        }
        Some((Step::AnyIndex, rest)) => {
            for (i, child) in value.as_array().into_iter().flatten().enumerate() {
                pointers(child, rest, format!("{at}/{i}"), out);
            }
        }
    }
}

fn marked_pointers(marked: &[Marked], content: &Value) -> Vec<(String, Sensitivity)> {
    let mut out = Vec::new();
    for mark in marked {
        let mut found = Vec::new();
        pointers(content, &mark.path, String::new(), &mut found);
        out.extend(found.into_iter().map(|p| (p, mark.sensitivity)));
    }
    out
}

/// Seals every marked value of `content`.
pub fn seal(marked: &[Marked], content: &Value, key: &DataKey, place: Place<'_>) -> Result<Value, CryptoError> {
    let mut sealed = content.clone();
    for (pointer, _) in marked_pointers(marked, content) {
        if let Some(slot) = sealed.pointer_mut(&pointer) {
            let at = FieldContext {
                patient_id: place.patient_id,
                document_id: place.document_id,
                version: place.version,
                pointer: &pointer,
            };
            *slot = Value::String(key.seal(&at, slot)?);
        }
    }
    Ok(sealed)
}

/// Opens the sealed values of a stored document. Restricted values stay closed and are removed
/// (their pointers listed in `withheld`) unless `restricted_cleared`.
pub fn open(
    marked: &[Marked],
    stored: &Value,
    key: &DataKey,
    place: Place<'_>,
    restricted_cleared: bool,
) -> Result<Opened, CryptoError> {
    let mut content = stored.clone();
    let mut withheld = Vec::new();
    for (pointer, sensitivity) in marked_pointers(marked, stored) {
        if sensitivity == Sensitivity::Restricted && !restricted_cleared {
            withhold(&mut content, &pointer);
            withheld.push(pointer);
            continue;
        }
        let Some(slot) = content.pointer_mut(&pointer) else { continue };
        let Some(text) = slot.as_str().filter(|s| is_sealed(s)) else { continue };
        let at = FieldContext {
            patient_id: place.patient_id,
            document_id: place.document_id,
            version: place.version,
            pointer: &pointer,
        };
        *slot = key.open(&at, text)?;
    }
    Ok(Opened { content, withheld })
}

/// Removes an object member; an array element becomes `null` so later indices keep their meaning.
fn withhold(content: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return };
    match content.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = Value::Null;
            }
        }
        _ => {}
    }
}

/// The restricted values of a stored document, opened, by pointer: exactly what `open` withholds
/// from a caller not cleared for them.
pub fn restricted(
    marked: &[Marked],
    stored: &Value,
    key: &DataKey,
    place: Place<'_>,
) -> Result<Vec<(String, Value)>, CryptoError> {
    let mut out = Vec::new();
    for (pointer, sensitivity) in marked_pointers(marked, stored) {
        if sensitivity != Sensitivity::Restricted {
            continue;
        }
        let Some(slot) = stored.pointer(&pointer) else { continue };
        let value = match slot.as_str().filter(|s| is_sealed(s)) {
            Some(text) => {
                let at = FieldContext {
                    patient_id: place.patient_id,
                    document_id: place.document_id,
                    version: place.version,
                    pointer: &pointer,
                };
                key.open(&at, text)?
            }
            None => slot.clone(),
        };
        out.push((pointer, value));
    }
    Ok(out)
}
