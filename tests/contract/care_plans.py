"""The care-plan exchange through the generated client, as a care software vendor meets it: an
office and a day service with their 介護保険事業所番号, a patient on both teams, the office's
plan unit (UPHOSOKU + UP1KYO + UP2KYO, MS932 CSV in base64) through `import_files`, the same
files again (unchanged), and the day service's files through `export_files`, byte for byte."""

import base64
import datetime
import random
import uuid
import zoneinfo

from carepath_client import AuthenticatedClient
from carepath_client.api.care_plans import export_files, import_files
from carepath_client.api.consents import create_consent
from carepath_client.api.directory import create_organization
from carepath_client.api.patients import create_patient, put_care_team
from carepath_client.models import (
    CareTeamInput,
    ConsentInput,
    ExchangeFiles,
    ImportReport,
    OrganizationInput,
    PatientInput,
)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
V = "202306"


def _csv(rows):
    text = "".join(",".join('"' + f.replace('"', '""') + '"' for f in row) + "\r\n" for row in rows)
    return text.encode("cp932")


def _ok(r, status):
    assert r.status_code == status, (r.status_code, r.content[:500])
    return r.parsed


def run(base, admin, token):
    def client(tok):
        return AuthenticatedClient(base_url=base, token=tok, raise_on_unexpected_status=True)

    today = datetime.datetime.now(TOKYO).date().isoformat()
    suffix = uuid.uuid4().hex[:8]
    # The fuzzer may have taken some numbers: ours are drawn at random under prefecture 33.
    rng = random.Random(suffix)
    office_no, day_no, insured = (f"33{rng.randrange(10**8):08d}", f"33{rng.randrange(10**8):08d}",
                                  f"{rng.randrange(10**10):010d}")
    office = _ok(create_organization.sync_detailed(client=admin, body=OrganizationInput.from_dict(
        {"name": f"居宅介護支援事業所みどり {suffix}", "kind": "care_management_office", "ltc_provider_number": office_no})), 201).id
    day = _ok(create_organization.sync_detailed(client=admin, body=OrganizationInput.from_dict(
        {"name": f"デイサービスたかお {suffix}", "kind": "care_facility", "ltc_provider_number": day_no})), 201).id
    manager = client(token(f"cm-{suffix}", "care_manager", office))
    patient = _ok(create_patient.sync_detailed(client=manager, body=PatientInput.from_dict({
        "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
        "ltc_insured_number": insured, "ltc_insurer_number": "332106", "managing_organization": office})), 201).id
    _ok(put_care_team.sync_detailed(patient, client=manager, body=CareTeamInput.from_dict({"members": [
        {"organization": office, "role": "care_manager", "since": today},
        {"organization": day, "role": "social_worker", "since": today}]})), 200)
    _ok(create_consent.sync_detailed(patient, client=manager, body=ConsentInput.from_dict({
        "status": "active", "organizations": "care_team", "permitted_types": ["care-plan", "service-use"],
        "purposes": ["treatment"], "period": {"start": today}, "obtained_by": "signed_form"})), 201)

    stamp = "20260325101500"
    supplement = [V, "332106", insured, "20260325", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田 花子", "2", "19390401", "718-0003",
                  "岡山県新見市高尾", "2400番地", "0867-72-1234", "20260220", "20260301", "20270228", "22", "19705",
                  "VND001", ""]
    table1 = [V, "332106", insured, "20260325", "718-0003", "岡山県新見市高尾", "2400番地", "中村 由美",
              "居宅介護支援事業所みどり", "718-0011", "岡山県新見市新見", "1-2-3", office_no, "20260325", "20240401",
              "3", "1", "20260220", "20260301", "20270228", "22", "住み慣れた家で暮らしたい。", "特になし",
              "転倒を防ぎ在宅生活を続けます", "", "VND001", "PLAN-1"]
    table2 = [V, "332106", insured, "20260325", "20260325", "1", "一人での入浴が不安", "1", "安心して入浴できる",
              "週2回、見守りのもと入浴する", "R8.3.1～R9.2.28", "R8.3.1～R8.8.31", "1", "入浴の見守り・一部介助", "1",
              "通所介護", day_no, "デイサービスたかお", "週2回", "R8.3.1～R8.8.31", "VND001", ""]
    files = {
        f"UPHOSOKU_000000_{office_no}_{day_no}_{stamp}.CSV": _csv([supplement]),
        f"UP1KYO_{office_no}_{day_no}_{stamp}.CSV": _csv([table1]),
        f"UP2KYO_{office_no}_{day_no}_{stamp}.CSV": _csv([table2]),
    }
    body = ExchangeFiles.from_dict({"files": [
        {"name": name, "content": base64.b64encode(data).decode()} for name, data in files.items()]})

    report = _ok(import_files.sync_detailed(client=manager, body=body), 200)
    assert isinstance(report, ImportReport), report
    assert [(s.outcome, s.patient_id) for s in report.stored] == [("created", patient)], report
    again = _ok(import_files.sync_detailed(client=manager, body=body), 200)
    assert [s.outcome for s in again.stored] == ["unchanged"], again

    out = _ok(export_files.sync_detailed(client=client(token(f"sw-{suffix}", "social_worker", day))), 200)
    got = {f.name.split("_")[0]: base64.b64decode(f.content) for f in out.files}
    want = {name.split("_")[0]: data for name, data in files.items()}
    assert got == want, sorted(got)
    print("care plans: import (created, then unchanged) and the provider's export, byte for byte: all as documented")
