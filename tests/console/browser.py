"""The console walked in headless Chromium at a tablet's width (768 px): seeds a small world over
the API, then signs in as a care manager, a visiting nurse and an auditor in turn. Each step
asserts what the page shows; every page gets two screenshots (the first screen, and the whole
page) and an axe-core check (no serious or critical violation), and must not be wider than the
window. Prints 'N passed, N failed' at the end."""

import datetime
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import zoneinfo

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["CT_BASE"]
ARTEFACTS = os.environ["CT_ARTEFACTS"]
AXE = open(os.environ["CT_AXE"], encoding="utf-8").read()
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "schemas", "care-path", "examples")


def token(sub, role, org):
    args = [os.environ["CT_BIN"], "token", "--data-dir", os.environ["CT_DATA"], "--sub", sub, "--role", role, "--org", org]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def call(method, path, tok, body=None, headers=None, expect=(200, 201)):
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


# ---- the world
admin = token("ops", "admin", "carepath-operator")
clinic = call("POST", "/v1/organizations", admin, {"name": "新見クリニック", "kind": "clinic"})["id"]
station = call("POST", "/v1/organizations", admin, {"name": "ひまわり訪問看護ステーション", "kind": "visiting_nurse_station"})["id"]
office = call("POST", "/v1/organizations", admin, {"name": "さくら居宅介護支援事業所", "kind": "care_management_office"})["id"]
facility = call("POST", "/v1/organizations", admin, {"name": "あおぞらショートステイ", "kind": "care_facility"})["id"]
hospital = call("POST", "/v1/organizations", admin, {"name": "県立病院", "kind": "hospital"})["id"]
city = call("POST", "/v1/organizations", admin, {"name": "新見市", "kind": "municipality"})["id"]
doctor_id = call("POST", "/v1/practitioners", admin, {"name": "新見 一郎", "profession": "physician", "organization": clinic})["id"]
nurse_id = call("POST", "/v1/practitioners", admin, {"name": "佐藤 看護", "profession": "nurse", "organization": station})["id"]
cm_id = call("POST", "/v1/practitioners", admin, {"name": "田中 ケア", "profession": "care_manager", "organization": office})["id"]
doctor = token(doctor_id, "physician", clinic)
nurse = token(nurse_id, "nurse", station)
care_manager = token(cm_id, "care_manager", office)
auditor = token("audit-1", "auditor", city)
facility_staff = token("facility-1", "care_worker", facility)

patient = call("POST", "/v1/patients", doctor, {
    "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
    "managing_organization": clinic, "care_level": "care_2", "ltc_insured_number": "9876543210",
})["id"]
call("PUT", f"/v1/patients/{patient}/care-team", doctor, {"members": [
    {"organization": clinic, "practitioner": doctor_id, "role": "physician", "since": "2025-04-01"},
    {"organization": station, "practitioner": nurse_id, "role": "nurse", "since": "2025-04-01"},
    {"organization": office, "practitioner": cm_id, "role": "care_manager", "since": "2025-04-01"},
]})
call("POST", f"/v1/patients/{patient}/consents", doctor, {
    "status": "active", "organizations": "care_team", "purposes": ["treatment"],
    "period": {"start": "2025-04-01"}, "obtained_by": "signed_form",
})
content = json.load(open(os.path.join(EXAMPLES, "1.1.0-full.json"), encoding="utf-8"))
doc = call("POST", f"/v1/patients/{patient}/documents", doctor, {"type": "care-path", "schema_version": "1.1.0", "content": content})
content["notes"] = "退院後、訪問看護を週3回に増やした"
call("PUT", f"/v1/documents/{doc['id']}", doctor, {"type": "care-path", "schema_version": "1.1.0", "content": content},
     headers={"if-match": '"1"'})
er_nurse = token("er-nurse-1", "nurse", hospital)
call("GET", f"/v1/patients/{patient}", er_nurse, headers={"x-break-glass": "unconscious, ambulance call"})

# ---- the browser
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=768,1024", "--lang=ja"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
driver.set_window_size(768, 1024)
# A page being replaced while a condition reads it is no failure: look again.
wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])
passed, failed = 0, 0
shots = 0


def _enum_words():
    """Every word a schema enumerates, and the API's own coded words a page could leak."""
    words = set()

    def walk(node):
        if isinstance(node, dict):
            for v in node.get("enum", []):
                if isinstance(v, str):
                    words.add(v)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    schemas = os.path.join(os.path.dirname(__file__), "..", "..", "schemas")
    for kind in os.listdir(schemas):
        folder = os.path.join(schemas, kind)
        if os.path.isdir(folder):
            for f in os.listdir(folder):
                if f.endswith(".json"):
                    walk(json.load(open(os.path.join(folder, f), encoding="utf-8")))
    words |= {"physician", "nurse", "care_manager", "care_worker", "support_1", "care_2",
              "female", "male", "question", "request", "discharge", "routine", "urgent", "delivered", "answered",
              "forwarded", "withdrawn", "daily_living", "medical_care", "home_oxygen", "insulin", "shared",
              "unit_private", "signed_form", "verbal", "revoked", "treatment", "care_coordination", "allowed",
              "denied", "visiting_nurse_station", "care_management_office", "consultation_desk"}
    return {w for w in words if len(w) >= 4 and all(c.islower() or c in "_-" for c in w)}


ENUM_WORDS = _enum_words()


def no_wire_words(name):
    """No coded value reaches a page as its wire word: never one with `_` or an audit action's
    `x.y`, and on a Japanese page no enumerated word at all. (The world's own free texts are
    Japanese, or English without such words, so what this finds the code wrote.)"""
    body = text()
    japanese = driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    import re
    for token in set(re.findall(r"[A-Za-z][A-Za-z_.\-]*[A-Za-z]", body)):
        dotted = re.fullmatch(r"[a-z_]+\.[a-z_.]+", token) and not token.endswith((".json", ".csv", ".png"))
        if dotted or ("_" in token and token.islower()) or (japanese and token in ENUM_WORDS):
            raise AssertionError(f"{name}: the wire word {token!r} is on the page")


def page(name):
    """Screenshot (full height), no wire word, and axe-core: no serious or critical violation."""
    global shots
    no_wire_words(name)
    shots += 1
    driver.save_screenshot(os.path.join(ARTEFACTS, f"{shots:02d}-{name}.png"))
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(768, min(max(height, 1024), 6000))
    driver.save_screenshot(os.path.join(ARTEFACTS, f"{shots:02d}-{name}-full.png"))
    driver.set_window_size(768, 1024)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 768, f"{name}: the page is {width} px wide at a 768 px window"
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(function (r) { done(r.violations); })"
        ".catch(function (e) { done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]); });")
    bad = [v for v in result if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: axe: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}" for v in bad)


def text():
    # A body found just before a navigation replaces the document: Chromium then answers a
    # generic error, not a stale element. Said as stale, so that `wait` tries again.
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            raise StaleElementReferenceException(str(e)) from e
        raise


def sign_in(tok):
    driver.delete_all_cookies()
    driver.get(BASE + "/console/login")
    driver.find_element(By.ID, "token").send_keys(tok)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: "/console/login" not in d.current_url)


def step(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok   {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failing step is reported, the walk goes on
        failed += 1
        print(f"FAIL {name}", flush=True)
        traceback.print_exc()
        driver.save_screenshot(os.path.join(ARTEFACTS, f"failed-{name.replace(' ', '-')}.png"))


def sign_in_page():
    driver.delete_all_cookies()
    driver.get(BASE + "/console/login")
    assert "ログイン" in text(), text()
    page("sign-in")
    driver.find_element(By.ID, "token").send_keys("not-a-token")
    driver.find_element(By.ID, "sign-in").click()
    # The answer is a new page: wait for it rather than read the one being left.
    wait.until(lambda d: "トークンを確認できませんでした" in text())


def care_manager_signs_in():
    sign_in(care_manager)
    assert "田中 ケア" in driver.find_element(By.CSS_SELECTOR, "[data-testid=user]").text
    cookie = driver.get_cookie("cp_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    page("home")


def patients_list_and_search():
    driver.get(BASE + "/console/patients")
    assert "山田 花子" in text(), text()
    page("patients")
    driver.find_element(By.ID, "ltc").send_keys("9876543210")
    driver.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait.until(lambda d: "ltc_insured_number=9876543210" in d.current_url)
    assert "山田 花子" in text(), text()


def patient_page_withholds():
    driver.get(BASE + "/console/patients")
    driver.find_element(By.LINK_TEXT, "山田 花子").click()
    wait.until(lambda d: "/console/patients/" in d.current_url)
    care_path = driver.find_element(By.CSS_SELECTOR, "[data-testid=care-path]").text
    assert "要介護度" in care_path and "服用薬" in care_path, care_path
    withheld = driver.find_elements(By.CSS_SELECTOR, "[data-withheld='/infections']")
    assert withheld and withheld[0].text == "非開示", "infections not shown as withheld"
    assert "MRSA" not in text()
    assert "退院後、訪問看護を週3回に増やした" in driver.find_element(By.CSS_SELECTOR, "[data-testid=diff]").text
    assert "佐藤 看護" in driver.find_element(By.CSS_SELECTOR, "[data-testid=team]").text
    assert "有効" in driver.find_element(By.CSS_SELECTOR, "[data-testid=consents]").text
    page("patient")
    driver.find_element(By.PARTIAL_LINK_TEXT, "今連絡できる人").click()
    wait.until(lambda d: "/reachable" in d.current_url)
    page("reachable")


def english_switch():
    driver.get(BASE + f"/console/patients/{patient}?lang=en")
    assert "Care path" in text() and "Withheld" in text(), text()
    driver.get(BASE + "/console/patients")
    assert "Patients" in text()
    driver.get(BASE + "/console/patients?lang=ja")


def care_manager_sends_sheet():
    driver.get(BASE + f"/console/sheets?patient_id={patient}")
    # The addressee by name, from the patient's care team: no id is typed.
    Select(driver.find_element(By.ID, "to")).select_by_visible_text("佐藤 看護（看護師・ひまわり訪問看護ステーション）")
    driver.find_element(By.ID, "body").send_keys("入浴時の皮膚の状態を教えてください")
    page("sheets")
    driver.find_element(By.ID, "send").click()
    wait.until(lambda d: "/console/sheets/" in d.current_url)
    assert "入浴時の皮膚の状態を教えてください" in text()
    assert driver.find_element(By.CSS_SELECTOR, "[data-testid=read-receipt]").text == "未読"


def an_ended_session_keeps_the_draft():
    """The session ends while a sheet is being written: the sign-in page says why, and the text
    comes back as a draft in the form after signing in again."""
    driver.get(BASE + f"/console/sheets?patient_id={patient}")
    Select(driver.find_element(By.ID, "to")).select_by_visible_text("佐藤 看護（看護師・ひまわり訪問看護ステーション）")
    driver.find_element(By.ID, "body").send_keys("下書きは残りますか")
    # The session ends on the server: the cookie now names a session that is no more.
    ended = driver.get_cookie("cp_session")["value"]
    driver.delete_cookie("cp_session")
    driver.add_cookie({"name": "cp_session", "value": ended[:-4] + ("zzzz" if ended[-4:] != "zzzz" else "yyyy"), "path": "/"})
    driver.find_element(By.ID, "send").click()
    wait.until(lambda d: "/console/login" in d.current_url)
    assert "again=1" in driver.current_url, driver.current_url
    assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=again]"), text()
    page("session-ended")
    sign_in(care_manager)
    driver.get(BASE + "/console/sheets")
    wait.until(lambda d: d.find_element(By.ID, "body").get_attribute("value") == "下書きは残りますか")
    assert driver.find_element(By.ID, "new-sheet").get_attribute("data-draft-restored") == "true"
    driver.find_element(By.ID, "body").clear()


def nurse_reads_and_answers():
    sign_in(nurse)
    driver.get(BASE + "/console/sheets")
    assert "未読: 1" in driver.find_element(By.CSS_SELECTOR, "[data-testid=unread]").text
    page("inbox")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=sheets] tbody a").click()
    wait.until(lambda d: "/console/sheets/" in d.current_url)
    assert "入浴時の皮膚の状態を教えてください" in text()
    assert "佐藤 看護" in driver.find_element(By.CSS_SELECTOR, "[data-testid=read-receipt]").text
    driver.find_element(By.ID, "reply-body").send_keys("仙骨部に発赤があります。除圧を続けます")
    driver.find_element(By.ID, "reply").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=state]").get_attribute("data-state") == "answered")
    assert "回答あり" in driver.find_element(By.CSS_SELECTOR, "[data-testid=state]").text
    page("sheet")


def care_manager_sees_answer():
    sign_in(care_manager)
    driver.get(BASE + "/console/sheets?box=sent")
    page("sent")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=sheets] tbody a").click()
    wait.until(lambda d: "/console/sheets/" in d.current_url)
    assert "仙骨部に発赤があります" in driver.find_element(By.CSS_SELECTOR, "[data-testid=thread]").text
    assert "佐藤 看護" in driver.find_element(By.CSS_SELECTOR, "[data-testid=read-receipt]").text


def care_manager_closes_the_sheet():
    sign_in(care_manager)
    driver.get(BASE + "/console/sheets?box=sent")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=sheets] tbody a").click()
    wait.until(lambda d: "/console/sheets/" in d.current_url)
    driver.find_element(By.ID, "close").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=state]").get_attribute("data-state") == "closed")
    assert not driver.find_elements(By.ID, "reply"), "a closed sheet offers no reply"
    page("sheet-closed")


def doctor_sets_hours_and_care_manager_asks_who_then():
    sign_in(doctor)
    driver.get(BASE + "/console/hours")
    Select(driver.find_element(By.NAME, "slot-0-weekday")).select_by_visible_text("月曜日")
    # A time input's typing order follows the browser's locale; its value is what the form sends.
    for name, value in [("slot-0-start", "13:00"), ("slot-0-end", "14:00")]:
        driver.execute_script("arguments[0].value = arguments[1];", driver.find_element(By.NAME, name), value)
    Select(driver.find_element(By.NAME, "slot-0-channel")).select_by_visible_text("電話")
    driver.find_element(By.NAME, "slot-0-notes").send_keys("受付で「連携の件」とお伝えください")
    page("hours")
    driver.find_element(By.ID, "publish-hours").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=saved]"))
    sign_in(care_manager)
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).date()
    monday = next(today + datetime.timedelta(days=d) for d in range(1, 8) if (today + datetime.timedelta(days=d)).weekday() == 0)
    driver.get(BASE + f"/console/patients/{patient}/reachable?day={monday.isoformat()}&time=13:30")
    now = driver.find_element(By.CSS_SELECTOR, "[data-testid=reachable-now]").text
    assert "新見 一郎" in now and "13:00" in now and "電話" in now, now
    page("reachable")


def vacancy_appears_live():
    tomorrow = (datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).date() + datetime.timedelta(days=1)).isoformat()
    driver.get(BASE + f"/console/vacancies?from={tomorrow}&to={tomorrow}&accepts=insulin")
    assert "あおぞらショートステイ" not in text()
    wait.until(lambda d: d.find_element(By.ID, "live").get_attribute("data-connected") == "true")
    driver.execute_script("window.__notReloaded = true;")
    call("PUT", f"/v1/organizations/{facility}/vacancies/daily_living", facility_staff, {
        "days": [{"date": tomorrow, "beds": [{"room": "shared", "sex": "any", "free": 2}], "accepts": ["insulin"]}],
        "contact": {"phone": "0867-72-1111"},
    })
    wait.until(lambda d: "あおぞらショートステイ" in d.find_element(By.ID, "vacancy-results").text)
    assert driver.execute_script("return window.__notReloaded === true;"), "the page reloaded"
    page("vacancies")


def auditor_reviews_break_glass():
    sign_in(auditor)
    assert "/console/audit" in driver.current_url
    assert "改ざんは検出されませんでした" in driver.find_element(By.CSS_SELECTOR, "[data-testid=chain]").text
    queue = driver.find_element(By.CSS_SELECTOR, "[data-testid=queue]").text
    assert "unconscious" in queue and "er-nurse-1" in queue, queue
    page("audit")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=queue] textarea").send_keys("救急搬送時の正当なアクセスと確認")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=queue] button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=queue-empty]"))
    driver.get(BASE + f"/console/audit/events?patient_id={patient}")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=event-count]"))
    page("events")


def sign_out():
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button").click()
    wait.until(lambda d: "/console/login" in d.current_url)
    driver.get(BASE + "/console/patients")
    assert "/console/login" in driver.current_url


def swagger_try_it_out_from(origin):
    """Swagger UI's "Try it out" from `origin`: the document's `servers` is relative, so the
    request goes back to wherever the page came from (a hard-coded host failed elsewhere)."""
    def run():
        driver.get(origin + "/docs/")
        block = wait.until(lambda d: d.find_element(By.ID, "operations-health-healthz"))
        block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(lambda d: block.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))[0].click()
        wait.until(lambda d: block.find_elements(By.CSS_SELECTOR, "button.execute"))[0].click()
        status = wait.until(lambda d: block.find_elements(By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"))
        wait.until(lambda d: status[0].text.strip() != "")
        assert status[0].text.strip().startswith("200"), f"{origin}: {status[0].text}"
        url = block.find_element(By.CSS_SELECTOR, ".request-url pre").text.strip()
        assert url.startswith(origin + "/healthz"), f"{origin}: the request went to {url}"
    return run


ORIGINS = [BASE, BASE.replace("127.0.0.1", "localhost")]

for name, fn in [
    *[(f"Swagger UI: Try it out from {o}", swagger_try_it_out_from(o)) for o in ORIGINS],
    ("sign-in page refuses a bad token", sign_in_page),
    ("care manager signs in (HttpOnly, SameSite=Strict)", care_manager_signs_in),
    ("patients: list and insured-number search", patients_list_and_search),
    ("patient page: care path form, withheld field, diff, team, consents", patient_page_withholds),
    ("English labels on request", english_switch),
    ("care manager sends a contact sheet", care_manager_sends_sheet),
    ("an ended session keeps the typed sheet as a draft", an_ended_session_keeps_the_draft),
    ("nurse reads (receipt) and answers", nurse_reads_and_answers),
    ("care manager sees the answer", care_manager_sees_answer),
    ("the doctor sets his hours; the care manager asks who can be reached then", doctor_sets_hours_and_care_manager_asks_who_then),
    ("a vacancy appears without reload", vacancy_appears_live),
    ("auditor reviews the break-glass", auditor_reviews_break_glass),
    ("sign out ends the session", sign_out),
]:
    step(name, fn)

import care_plans_walk  # noqa: E402 - the care-plan exchange's walks, on this world
for name, fn in care_plans_walk.steps(base=BASE, driver=driver, wait=wait, page=page, text=text, sign_in=sign_in, call=call,
                                      admin=admin, office=office, care_manager=care_manager, patient=patient, insured="9876543210"):
    step(name, fn)

import morning_walk  # noqa: E402 - the care manager's morning page and her patients, on this world
for name, fn in morning_walk.steps(base=BASE, driver=driver, wait=wait, page=page, text=text, sign_in=sign_in,
                                   care_manager=care_manager, patient=patient):
    step(name, fn)

step("the care manager closes the answered sheet", care_manager_closes_the_sheet)

import audit_walk  # noqa: E402 - the auditor's walks, on this world
for name, fn in audit_walk.steps(base=BASE, driver=driver, wait=wait, page=page, text=text, sign_in=sign_in, call=call,
                                 token=token, doctor=doctor, auditor=auditor, hospital=hospital, patient=patient):
    step(name, fn)

import reports_walk  # noqa: E402 - the analyst's reports and the residents' page, on this world
for name, fn in reports_walk.steps(base=BASE, driver=driver, wait=wait, page=page, text=text, sign_in=sign_in, call=call,
                                   token=token, admin=admin, city=city, doctor=doctor, clinic=clinic, patient_name="山田 花子"):
    step(name, fn)

driver.quit()
print(f"console: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
