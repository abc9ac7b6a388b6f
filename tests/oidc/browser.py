"""The console's sign-in through the test provider, in headless Chromium (Debian's, through
chromedriver): the sign-in page's button, the provider's login form, back to carepath's
callback, the console's home page as the mapped user. Then a refused sign-in (an account whose
roles map to nothing) shows carepath's page naming the missing mapping, and a tampered callback
(a state that does not match) is refused.

Usage: browser.py CAREPATH_ORIGIN ARTEFACT_DIR
"""

import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By

origin, artefacts = sys.argv[1], sys.argv[2]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,900"]:
    options.add_argument(arg)
driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def wait_for(predicate, what, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:  # the page is between loads
            pass
        time.sleep(0.2)
    driver.save_screenshot(f"{artefacts}/failed.png")
    raise SystemExit(f"FAIL: {what}; at {driver.current_url}: {driver.page_source[:600]}")


def sign_in(login):
    driver.delete_all_cookies()
    driver.get(f"{origin}/console/login?lang=en")
    driver.find_element(By.ID, "oidc-sign-in").click()
    wait_for(lambda: driver.find_elements(By.NAME, "login"), "the provider's login form")
    driver.find_element(By.NAME, "login").send_keys(login)
    driver.find_element(By.NAME, "password").send_keys("any-password")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # A provider may still ask for consent once; grant it.
    time.sleep(0.5)
    if "/interaction/" in driver.current_url and driver.find_elements(By.CSS_SELECTOR, "button[type=submit]"):
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


try:
    sign_in("kc-physician")
    wait_for(lambda: driver.current_url.rstrip("/").endswith("/console") and "kc-physician" in driver.page_source,
             "the console's home page as kc-physician")
    driver.save_screenshot(f"{artefacts}/signed-in.png")
    print("ok: signed in through the provider (authorization code + PKCE), home page as kc-physician")

    sign_in("kc-nobody")
    wait_for(lambda: "maps to no carepath role" in driver.page_source, "the page naming the missing mapping")
    driver.save_screenshot(f"{artefacts}/refused.png")
    print("ok: an account whose roles map to nothing is refused, naming the mapping")

    driver.delete_all_cookies()
    driver.get(f"{origin}/console/login?lang=en")
    driver.find_element(By.ID, "oidc-sign-in").click()
    wait_for(lambda: driver.find_elements(By.NAME, "login"), "the provider's login form")
    driver.get(f"{origin}/console/oidc/callback?code=forged&state=not-this-one")
    wait_for(lambda: "state does not match" in driver.page_source, "a refused state")
    print("ok: a callback whose state does not match is refused")
finally:
    driver.quit()
