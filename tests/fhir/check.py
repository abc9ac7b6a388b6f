"""Seeds a patient the way a region would (identity with kana and insurance numbers, a care team,
consents of which some are limited, every shipped example document) over HTTP, then fetches the
patient's FHIR Bundle as several callers and validates every resource with fhir.resources' R4B
models. Prints each problem; exits non-zero on any. Run by tests/fhir/run."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from fhir.resources.R4B import get_fhir_model_class

BASE = os.environ["FX_BASE"]
ROOT = Path(os.environ["FX_ROOT"])
problems: list[str] = []
checked = {"resources": 0}
# Every resource validated here, for the second validator (tests/fhir/validate.mjs).
for_medplum: list[dict] = []


def token(sub: str, role: str, org: str) -> str:
    args = [os.environ["FX_BIN"], "token", "--data-dir", os.environ["FX_DATA"], "--sub", sub, "--role", role, "--org", org]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def call(method, path, tok, body=None, expect=(200, 201), headers=None, raw=False):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("content-type", headers.pop("content-type") if headers and "content-type" in headers else "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as resp:
            status, text, ctype = resp.status, resp.read().decode(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        status, text, ctype = e.code, e.read().decode(), e.headers.get("content-type", "")
    if status not in expect:
        sys.exit(f"fhir check: {method} {path} answered {status}: {text[:2000]}")
    if raw:
        return status, text, ctype
    return json.loads(text) if text else None


# fhir.resources checks structure, cardinality and primitive types but not the codes of
# required bindings; these are the required bindings of the elements the view fills.
REQUIRED = {
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Bundle", "type"): {"collection", "document", "searchset"},
    ("Composition", "status"): {"preliminary", "final", "amended", "entered-in-error"},
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
    ("MedicationStatement", "status"): {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"},
    ("Consent", "status"): {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"},
    ("AuditEvent", "action"): {"C", "R", "U", "D", "E"},
    ("AuditEvent", "outcome"): {"0", "4", "8", "12"},
}
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict",
    "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
}
CLINICAL = {
    "Condition": {"active", "recurrence", "relapse", "inactive", "remission", "resolved"},
    "AllergyIntolerance": {"active", "inactive", "resolved"},
}


def empties(value, path: str):
    """FHIR JSON has no empty objects, arrays or strings, and no nulls."""
    if value in ({}, [], "", None):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from empties(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from empties(v, f"{path}[{i}]")


def check_codes(resource: dict, where: str) -> None:
    kind = resource.get("resourceType")
    for path in empties(resource, kind or "?"):
        problems.append(f"{where}: {path} is empty")
    for (k, element), allowed in REQUIRED.items():
        if k == kind and element in resource and resource[element] not in allowed:
            problems.append(f"{where}: {kind}.{element} = {resource[element]!r} is not in its required value set")
    if kind in CLINICAL:
        for c in resource.get("clinicalStatus", {}).get("coding", []):
            if c.get("code") not in CLINICAL[kind]:
                problems.append(f"{where}: {kind}.clinicalStatus {c.get('code')!r}")
    for issue in resource.get("issue", []) if kind == "OperationOutcome" else []:
        if issue.get("severity") not in ("fatal", "error", "warning", "information"):
            problems.append(f"{where}: issue severity {issue.get('severity')!r}")
        if issue.get("code") not in ISSUE_TYPES:
            problems.append(f"{where}: issue code {issue.get('code')!r}")
    for a in resource.get("reaction", []):
        if a.get("severity") not in (None, "mild", "moderate", "severe"):
            problems.append(f"{where}: reaction severity {a.get('severity')!r}")
    for s in resource.get("section", []):
        if s.get("emptyReason") and s.get("entry"):
            problems.append(f"{where}: a section with an emptyReason has entries (cmp-2)")
    if kind == "Bundle":
        urls = [e.get("fullUrl") for e in resource.get("entry", [])]
        if len(set(urls)) != len(urls):
            problems.append(f"{where}: fullUrls repeat (bdl-7)")


def validate(resource: dict, where: str) -> None:
    for_medplum.append({"where": where, "resource": resource})
    kind = resource.get("resourceType")
    try:
        get_fhir_model_class(kind).model_validate(resource)
        checked["resources"] += 1
    except Exception as e:  # noqa: BLE001 - every failure is a finding, whatever its kind
        problems.append(f"{where}: {kind}/{resource.get('id')}: {e}")
    check_codes(resource, where)


def validate_bundle(bundle: dict, where: str) -> None:
    validate(bundle, where)
    for i, entry in enumerate(bundle.get("entry", [])):
        validate(entry["resource"], f"{where} entry {i}")


def types(bundle: dict) -> dict:
    out: dict = {}
    for e in bundle.get("entry", []):
        out.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    return out


def expect(cond: bool, what: str) -> None:
    if not cond:
        problems.append(what)


admin = token("ops", "admin", "carepath-operator")
clinic = call("POST", "/v1/organizations", admin, {"name": "やまびこ内科クリニック", "kind": "clinic", "phone": "0867-72-1111"})["id"]
station = call("POST", "/v1/organizations", admin, {"name": "新見さくら訪問看護ステーション", "kind": "visiting_nurse_station"})["id"]
agency = call("POST", "/v1/organizations", admin, {"name": "ヘルパーステーションあおば", "kind": "care_facility"})["id"]
stranger_org = call("POST", "/v1/organizations", admin, {"name": "県立病院", "kind": "hospital"})["id"]
city = call("POST", "/v1/organizations", admin, {"name": "新見市", "kind": "municipality"})["id"]
doc_id = call("POST", "/v1/practitioners", admin, {"name": "高橋 健", "profession": "physician", "organization": clinic})["id"]
physician = token("dr-takahashi", "physician", clinic)
care_manager = token("cm-nakamura", "care_manager", clinic)
care_worker = token("cw-1", "care_worker", agency)
nurse = token("ns-kobayashi", "nurse", station)
stranger = token("er-1", "physician", stranger_org)
auditor = token("audit-1", "auditor", city)

patient = call("POST", "/v1/patients", physician, {
    "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1938-05-10", "sex": "female",
    "address": {"postal_code": "718-0003", "prefecture": "岡山県", "city": "新見市", "line": "高尾0000-0"},
    "phone": "0867-72-0000", "ltc_insured_number": "9876543210",
    "health_insurance": {"insurer_number": "39331234", "symbol": "12", "number": "3456"},
    "care_level": "care_2", "managing_organization": clinic,
})["id"]
call("PUT", f"/v1/patients/{patient}/care-team", physician, {"members": [
    {"organization": clinic, "practitioner": doc_id, "role": "physician", "since": "2025-04-01"},
    {"organization": clinic, "role": "care_manager", "since": "2025-04-01"},
    {"organization": station, "role": "nurse", "since": "2025-04-01"},
    {"organization": agency, "role": "care_worker", "since": "2025-04-01", "until": "2099-03-31"},
]})
# The station sees everything but contact sheets; the agency only care paths, restricted never.
call("POST", f"/v1/patients/{patient}/consents", physician, {
    "status": "active", "organizations": [station], "denied_types": ["contact-sheet"],
    "purposes": ["treatment", "care_coordination"], "period": {"start": "2025-04-01"}, "obtained_by": "signed_form",
})
call("POST", f"/v1/patients/{patient}/consents", physician, {
    "status": "active", "organizations": [agency], "permitted_types": ["care-path"],
    "purposes": ["care_coordination"], "period": {"start": "2025-04-01", "end": "2099-03-31"}, "obtained_by": "verbal",
})
revoked = call("POST", f"/v1/patients/{patient}/consents", physician, {
    "status": "active", "organizations": "care_team", "purposes": ["treatment"],
    "period": {"start": "2025-04-01"}, "obtained_by": "signed_form", "release_restricted": True,
})["id"]
call("POST", f"/v1/patients/{patient}/consents/{revoked}/revoke", physician, {"reason": "本人の希望で撤回"})

examples = sorted((ROOT / "schemas").glob("*/examples/*.json"))
posted = 0
for path in examples:
    doc_type, version = path.parent.parent.name, path.name.split("-")[0]
    content = json.loads(path.read_text())
    # Restricted members the examples lack, so that something is withheld from some readers.
    if doc_type == "care-path":
        content.setdefault("infections", [{"name": "MRSA保菌（鼻腔）", "icd10_code": "Z22.3", "status": "carrier"}])
        content.setdefault("psychiatric_history", [])
    body = {"type": doc_type, "schema_version": version, "content": content}
    status, text, _ = call("POST", f"/v1/patients/{patient}/documents", physician, body, expect=(201, 422), raw=True)
    if status == 201:
        posted += 1
    else:
        # psychiatric_history may not be an empty list in every version: post without it.
        content.pop("psychiatric_history", None)
        call("POST", f"/v1/patients/{patient}/documents", physician, body)
        posted += 1
print(f"seeded: patient {patient}, {posted} documents from {len(examples)} examples")

# The JP-CLINS documents written to the guides (tests/api/fixtures/jp-clins), about this
# patient: imported, then each read back as the document Bundle it came in, unchanged.
clins = {}
for path in sorted((ROOT / "tests/api/fixtures/jp-clins").glob("*.json")):
    sent = json.loads(path.read_text())
    for e in sent["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            e["resource"]["birthDate"] = "1938-05-10"
    doc = call("POST", f"/v1/patients/{patient}/fhir", physician, sent, headers={"content-type": "application/fhir+json"})
    back = call("GET", f"/v1/fhir/Composition/{doc['id']}/$document", physician)
    expect(back == sent, f"{path.name}: $document is not the Bundle as sent")
    validate_bundle(back, f"{path.name} $document")
    clins[path.name] = doc["id"]
print(f"imported: {len(clins)} JP-CLINS documents")

callers = {"physician": physician, "care_manager": care_manager, "nurse": nurse, "care_worker": care_worker}
bundles = {}
for name, tok in callers.items():
    status, text, ctype = call("GET", f"/v1/patients/{patient}/fhir", tok, raw=True)
    expect(ctype.startswith("application/fhir+json"), f"{name}: content type {ctype}")
    bundles[name] = json.loads(text)
    validate_bundle(bundles[name], name)

full = types(bundles["physician"])
for kind in ["Patient", "Organization", "Practitioner", "PractitionerRole", "CareTeam", "CarePlan", "Condition",
             "MedicationStatement", "MedicationRequest", "Observation", "AllergyIntolerance", "Consent", "Composition",
             "DocumentReference"]:
    expect(kind in full, f"physician's bundle has no {kind}")
pat = full["Patient"][0]
expect(any("JP_Patient" in p for p in pat["meta"]["profile"]), "Patient lacks the JP Core profile")
expect(len(pat["name"]) == 2 and pat["name"][1]["extension"][0]["valueCode"] == "SYL", "Patient lacks the kana name")
expect(all(c.get("meta", {}).get("security") is None for c in full.get("Composition", [])), "physician sees a redacted document")
cm = types(bundles["care_manager"])
expect(any(c.get("meta", {}).get("security") for c in cm.get("CarePlan", [])), "care manager's care plan is not labelled redacted")
expect(not any("inf" in c["id"].rsplit("-", 1)[-1] for c in cm.get("Condition", [])), "care manager sees an infection")
cw = types(bundles["care_worker"])
expect("Consent" not in cw, "care worker sees consents")
expect("Composition" not in cw, "care worker sees documents beyond care paths")
ns = types(bundles["nurse"])
expect(not any("contact-sheet" in json.dumps(c["type"]) for c in ns.get("Composition", [])), "nurse sees a contact sheet")
status, _, _ = call("GET", f"/v1/patients/{patient}/fhir", stranger, expect=(404,), raw=True)

# The audit events as FHIR AuditEvents, when the server has the route.
status, text, ctype = call("GET", f"/v1/audit-events/fhir?patient_id={patient}&limit=1000", auditor, expect=(200, 404), raw=True)
if status == 200:
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    expect(len(lines) > 0, "no AuditEvent")
    expect(any(any("patient.fhir" in json.dumps(x) for x in [e.get("subtype", [])]) for e in lines), "no patient.fhir AuditEvent")
    for i, e in enumerate(lines):
        validate(e, f"audit line {i}")

# Bulk export, when the server has it.
kick = urllib.request.Request(BASE + "/v1/fhir/$export", method="POST", data=b"")
kick.add_header("authorization", f"Bearer {physician}")
kick.add_header("prefer", "respond-async")
try:
    with urllib.request.urlopen(kick) as resp:
        kstatus, location = resp.status, resp.headers.get("content-location")
except urllib.error.HTTPError as e:
    kstatus, location = e.code, None
if kstatus == 202 and location:
    import time
    for _ in range(600):
        status, text, _ = call("GET", location.removeprefix(BASE), physician, expect=(200, 202), raw=True)
        if status == 200:
            break
        time.sleep(0.1)
    manifest = json.loads(text)
    expect(len(manifest.get("output", [])) > 0, "export manifest has no output")
    for out in manifest.get("output", []):
        _, body, _ = call("GET", out["url"].removeprefix(BASE), physician, raw=True)
        for i, line in enumerate(l for l in body.splitlines() if l.strip()):
            r = json.loads(line)
            expect(r["resourceType"] == out["type"], f"export {out['type']} line {i} is a {r['resourceType']}")
            validate(r, f"export {out['type']} line {i}")
    call("DELETE", location.removeprefix(BASE), physician, expect=(202, 204), raw=True)

# The FHIR server (issue 32): the CapabilityStatement, a read of every fullUrl of every
# caller's Bundle, a searchset of every searchable type for every caller, $everything, and the
# OperationOutcomes of refusals, each through the validator.
status, text, ctype = call("GET", "/v1/fhir/metadata", physician, raw=True)
expect(ctype.startswith("application/fhir+json"), f"metadata is {ctype}")
cs = json.loads(text)
validate(cs, "metadata")
served = {r["type"]: r for r in cs["rest"][0]["resource"]}
for who, b in bundles.items():
    tok = callers[who]
    for i, e in enumerate(b["entry"]):
        status, text, _ = call("GET", e["fullUrl"].removeprefix(BASE), tok, raw=True)
        validate(json.loads(text), f"{who} read {e['fullUrl']}")
    for kind, r in served.items():
        if not r.get("searchParam"):
            continue
        q = {"Patient": f"_id={patient}", "Group": ""}.get(kind, f"patient={patient}&_count=3")
        url = f"/v1/fhir/{kind}?{q}"
        while url:
            page = call("GET", url, tok)
            validate_bundle(page, f"{who} search {url}")
            nxt = [l["url"] for l in page.get("link", []) if l["relation"] == "next"]
            url = nxt[0].removeprefix(BASE) if nxt else None
    validate_bundle(call("GET", f"/v1/fhir/Patient/{patient}/$everything?_count=200", tok), f"{who} $everything")
refusals = [
    ("GET", f"/v1/fhir/Patient/{patient}", stranger, {}, 404),
    ("GET", "/v1/fhir/Condition", physician, {}, 400),
    ("GET", f"/v1/fhir/Condition?patient={patient}&x=1", physician, {"prefer": "handling=strict"}, 400),
    ("GET", "/v1/fhir/Encounter", physician, {}, 404),
    ("GET", "/v1/fhir/metadata?_format=xml", physician, {}, 406),
    ("DELETE", "/v1/fhir/metadata", physician, {}, 405),
    ("GET", "/v1/fhir/$export?_typeFilter=x", physician, {}, 400),
]
for method, path, tok, headers, code in refusals:
    status, text, ctype = call(method, path, tok, expect=(code,), headers=dict(headers), raw=True)
    expect(ctype.startswith("application/fhir+json"), f"{method} {path}: {ctype}")
    validate(json.loads(text), f"{method} {path} ({code})")
Path(os.environ["FX_STATE"]).write_text(json.dumps({
    "base": BASE, "patient": patient, "ltc": "9876543210", "physician": physician,
}))

Path(os.environ["FX_MEDPLUM"]).write_text(json.dumps(for_medplum, ensure_ascii=False))

for p in problems:
    print(p, file=sys.stderr)
print(f"fhir check: {checked['resources']} resources validated, {len(problems)} problems")
sys.exit(1 if problems else 0)
