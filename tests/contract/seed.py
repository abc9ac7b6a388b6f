"""Seeds the small world the contract checks run against, over HTTP, and prints `NAME=value`
lines (ids and tokens) for tests/contract/run to export: an organisation with a physician, a
visiting-nurse station on the care team, two patients (one to erase), a consent, two care-path
documents (one to delete), a contact sheet to the station, a break-glass read for the auditor to review
and a webhook subscription."""

import datetime
import json
import os
import subprocess
import sys
import urllib.request
import zoneinfo

BASE = os.environ["CT_BASE"]


def token(sub: str, role: str, org: str) -> str:
    args = [os.environ["CT_BIN"], "token", "--data-dir", os.environ["CT_DATA"], "--sub", sub, "--role", role, "--org", org]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def call(method: str, path: str, tok: str, body=None, headers=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("authorization", f"Bearer {tok}")
    if data is not None:
        req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        sys.exit(f"seed: {method} {path} answered {status}: {text}")
    return json.loads(text) if text else None


admin = os.environ["CT_ADMIN"]
org = call("POST", "/v1/organizations", admin, {"name": "新見クリニック", "kind": "clinic"})["id"]
station = call("POST", "/v1/organizations", admin, {"name": "ひまわり訪問看護ステーション", "kind": "visiting_nurse_station"})["id"]
other = call("POST", "/v1/organizations", admin, {"name": "県立病院", "kind": "hospital"})["id"]
city = call("POST", "/v1/organizations", admin, {"name": "新見市", "kind": "municipality"})["id"]
practitioner = call("POST", "/v1/practitioners", admin, {"name": "新見 一郎", "profession": "physician", "organization": org})["id"]
doctor = token("dr-1", "physician", org)
auditor = token("audit-1", "auditor", city)
analyst = token("analyst-1", "analyst", city)
patient_body = {"name": "山田 花子", "birth_date": "1939-04-01", "sex": "female", "managing_organization": org}
patient = call("POST", "/v1/patients", doctor, patient_body)["id"]
erasable = call("POST", "/v1/patients", doctor, dict(patient_body, name="山田 太郎", sex="male"))["id"]
call("PUT", f"/v1/patients/{patient}/care-team", doctor, {"members": [
    {"organization": org, "practitioner": practitioner, "role": "physician", "since": "2025-04-01"},
    {"organization": station, "role": "nurse", "since": "2025-04-01"},
]})
consent = call("POST", f"/v1/patients/{patient}/consents", doctor, {
    "status": "active", "organizations": "care_team", "purposes": ["treatment"],
    "period": {"start": "2025-04-01"}, "obtained_by": "signed_form",
})["id"]
care_path = {"type": "care-path", "schema_version": "1.1.0", "content": {"care_level": "care_2", "diagnoses": []}}
document = call("POST", f"/v1/patients/{patient}/documents", doctor, care_path)["id"]
deletable = call("POST", f"/v1/patients/{patient}/documents", doctor, care_path)["id"]
# A break-glass read by a nurse of an organisation outside the care team: an event to review.
er_nurse = token("er-nurse-1", "nurse", other)
call("GET", f"/v1/patients/{patient}", er_nurse, headers={"x-break-glass": "unconscious at home, ambulance call"})
sheet = call("POST", "/v1/contact-sheets", doctor, {
    "patient_id": patient, "to": {"organization": station}, "category": "report", "urgency": "routine",
    "body": "退院後の経過です",
})["id"]
events = call("GET", "/v1/audit-events?break_glass=true", auditor)["items"]
# A webhook subscription of the clinic (deliveries to the placeholder host just fail and retry).
subscription = call("POST", "/v1/subscriptions", doctor, {"url": "https://ehr.example.com/hooks"})["id"]
if not events:
    sys.exit("seed: no break-glass event")

# A short-stay posting of the clinic, for the vacancy board's reads and confirmations.
tomorrow = (datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).date() + datetime.timedelta(days=1)).isoformat()
call("PUT", f"/v1/organizations/{org}/vacancies/medical_care", doctor, {
    "days": [{"date": tomorrow, "beds": [{"room": "shared", "sex": "any", "free": 1}], "accepts": ["suction"]}],
    "contact": {"phone": "0867-72-0000"},
})

# A bulk FHIR export of the clinic's physician: a job to poll, download from and delete.
kick = urllib.request.Request(BASE + "/v1/fhir/$export", method="POST")
kick.add_header("authorization", f"Bearer {doctor}")
with urllib.request.urlopen(kick) as resp:
    export_job = resp.headers["content-location"].rsplit("/", 1)[-1]

world = {
    "CT_ORG": org, "CT_STATION": station, "CT_PRACTITIONER": practitioner, "CT_PATIENT": patient,
    "CT_ERASABLE": erasable, "CT_CONSENT": consent, "CT_DOCUMENT": document, "CT_DELETABLE": deletable,
    "CT_EVENT": str(events[0]["seq"]), "CT_SHEET": sheet, "CT_DOCTOR": doctor, "CT_AUDITOR": auditor,
    "CT_SUBSCRIPTION": subscription, "CT_EXPORT": export_job, "CT_ANALYST": analyst,
}
for name, value in world.items():
    print(f"{name}={value}")
