"""The care-plan exchange in the browser: the care manager uploads the office's files (a plan
unit, UPHOSOKU + UP1KYO + UP2KYO, and a month unit, UPHOSOKU + UPPLAN + UPBEPYO) through the
console's upload page, as her care software wrote them (MS932, every field quoted, CRLF), sees
the per-row result, then opens the plan (1表・2表) and the month's calendar. browser.py calls
`steps(...)` with its world and helpers and runs each walk as one of its steps."""

import os
import tempfile

from selenium.webdriver.common.by import By

OFFICE_NO = "3370100015"
DAY_NO = "3370200014"
V = "202306"
STAMP = "20260325101500"


def _csv(rows):
    """A file as the specification writes it: every field quoted, CRLF, MS932."""
    text = "".join(",".join('"' + f.replace('"', '""') + '"' for f in row) + "\r\n" for row in rows)
    return text.encode("cp932")


def _files(insured):
    supplement = [V, "332106", insured, "20260325", "ﾔﾏﾀﾞ ﾊﾅｺ", "山田 花子", "2", "19390401", "718-0003",
                  "岡山県新見市高尾", "2400番地", "0867-72-1234", "20260220", "20260301", "20270228", "22",
                  "19705", "VND001", ""]
    table1 = [V, "332106", insured, "20260325", "718-0003", "岡山県新見市高尾", "2400番地", "田中 ケア",
              "さくら居宅介護支援事業所", "718-0011", "岡山県新見市新見", "1-2-3", OFFICE_NO, "20260325", "20240401",
              "3", "1", "20260220", "20260301", "20270228", "22", "住み慣れた家で暮らしたい。", "特になし",
              "転倒を防ぎ、在宅生活を続けます", "", "VND001", "PLAN-1"]
    table2 = [V, "332106", insured, "20260325", "20260325", "1", "一人での入浴が不安", "1", "安心して入浴できる",
              "週2回、見守りのもと入浴する", "R8.3.1～R9.2.28", "R8.3.1～R8.8.31", "1", "入浴の見守り・一部介助", "1",
              "通所介護", DAY_NO, "デイサービスたかお", "週2回", "R8.3.1～R8.8.31", "VND001", ""]
    days = [("1" if d in (3, 7, 10, 14) else "") for d in range(1, 32)]
    usage6 = [V, "332106", insured, "202604", OFFICE_NO, "20260325", "0930", "1630", "通所介護", DAY_NO,
              "デイサービスたかお", "151234", *days, "4", "VND001", ""]
    usage7 = [V, "332106", insured, "202604", DAY_NO, "デイサービスたかお", "151234", "通所介護Ⅱ32", "754", "", "",
              "4", "3016", "", "3016", "", "3016", "10.27", "30974", "90", "27876", "3098", "", "VND001", ""]
    total = [V, "332106", insured, "202604", "", "", "", "合計", "19705", "", "", "", "3016", "", "3016", "",
             "3016", "", "30974", "", "27876", "3098", "", "VND001", ""]
    return {
        f"UPHOSOKU_000000_{OFFICE_NO}_{DAY_NO}_{STAMP}.CSV": _csv([supplement]),
        f"UP1KYO_{OFFICE_NO}_{DAY_NO}_{STAMP}.CSV": _csv([table1]),
        f"UP2KYO_{OFFICE_NO}_{DAY_NO}_{STAMP}.CSV": _csv([table2]),
        f"UPHOSOKU_202604_{OFFICE_NO}_{DAY_NO}_20260325101501.CSV": _csv([supplement]),
        f"UPPLAN_202604_{OFFICE_NO}_{DAY_NO}_20260325101501.CSV": _csv([usage6]),
        f"UPBEPYO_202604_{OFFICE_NO}_{DAY_NO}_20260325101501.CSV": _csv([usage7, total]),
    }


def steps(*, base, driver, wait, page, text, sign_in, call, admin, office, care_manager, patient, insured):
    """The walks, as (name, function) pairs for browser.py's `step`. Gives the office and a day
    service their 介護保険事業所番号 first (the files name both)."""
    call("PUT", f"/v1/organizations/{office}", admin,
         {"name": "さくら居宅介護支援事業所", "kind": "care_management_office", "ltc_provider_number": OFFICE_NO})
    call("POST", "/v1/organizations", admin,
         {"name": "デイサービスたかお", "kind": "care_facility", "ltc_provider_number": DAY_NO})
    folder = tempfile.mkdtemp(prefix="care-plan-files-")
    paths = []
    for name, data in _files(insured).items():
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)

    def upload():
        sign_in(care_manager)
        driver.get(base + "/console/care-plan-exchange")
        assert "ケアプランデータ連携ファイルの取込" in text(), text()
        page("care-plan-upload")
        # A file input takes several paths at once, one a line.
        driver.find_element(By.ID, "plan-files").send_keys("\n".join(paths))
        driver.find_element(By.CSS_SELECTOR, "#plan-upload button[type=submit]").click()
        stored = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=upload-stored]"))[0].text
        assert f"UP1KYO_{OFFICE_NO}" in stored and f"UPPLAN_202604_{OFFICE_NO}" in stored, stored
        assert patient in stored, stored
        page("care-plan-upload-stored")

    def plan():
        driver.get(base + f"/console/patients/{patient}/care-plan")
        body = text()
        assert "第1表" in body and "第2表" in body, body
        assert "転倒を防ぎ、在宅生活を続けます" in body and "一人での入浴が不安" in body, body
        page("care-plan")

    def calendar():
        driver.get(base + f"/console/patients/{patient}/service-use?month=2026-04")
        cal = driver.find_element(By.CSS_SELECTOR, "[data-testid=calendar]").text
        assert "通所介護" in cal, cal
        seven = driver.find_element(By.CSS_SELECTOR, "[data-testid=table7]").text
        assert "通所介護Ⅱ32" in seven and "区分支給限度基準額 19705 単位の合計" in seven and "3098" in seven, seven
        page("service-use")

    return [
        ("care manager uploads the office's care-plan files", upload),
        ("the plan page shows 1表 and 2表", plan),
        ("the month's page shows the 6表 as a calendar and the 7表 with its 合計", calendar),
    ]
