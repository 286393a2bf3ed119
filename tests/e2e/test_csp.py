"""The Content-Security-Policy breaks nothing: the main pages open in Chromium without a single CSP
violation, htmx search, the charts and the data-attribute behaviours (base.js) still work."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.ledger.factories import D
from tests.reports.builders import account, bill, fee_item, pay
from wuye.core.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Recorded by the page itself: the browser fires this event for every blocked script, style, etc.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def seeded(project, make_user):
    boss = make_user("laoban", Role.COMPANY_ADMIN, project, company_role=Role.COMPANY_ADMIN)
    boss.set_password("wuye-e2e-pass")
    boss.is_staff = boss.is_superuser = True
    boss.save()
    cashier = make_user("shouyin", Role.CASHIER, project)
    item = fee_item(project)
    acct = account(project, "1-1-101", owner="张三丰")
    bill(acct, item, "100.00", D(2025, 1, 1))
    payment = pay(cashier, acct, "50.00", business_date=D(2025, 3, 20))
    return acct, payment


def test_main_pages_run_under_the_policy_without_violations(browser, live_server, seeded):
    acct, payment = seeded
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(WATCH)
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "laoban")
    page.fill("#id_password", "wuye-e2e-pass")
    page.click("button[type=submit]")
    expect(page.locator("header.topbar")).to_be_visible()

    urls = [
        "/",
        "/reports/?as_of=2025-06-30&window=year",
        reverse("registry:household", args=[acct.room_id]),
        reverse("dunning:cases"),
        reverse("ledger:closing"),
        reverse("ledger:window"),
        reverse("ledger:window_room", args=[acct.room_id]),
        reverse("ledger:payment", args=[payment.pk]),
        reverse("ledger:notices"),
        reverse("billing:readings"),
        "/admin/",
        "/api/docs",
    ]
    violations = {}
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__csp")
        if found:
            violations[url] = found
        if url.startswith("/reports/"):
            expect(page.locator("#chart-trend canvas")).to_have_count(1)  # ECharts ran
        if url == "/api/docs":
            expect(page.locator(".swagger-ui")).to_be_visible()
    assert not violations, violations
    assert not console, console

    # htmx: the search box in the header answers as the user types.
    page.goto(f"{live_server.url}/")
    page.fill("#q", "1-1-101")
    expect(page.locator("#search-results a.hit").first).to_be_visible()
    # base.js: "/" focuses the search box (was an inline script).
    page.locator("body").click()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    # base.js: data-confirm asks first; dismissing keeps the day open.
    page.goto(f"{live_server.url}{reverse('ledger:closing')}")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    if page.locator("#close-day").count():
        page.click("#close-day")
        assert asked and "确认日结" in asked[0]
        expect(page.locator("#close-day")).to_be_visible()
    assert not page.evaluate("window.__csp")
