"""The care manager's morning in the browser: she opens the console and her start page is the
morning page, with the station's answer to the sheet she sent (browser.py's earlier steps send
it and have the nurse answer it) under 回答が届いた連絡票; the line leads to the sheet and its
answer. Then "my patients": her patient first, marked 担当, and found by part of the kana typed
in hiragana. browser.py calls `steps(...)` with its world and helpers after its own steps."""

from selenium.webdriver.common.by import By


def steps(*, base, driver, wait, page, text, sign_in, care_manager, patient):
    """The walks, as (name, function) pairs for browser.py's `step`."""

    def morning():
        sign_in(care_manager)
        driver.get(base + "/console/")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=answered]"))
        assert "今日の確認" in driver.find_element(By.TAG_NAME, "h1").text, text()
        answered = driver.find_element(By.CSS_SELECTOR, "[data-testid=answered]")
        assert "回答が届いた連絡票" in answered.text, answered.text
        assert "山田 花子" in answered.text and "ひまわり訪問看護ステーション" in answered.text, answered.text
        counts = driver.find_element(By.CSS_SELECTOR, "[data-testid=morning-counts]").text
        assert "回答が届いた連絡票 1" in counts, counts
        # Stored instants never show: the answer's time is the region's (12月2日(水) 08:30).
        assert "月" in answered.text and "Z" not in answered.text, answered.text
        page("morning")
        answered.find_element(By.CSS_SELECTOR, "tbody a").click()
        wait.until(lambda d: "/console/sheets/" in d.current_url)
        thread = driver.find_element(By.CSS_SELECTOR, "[data-testid=thread]").text
        assert "仙骨部に発赤があります" in thread, thread

    def my_patients():
        driver.get(base + "/console/patients")
        mine = driver.find_elements(By.CSS_SELECTOR, "[data-testid=patients] tbody tr")[0]
        assert "山田 花子" in mine.text and "担当" in mine.text, mine.text
        assert mine.get_attribute("data-testid") == "mine", mine.get_attribute("outerHTML")
        driver.find_element(By.ID, "name").send_keys("はなこ")
        driver.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
        wait.until(lambda d: "name=" in d.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "[data-testid=patients] tbody tr")
        assert len(rows) == 1 and "山田 花子" in rows[0].text, text()
        assert patient in rows[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        page("my-patients")

    return [
        ("care manager's morning page shows the answered sheet", morning),
        ("my patients: hers first, and found by part of the kana", my_patients),
    ]
