//! Errors as FHIR speaks them: an `OperationOutcome` made from the problem every failure of
//! ours already is (`error::Problem`), so a FHIR route says exactly what the JSON API would,
//! in the shape FHIR clients read. Each field error becomes an issue whose `expression` names
//! the element (`Bundle.entry[0]`) or the search parameter (`_since`) it is about.

use serde_json::{Value, json};

/// The issue type (`http://hl7.org/fhir/issue-type`) of an HTTP status.
fn code(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid",
        401 => "login",
        403 => "forbidden",
        404 => "not-found",
        405 | 406 | 415 | 501 => "not-supported",
        409 | 412 => "conflict",
        410 => "deleted",
        413 | 431 => "too-long",
        428 => "required",
        429 => "throttled",
        503 => "transient",
        507 => "too-costly",
        _ if status >= 500 => "exception",
        _ => "processing",
    }
}

/// A JSON Pointer of ours as a FHIRPath-ish expression: `/query/_since` is the parameter
/// `_since`, `/entry/0/resource` is `entry[0].resource`.
pub fn expression(pointer: &str) -> Option<String> {
    // The imports locate what they refuse FHIRPath-style already (`Bundle.entry[1].resource`).
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Some(pointer.to_owned());
    }
    let rest = pointer.strip_prefix("/query/").or_else(|| pointer.strip_prefix("/header/"));
    if let Some(name) = rest {
        return Some(name.to_owned());
    }
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// One issue.
pub fn issue(severity: &str, code: &str, diagnostics: &str, expression: Option<&str>) -> Value {
    let mut issue = json!({ "severity": severity, "code": code, "diagnostics": diagnostics });
    if let Some(e) = expression {
        issue["expression"] = json!([e]);
    }
    issue
}

/// An OperationOutcome of these issues.
pub fn outcome(issues: Vec<Value>) -> Value {
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// The OperationOutcome of an error answer: `problem` is its problem+json body when it had one.
pub fn from_problem(status: u16, problem: Option<&Value>) -> Value {
    let severity = if status >= 500 { "fatal" } else { "error" };
    let detail = problem
        .and_then(|p| p["detail"].as_str())
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the request failed with status {status}"));
    let fields = problem.and_then(|p| p["errors"].as_array()).filter(|e| !e.is_empty());
    let issues = match fields {
        Some(fields) => fields
            .iter()
            .map(|f| {
                let pointer = f["pointer"].as_str().unwrap_or_default();
                let message = f["message"].as_str().unwrap_or_default();
                let diagnostics = if pointer.is_empty() { message.to_owned() } else { format!("{pointer}: {message}") };
                issue(severity, code(status), &diagnostics, expression(pointer).as_deref())
            })
            .collect(),
        None => vec![issue(severity, code(status), &detail, None)],
    };
    outcome(issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_expressions() {
        assert_eq!(expression("/query/_since").as_deref(), Some("_since"));
        assert_eq!(expression("/entry/3/resource/birthDate").as_deref(), Some("entry[3].resource.birthDate"));
        assert_eq!(expression(""), None);
        assert_eq!(
            expression("Bundle.entry[1].resource.identifier").as_deref(),
            Some("Bundle.entry[1].resource.identifier")
        );
    }

    #[test]
    fn a_field_error_is_an_issue_naming_its_place() {
        let problem = json!({"detail": "x", "errors": [{"pointer": "/query/_count", "message": "must be a number"}]});
        let o = from_problem(400, Some(&problem));
        assert_eq!(o["issue"][0]["code"], "invalid");
        assert_eq!(o["issue"][0]["expression"][0], "_count");
        assert_eq!(from_problem(503, None)["issue"][0]["severity"], "fatal");
    }
}
