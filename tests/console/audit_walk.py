"""The auditor's pages in the browser: the auditor searches the log by an actor's name, pages
through the matches (newest first, the count and the filters kept) and back, reviews a
break-glass opening once however many reads it covered and finds it in the reviewed list with
the finding; the managing clinic's doctor reads who opened the patient's record. browser.py
calls `steps(...)` with its world and helpers and runs each walk as one of its steps."""

from selenium.webdriver.common.by import By

# A header carries ASCII only: the reason as an emergency nurse types it on a device without IME.
REASON = "found unconscious, ambulance transfer"
FINDING = "救急搬送時の正当なアクセスと確認した"


def _seqs(driver):
    return [int(r.get_attribute("data-seq")) for r in driver.find_elements(By.CSS_SELECTOR, "[data-testid=events] tbody tr")]


def steps(*, base, driver, wait, page, text, sign_in, call, token, doctor, auditor, hospital, patient):
    """The walks, as (name, function) pairs for browser.py's `step`. Reads the patient 55 times
    as its doctor first, so the doctor's reads fill more than one page."""
    for _ in range(55):
        call("GET", f"/v1/patients/{patient}", doctor)

    def pages_through_events():
        sign_in(auditor)
        driver.get(base + "/console/audit/events")
        page("audit-events-form")
        driver.find_element(By.ID, "actor").send_keys("新見")
        driver.find_element(By.CSS_SELECTOR, "#action option[value='patient.read']").click()
        driver.find_element(By.CSS_SELECTOR, "[data-testid=event-filters] button[type=submit]").click()
        # The unfiltered page has a count too: wait for the search's own page, not the one it leaves.
        wait.until(lambda d: "actor=" in d.current_url)
        count = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=event-count]"))[0].text
        assert count.startswith("全") and "1–50件目" in count, count
        assert "新見 一郎" in driver.find_element(By.CSS_SELECTOR, "[data-testid=matched-actors]").text
        table = driver.find_element(By.CSS_SELECTOR, "[data-testid=events]").text
        assert "利用者の閲覧" in table and "新見 一郎" in table and "patient.read" not in table, table
        first = _seqs(driver)
        assert len(first) == 50 and first == sorted(first, reverse=True), first
        page("audit-events")
        driver.find_element(By.CSS_SELECTOR, "[data-testid=next]").click()
        wait.until(lambda d: "51–" in d.find_element(By.CSS_SELECTOR, "[data-testid=event-count]").text)
        assert "actor=" in driver.current_url and "before=" in driver.current_url, driver.current_url
        second = _seqs(driver)
        assert second and second[0] < first[-1], (first[-1], second[:3])
        page("audit-events-older")
        driver.find_element(By.CSS_SELECTOR, "[data-testid=previous]").click()
        wait.until(lambda d: "1–50件目" in d.find_element(By.CSS_SELECTOR, "[data-testid=event-count]").text)
        assert _seqs(driver) == first
        csv = driver.find_element(By.CSS_SELECTOR, "[data-testid=csv]").get_attribute("href")
        assert "/console/audit/events.csv?" in csv and "action=patient.read" in csv, csv

    def reviews_an_opening_once():
        # A second emergency nurse breaks the glass and reads twice more within the opening.
        er_nurse = token("er-nurse-2", "nurse", hospital)
        call("GET", f"/v1/patients/{patient}", er_nurse, headers={"x-break-glass": REASON})
        call("GET", f"/v1/patients/{patient}", er_nurse)
        call("GET", f"/v1/patients/{patient}/care-team", er_nurse)
        sign_in(auditor)
        driver.get(base + "/console/audit")
        openings = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=opening]"))
        mine = [o for o in openings if "er-nurse-2" in o.text]
        assert len(mine) == 1, [o.text for o in openings]
        assert REASON in mine[0].text and mine[0].find_element(By.CSS_SELECTOR, "[data-testid=opening-events]").text == "3"
        page("audit-queue")
        mine[0].find_element(By.TAG_NAME, "textarea").send_keys(FINDING)
        mine[0].find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: "er-nurse-2" not in d.find_element(By.CSS_SELECTOR, "[data-testid=queue]").text)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=reviewed-link]").click()
        reviewed = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=reviewed]"))[0].text
        assert FINDING in reviewed and "er-nurse-2" in reviewed and "新見市" in reviewed, reviewed
        page("audit-reviewed")

    def doctor_reads_who_opened_the_record():
        sign_in(doctor)
        driver.get(base + f"/console/patients/{patient}/access-log")
        log = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=access-log]"))[0].text
        assert "県立病院" in log and "看護師" in log and "利用者の閲覧" in log, log
        assert "山田 花子" in driver.find_element(By.CSS_SELECTOR, "[data-testid=patient-name]").text
        page("access-log")

    return [
        ("auditor pages through the events of an actor found by name", pages_through_events),
        ("auditor reviews a break-glass opening once", reviews_an_opening_once),
        ("the managing doctor reads who opened the record", doctor_reads_who_opened_the_record),
    ]
