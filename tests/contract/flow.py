"""The README's "Try it" flow through a client generated from /openapi.json by
openapi-python-client: organisation, patient, care-path document, read back, update with
If-Match, a stale update (412), a bad body (422 with its pointer). Then every other write of the
API through its generated function and models, the batch a nurse-station vendor syncs with first
(`writes.py`), and the care-plan exchange's import and export (`care_plans.py`). Each answer is
asserted."""

import datetime
import os
import subprocess
import uuid

from carepath_client import AuthenticatedClient
from carepath_client.api.directory import create_organization
from carepath_client.api.documents import create_document, get_document, put_document
from carepath_client.api.patients import create_patient, get_patient
from carepath_client.models import (
    Document,
    CarePath110,
    CarePath110Input,
    CarePath110InputSchemaVersion,
    CarePath110InputType,
    OrganizationInput,
    OrganizationKind,
    PatientInput,
    Problem,
    Sex,
)

BASE = os.environ["CT_BASE"]


def token(sub: str, role: str, org: str) -> str:
    args = [os.environ["CT_BIN"], "token", "--data-dir", os.environ["CT_DATA"], "--sub", sub, "--role", role, "--org", org]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def client(tok: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE, token=tok, raise_on_unexpected_status=True)


admin = client(os.environ["CT_ADMIN"])
# Names are unique in the directory, and the seed and the fuzzer came first: a name of its own.
name = f"新見クリニック {uuid.uuid4().hex[:8]}"
r = create_organization.sync_detailed(client=admin, body=OrganizationInput(name=name, kind=OrganizationKind.CLINIC))
assert r.status_code == 201 and r.parsed.name == name, r
org = r.parsed.id

doctor = client(token("dr-flow", "physician", org))
r = create_patient.sync_detailed(
    client=doctor,
    body=PatientInput(name="山田 花子", birth_date=datetime.date(1939, 4, 1), sex=Sex.FEMALE, managing_organization=org),
)
assert r.status_code == 201 and r.headers["location"] == f"/v1/patients/{r.parsed.id}", r
patient = r.parsed.id
r = get_patient.sync_detailed(patient, client=doctor)
assert r.status_code == 200 and r.parsed.name == "山田 花子" and r.parsed.managing_organization == org, r



def care_path(content: dict) -> CarePath110Input:
    """A typed care-path 1.1.0 body (`DocumentInput` is a oneOf per type and version)."""
    return CarePath110Input(
        type_=CarePath110InputType.CARE_PATH,
        schema_version=CarePath110InputSchemaVersion("1.1.0"),
        content=CarePath110.from_dict(content),
    )


r = create_document.sync_detailed(patient, client=doctor, body=care_path({"care_level": "care_2", "diagnoses": []}))
assert r.status_code == 201 and isinstance(r.parsed, Document) and r.parsed.version == 1, r
doc, etag = r.parsed.id, r.headers["etag"]

r = get_document.sync_detailed(doc, client=doctor)
assert r.status_code == 200 and r.headers["etag"] == etag, r
assert r.parsed.content.to_dict() == {"care_level": "care_2", "diagnoses": []}, r.parsed.content

body = care_path({"care_level": "care_3", "diagnoses": []})
r = put_document.sync_detailed(doc, client=doctor, body=body, if_match=etag)
assert r.status_code == 200 and r.parsed.version == 2 and r.headers["etag"] != etag, r

r = put_document.sync_detailed(doc, client=doctor, body=body, if_match=etag)
assert r.status_code == 412 and isinstance(r.parsed, Problem) and r.parsed.status == 412, r

# The typed client cannot build an unknown care level; a diagnosis name over the schema's
# length is the mistake it lets through, and the service names it.
bad = care_path({"care_level": "care_3", "diagnoses": [{"icd10_code": "M48.0", "name": "x" * 1000}]})
r = put_document.sync_detailed(doc, client=doctor, body=bad, if_match="*")
assert r.status_code == 422 and isinstance(r.parsed, Problem), r
assert [e.pointer for e in r.parsed.errors] == ["/content/diagnoses/0/name"], r.parsed.errors

print("flow: organisation, patient, care path, read back, If-Match update, 412, 422: all as documented")

import writes  # noqa: E402 - the rest of the writes, on the world this flow made

writes.run(BASE, admin, doctor, org, patient, doc, token)

import care_plans  # noqa: E402 - the care-plan exchange's import and export, on a world of its own

care_plans.run(BASE, admin, token)
