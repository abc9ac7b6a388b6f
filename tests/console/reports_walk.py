"""The analyst's reports and the residents' page in the browser: the programme office's analyst
reads the indicators by 年度 (suppressed cells marked, the marks explained), switches to
quarters, edits the annual plan and meets a conflict when someone saved in between (the typed
text kept); then a resident, signed in as no one, reads the town's page, which shows where to
ask with a phone number and nothing about any patient, and its print version.

The residents' page needs the server started with `--residents-page true` (tests/console/run).
browser.py calls `steps(...)` with its world and helpers and runs each walk as one of its steps."""

import datetime
import json
import urllib.request
import zoneinfo

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

DESK_PHONE = "0867-72-1111"


def steps(*, base, driver, wait, page, text, sign_in, call, token, admin, city, doctor, clinic, patient_name):
    """The walks, as (name, function) pairs for browser.py's `step`. Adds the town's
    consultation desk to the directory first (the residents' page lists it), and a patient who
    lives in the town (the indicators' areas are the patients' municipalities)."""
    call("POST", "/v1/organizations", admin, {
        "name": "新見市在宅医療・介護連携支援センター", "kind": "consultation_desk", "phone": DESK_PHONE,
        "address": {"prefecture": "岡山県", "city": "新見市", "line": "新見310-3"},
    })
    townsman = "高尾 太郎"
    call("POST", "/v1/patients", doctor, {
        "name": townsman, "birth_date": "1940-05-05", "sex": "male", "managing_organization": clinic,
        "address": {"prefecture": "岡山県", "city": "新見市", "line": "高尾2400"},
    })
    analyst = token("analyst-1", "analyst", city)
    year = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).year
    typed = "住民向け講演会「人生会議」を公民館で開く"

    def indicators():
        sign_in(analyst)
        # The analyst's home is the reports.
        driver.get(base + "/console/")
        wait.until(lambda d: "/console/reports/indicators" in d.current_url)
        table = driver.find_element(By.CSS_SELECTOR, "[data-testid=indicators]")
        heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")][1:]
        assert len(heads) == 3 and all(h.endswith("年度") for h in heads), heads
        body = table.text
        assert "在宅看取り率" in body and "＊" in body, body
        assert "home_death_rate" not in body and "FY" not in body, body
        marks = driver.find_element(By.CSS_SELECTOR, "[data-testid=marks]").text
        assert "5未満" in marks, marks
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart"), "no chart"
        csv = driver.find_element(By.CSS_SELECTOR, "[data-testid=csv]").get_attribute("href")
        assert "/console/reports/indicators.csv?" in csv, csv
        page("reports-indicators")
        Select(driver.find_element(By.ID, "granularity")).select_by_value("quarter")
        driver.find_element(By.ID, "show").click()
        wait.until(lambda d: "granularity=quarter" in d.current_url)
        heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "[data-testid=indicators] thead th")]
        assert any("4〜6月" in h for h in heads), heads
        page("reports-indicators-quarters")

    def item_fill():
        driver.get(base + "/console/reports/item-fill?type=care-path")
        body = text()
        assert "項目の記入状況" in body and "集計した文書数" in body, body
        page("reports-item-fill")

    def fill_item(n, what):
        Select(driver.find_element(By.ID, f"i{n}-area")).select_by_value("G")
        Select(driver.find_element(By.ID, f"i{n}-status")).select_by_value("in_progress")
        area = driver.find_element(By.ID, f"i{n}-what")
        area.clear()
        area.send_keys(what)
        Select(driver.find_element(By.ID, f"i{n}-k0-indicator")).select_by_value("home_death_rate")
        Select(driver.find_element(By.ID, f"i{n}-k0-group")).select_by_value("outcome")
        target = driver.find_element(By.ID, f"i{n}-k0-target")
        target.clear()
        target.send_keys("30%")

    def plan():
        driver.get(base + f"/console/reports/plan?year={year}")
        assert "この年の計画はまだありません" in text(), text()
        fill_item(0, typed)
        driver.find_element(By.ID, "save-plan").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=saved]"))
        items = driver.find_element(By.CSS_SELECTOR, "[data-testid=plan-items]").text
        assert typed in items and "G 地域住民への普及啓発" in items and "実施中" in items, items
        assert "在宅看取り率" in items and "目標 30.0%" in items, items
        assert "in_progress" not in items, items
        assert "版 1" in driver.find_element(By.CSS_SELECTOR, "[data-testid=plan-version]").text
        page("plan")

    def conflict():
        driver.get(base + f"/console/reports/plan?year={year}")
        # Someone else saves version 2 while this form (read at version 1) is open.
        req = urllib.request.Request(
            base + f"/v1/plans/{year}", method="PUT",
            data=json.dumps({"items": [{"area": "A", "what": "資源マップの更新", "status": "planned"}]}).encode())
        req.add_header("authorization", f"Bearer {analyst}")
        req.add_header("content-type", "application/json")
        req.add_header("if-match", '"1"')
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200, resp.status
        fill_item(0, "古い画面からの変更")
        driver.find_element(By.ID, "save-plan").click()
        message = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=conflict]"))[0].text
        assert "別の人が計画を更新しています" in message, message
        kept = driver.find_element(By.ID, "i0-what").get_attribute("value")
        assert kept == "古い画面からの変更", kept
        assert "資源マップの更新" in driver.find_element(By.CSS_SELECTOR, "[data-testid=plan-items]").text
        page("plan-conflict")

    def residents():
        driver.delete_all_cookies()
        driver.get(base + "/")
        wait.until(lambda d: "/residents/" in d.current_url)
        body = text()
        assert "わたしのまちの在宅医療と介護" in body and "困ったときの相談先" in body, body
        assert DESK_PHONE in body, body
        page("residents")
        driver.find_element(By.LINK_TEXT, "岡山県新見市").click()
        wait.until(lambda d: "area=" in d.current_url)
        body = text()
        source = driver.page_source
        assert DESK_PHONE in body and "新見310-3" in body, body
        assert "＊" in body and "だれのことか分からないように" in body, body
        family, given = patient_name.split(" ")
        for personal in [patient_name, family, given, "9876543210", townsman, "高尾2400"]:
            assert personal not in source, f"{personal} on the residents' page"
        page("residents-town")
        driver.find_element(By.CSS_SELECTOR, "[data-testid=print]").click()
        wait.until(lambda d: "print=1" in d.current_url)
        assert "ブラウザの印刷機能" in text() and DESK_PHONE in text(), text()
        page("residents-print")

    return [
        ("analyst reads the indicators by 年度, then by quarter", indicators),
        ("analyst reads item fill under the schema's labels", item_fill),
        ("analyst writes the annual plan", plan),
        ("a stale plan form is refused with the input kept", conflict),
        ("a resident's page: where to ask, no personal data, a print version", residents),
    ]
