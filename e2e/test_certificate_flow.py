"""The certificate flow in real Chromium on a phone-sized screen (Debian's chromium, Playwright).

A volunteer asks their station for a certificate → the station head issues it → the volunteer downloads
the PDF → an anonymous visitor opens the verification page and sees it is genuine.
Screenshots: test-artifacts/screenshots/certificate-*.png.
Skips without Chromium, fails under CI=true (e2e/conftest.py).
"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from e2e.helpers import login
from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.hours.models import Certificate, CertificateStatus, RecordKind
from leifeng.hours.tests.test_certificate_services import add_record

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture
def phone(browser):
    """A 360-px phone that accepts downloads (the PDF), from the session's Chromium (e2e/conftest.py)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"certificate-{name}.png"), full_page=True)


def test_request_issue_download_verify_on_a_phone(transactional_db, live_server, phone, settings):
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    tree = testing.build_tree()
    testing.make_user("zhanzhang", role=Role.ORG_ADMIN, org=tree.st_a1, display_name="东关站长")
    user = testing.make_user("xiaozhang", role=Role.VOLUNTEER, org=tree.st_a1, display_name="张小雷")
    volunteer = testing.VolunteerFactory(user=user, org=tree.st_a1, name="张小雷")
    yesterday = date.today() - timedelta(days=1)
    add_record(volunteer, tree.st_a1, yesterday, 120, content="学雷锋日清扫街道")
    add_record(volunteer, tree.st_a1, yesterday, 90, kind=RecordKind.BACKFILLED, content="文明交通劝导")
    base, page = live_server.url, phone

    # 1. The volunteer asks 东关社区站 for a certificate, on the phone.
    login(page, base, "xiaozhang")
    page.goto(f"{base}/hours/certificates/mine/")
    expect(page.locator("h1")).to_have_text("我的志愿服务证明")
    page.select_option("select[name=org]", label="东关社区站")
    page.fill("input[name=period_from]", (yesterday - timedelta(days=30)).isoformat())
    page.fill("input[name=period_to]", yesterday.isoformat())
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".msg")).to_contain_text("申请已提交")
    expect(page.locator("table")).to_contain_text("申请中")
    shot(page, "1-requested")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1  # nothing wider than the phone

    # 2. The station head opens the queue and issues it.
    login(page, base, "zhanzhang")
    page.goto(f"{base}/hours/certificates/")
    page.get_by_role("link", name="张小雷").click()
    expect(page.locator("main")).to_contain_text("学雷锋日清扫街道")
    page.fill("input[name=person_in_charge]", "李站长")
    page.fill("input[name=contact_phone]", "0531-1234567")
    page.get_by_role("button", name="出具证明").click()
    expect(page.locator(".msg")).to_contain_text("证明已出具")
    cert = Certificate.objects.get()
    assert cert.status == CertificateStatus.ISSUED
    expect(page.locator("main")).to_contain_text(cert.number)
    shot(page, "2-issued")

    # 3. The volunteer downloads the PDF.
    login(page, base, "xiaozhang")
    page.goto(f"{base}/hours/certificates/mine/")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and download.value.suggested_filename == f"{cert.number}.pdf"

    # 4. Anyone scanning the QR code lands on the verification page.
    page.context.clear_cookies()
    page.goto(cert.content["verification_url"])
    expect(page.locator("main")).to_contain_text("证明真实有效")
    expect(page.locator("main")).to_contain_text("张小雷")
    expect(page.locator("main")).to_contain_text("事后补录")
    shot(page, "3-verified")
