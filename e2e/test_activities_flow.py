"""Issue #4's browser flow in real Chromium (活动 → 报名 → 扫码签到签退 → 时长 → 志愿服务记录证明):

the station head publishes an activity on a desktop screen → a volunteer finds it and signs up on a phone →
on the day the station head opens the kiosk; the volunteer "scans" its rotating QR code (the code is decoded
from a screenshot of the kiosk page, as a phone camera would) and checks in; two hours later, on the rotated
code, checks out → the station head sees the verified hours → the volunteer asks for a certificate, the station
head issues it, the volunteer downloads the PDF and its verification page says it is genuine.
A second test: a kiosk URL older than the token lifetime is refused with the app's message.

The clock: sign-up needs a post that has not started, check-in a post that is running. "Two hours pass" is
simulated the way the project's tests move clocks: `django.utils.timezone.now` is patched (pytest's
monkeypatch) to the real time plus an offset. The live server runs in this process, so the pages, the kiosk
token signer and the ledger all see the same moved clock; nothing is written to the database behind the UI.
Screenshots: test-artifacts/screenshots/activities-NN-*.png.
"""

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.helpers import local_input, login
from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.activities.models import Activity, ActivityStatus, Post, Signup, SignupStatus
from leifeng.attendance import services as attendance
from leifeng.attendance.models import Attendance
from leifeng.core.errors import ServiceError
from leifeng.hours.certificates import hours_text
from leifeng.hours.models import Certificate, CertificateStatus, RecordKind, ServiceRecord

pytestmark = pytest.mark.browser

TITLE = "学雷锋日·东关社区环境清扫"
POST = "清扫东关大街"
NAME = "雷小锋"
SLOW = 60000  # generous waits: the machine may be busy


def decode_kiosk_qr(page) -> str:
    """Photograph the QR code on the kiosk screen and decode it, as the phone camera does."""
    import zxingcpp
    from PIL import Image

    img = page.locator("#kiosk-qr img")
    expect(img).to_be_visible()
    png = img.screenshot()
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png))) if r.format.name == "QRCode"]
    assert len(found) == 1, f"expected one QR code on the kiosk, found {found}"
    return found[0]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def next_fresh_code(page, activity: Activity, shown: str) -> str:
    """Wait for the kiosk to draw a new code (htmx, every KIOSK_ROTATE_SECONDS) that is valid now."""
    img = page.locator("#kiosk-qr img")
    for _ in range(4):
        old_src = img.get_attribute("src")
        expect(img).not_to_have_attribute("src", old_src, timeout=SLOW)  # polling for the rotation
        url = decode_kiosk_qr(page)
        try:
            attendance.verify_token(activity, token_of(url))
        except ServiceError:  # drawn just before the clock moved: wait for the next one
            continue
        assert url != shown
        return url
    raise AssertionError("the kiosk never showed a fresh code")


def test_publish_signup_kiosk_checkin_checkout_hours_certificate(
    transactional_db, live_server, desktop, phone, shot, clock, settings
):
    settings.SITE_URL = live_server.url  # the certificate's verification link points at this server
    tree = testing.build_tree()
    testing.make_user("zhanzhang", role=Role.ORG_ADMIN, org=tree.st_a1, display_name="东关站长")
    vol_user = testing.make_volunteer_user("xiaolei", org=tree.st_a1, display_name=NAME, name=NAME)
    volunteer = vol_user.volunteer
    base = live_server.url
    org_page, vol_page = desktop, phone
    for page in (org_page, vol_page):
        page.set_default_timeout(SLOW / 2)
        page.set_default_navigation_timeout(SLOW)

    # The post: from the next full minute after an hour from now, for two hours.
    now = timezone.now()
    starts = (now + timedelta(hours=1, minutes=1)).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=2)

    # 1. The station head creates the activity with its post and publishes it (desktop).
    login(org_page, base, "zhanzhang")
    org_page.goto(f"{base}/activities/new/")
    expect(org_page.locator("h1")).to_have_text("新建活动")
    org_page.select_option("select[name=org]", value=str(tree.st_a1.pk))
    org_page.fill("input[name=title]", TITLE)
    org_page.select_option("select[name=category]", value="environment")
    org_page.fill("textarea[name=description]", "清扫街道、清理小广告，美化社区环境。")
    org_page.fill("input[name=address]", "东关大街与解放路路口")
    org_page.fill("input[name=contact_name]", "东关站长")
    org_page.fill("input[name=contact_phone]", "029-88886666")
    org_page.locator("main form[novalidate] button[type=submit]").click()
    expect(org_page.locator(".messages")).to_contain_text("草稿已保存，请添加岗位。")
    expect(org_page.locator("h1 .badge")).to_have_text("草稿")
    post_form = org_page.locator("form[action$='/posts/add/']")
    post_form.locator("input[name=title]").fill(POST)
    post_form.locator("input[name=starts_at]").fill(local_input(starts))
    post_form.locator("input[name=ends_at]").fill(local_input(ends))
    post_form.locator("input[name=quota]").fill("10")
    shot(org_page, "activities-01-organizer-adds-post")
    post_form.get_by_role("button", name="添加岗位").click()
    expect(org_page.locator(".messages")).to_contain_text("岗位已添加。")
    expect(org_page.locator("table tbody tr", has_text=POST)).to_contain_text(
        timezone.localtime(starts).strftime("%Y-%m-%d %H:%M")
    )
    org_page.locator("main").get_by_role("link", name="返回活动").click()
    org_page.locator("main").get_by_role("button", name="发布", exact=True).click()
    expect(org_page.locator(".messages")).to_contain_text("已发布：志愿者现在可以报名了。")
    expect(org_page.locator("h1 .badge")).to_have_text("已发布")
    shot(org_page, "activities-02-organizer-published")
    activity = Activity.objects.get(title=TITLE)
    assert activity.status == ActivityStatus.PUBLISHED

    # 2. The volunteer finds the activity on the phone, signs up and sees it in 我的岗位.
    login(vol_page, base, "xiaolei")
    vol_page.goto(f"{base}/activities/")
    expect(vol_page.locator("h1")).to_have_text("找活动")
    card = vol_page.locator("#results .card", has_text=TITLE)
    expect(card).to_contain_text("东关大街与解放路路口")
    expect(card).to_contain_text("0 / 10")
    card.get_by_role("link", name=TITLE).click()
    expect(vol_page.locator("h1")).to_contain_text(TITLE)
    post_card = vol_page.locator("#posts .card", has_text=POST)
    expect(post_card.locator(".left")).to_have_text("10")
    post_card.get_by_role("button", name="报名").click()
    expect(vol_page.locator("#posts .messages")).to_contain_text("报名成功。")
    expect(post_card.locator(".badge")).to_have_text("已报名")
    expect(post_card.locator(".left")).to_have_text("9")
    shot(vol_page, "activities-03-volunteer-signed-up-phone")
    vol_page.goto(f"{base}/activities/mine/")
    expect(vol_page.locator("h1")).to_have_text("我的岗位")
    shift = vol_page.locator("tbody tr", has_text=TITLE)
    expect(shift).to_contain_text(POST)
    expect(shift).to_contain_text(timezone.localtime(starts).strftime("%H:%M"))
    expect(shift.locator(".badge")).to_have_text("已报名")
    shot(vol_page, "activities-04-my-shifts-phone")
    assert vol_page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
    assert Signup.objects.get(volunteer=volunteer).status == SignupStatus.CONFIRMED

    # 3. The day comes: ten minutes before the post starts the station head starts the activity and
    #    opens the kiosk; the volunteer scans its QR code and checks in.
    clock.set(starts - timedelta(minutes=10))
    org_page.reload()
    org_page.locator("main").get_by_role("button", name="开始活动").click()
    expect(org_page.locator(".messages")).to_contain_text("活动已开始。")
    expect(org_page.locator("h1 .badge")).to_have_text("进行中")
    org_page.goto(f"{base}/attendance/kiosk/{activity.pk}/")
    expect(org_page.locator("h2").first).to_have_text("扫码签到 / 签退")
    expect(org_page.locator("#kiosk-qr img")).to_have_attribute("alt", "签到二维码")
    shot(org_page, "activities-05-kiosk")
    checkin_url = decode_kiosk_qr(org_page)
    assert checkin_url.startswith(f"{base}/attendance/scan/?t={activity.pk}:")

    vol_page.goto(checkin_url)
    expect(vol_page.locator("h1")).to_have_text(TITLE)
    vol_page.get_by_role("button", name="签到 / 签退").click()
    expect(vol_page.locator("#outcome")).to_have_text(re.compile(rf"^已于 \d\d:\d\d 在“{POST}”签到。$"))
    presence = Attendance.objects.get(volunteer=volunteer)
    expect(vol_page.locator("#outcome")).to_contain_text(timezone.localtime(presence.checked_in_at).strftime("%H:%M"))
    expect(vol_page.locator("main")).to_contain_text("离开时再扫一次二维码即可签退。")
    shot(vol_page, "activities-06-checked-in-phone")
    assert presence.checked_out_at is None and not presence.late  # ten minutes early

    # 4. Two hours pass: the post has ended five minutes ago and the volunteer scans again to check out,
    #    on the code the kiosk shows now (the one from the check-in has long expired).
    clock.set(ends + timedelta(minutes=5))
    checkout_url = next_fresh_code(org_page, activity, shown=checkin_url)
    vol_page.goto(checkout_url)
    vol_page.get_by_role("button", name="签到 / 签退").click()
    # Presence from 10 min before the start to 5 min after the end: the post's window counts, 120 minutes.
    expect(vol_page.locator("#outcome")).to_have_text(re.compile(r"^已于 \d\d:\d\d 签退。\s*已记录 120 分钟。$"))
    presence.refresh_from_db()
    expect(vol_page.locator("#outcome")).to_contain_text(timezone.localtime(presence.checked_out_at).strftime("%H:%M"))
    shot(vol_page, "activities-07-checked-out-phone")
    record = ServiceRecord.objects.get(volunteer=volunteer)
    assert (record.minutes, record.kind, record.post.title) == (120, RecordKind.VERIFIED, POST)
    assert Attendance.objects.filter(volunteer=volunteer).count() == 1

    # 5. The station head reviews the activity's hours.
    org_page.locator("main").get_by_role("link", name="时长审核").click()
    expect(org_page).to_have_url(re.compile(rf"/hours/activities/{activity.pk}/review/$"))
    expect(org_page.locator("h1")).to_contain_text(TITLE)
    expect(org_page.locator("#verified")).to_have_text("120")
    row = org_page.locator("tbody tr", has_text=NAME)
    expect(row).to_contain_text(volunteer.number)
    expect(row.locator("td[data-label=分钟]")).to_have_text("120")
    expect(row).to_contain_text("签到签退记录")
    shot(org_page, "activities-08-hours-review")

    # 6. The volunteer asks the station for a certificate of this month's service (phone).
    service_day = timezone.localdate(starts)
    period = (service_day.replace(day=1), timezone.localdate())
    vol_page.goto(f"{base}/hours/certificates/mine/")
    expect(vol_page.locator("h1")).to_have_text("我的志愿服务证明")
    vol_page.select_option("select[name=org]", label=tree.st_a1.name)
    vol_page.fill("input[name=period_from]", period[0].isoformat())
    vol_page.fill("input[name=period_to]", period[1].isoformat())
    vol_page.get_by_role("button", name="提交申请").click()
    expect(vol_page.locator(".messages")).to_contain_text(f"申请已提交给{tree.st_a1.name}。")
    expect(vol_page.locator("tbody tr", has_text=tree.st_a1.name)).to_contain_text("申请中")

    # 7. The station head issues it from the queue.
    org_page.goto(f"{base}/hours/certificates/")
    org_page.locator("#results tbody tr", has_text=NAME).get_by_role("link", name=NAME).click()
    expect(org_page.locator("main")).to_contain_text(TITLE)
    expect(org_page.locator("main")).to_contain_text("120")
    org_page.fill("input[name=person_in_charge]", "东关站长")
    org_page.fill("input[name=contact_phone]", "029-88886666")
    org_page.get_by_role("button", name="出具证明").click()
    expect(org_page.locator(".messages")).to_contain_text("证明已出具。")
    cert = Certificate.objects.get(volunteer=volunteer)
    assert cert.status == CertificateStatus.ISSUED and cert.total_minutes == 120
    expect(org_page.locator("main")).to_contain_text(cert.number)
    shot(org_page, "activities-09-certificate-issued")

    # 8. The volunteer downloads the PDF and opens the verification page.
    vol_page.reload()
    mine = vol_page.locator("tbody tr", has_text=tree.st_a1.name)
    expect(mine).to_contain_text(hours_text(120))
    link = mine.get_by_role("link", name="下载 PDF")
    pdf_response = vol_page.request.get(base + link.get_attribute("href"))
    assert pdf_response.status == 200
    assert pdf_response.headers["content-type"] == "application/pdf"
    assert pdf_response.body().startswith(b"%PDF")
    with vol_page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{cert.number}.pdf"
    shot(vol_page, "activities-10-my-certificates-phone")

    mine.get_by_role("link", name=tree.st_a1.name).click()
    verify = vol_page.get_by_role("link", name="核验页面")
    verify_url = base + verify.get_attribute("href")
    assert verify_url == cert.content["verification_url"]  # the address the PDF's QR code carries
    vol_page.context.clear_cookies()  # whoever scans the certificate needs no account
    vol_page.goto(verify_url)
    main = vol_page.locator("main")
    expect(main).to_contain_text("证明真实有效")
    expect(main).to_contain_text(cert.number)
    expect(main).to_contain_text(NAME)
    expect(main).to_contain_text(volunteer.id_masked)
    expect(main).to_contain_text(TITLE)
    expect(main.locator("dd strong").filter(has_text=re.compile(r"^2$"))).to_have_count(1)  # 2 hours
    assert "*" in volunteer.id_masked
    shot(vol_page, "activities-11-verification-phone")


def test_stale_kiosk_code_is_refused_in_the_browser(transactional_db, live_server, phone, shot):
    tree = testing.build_tree()
    vol_user = testing.make_volunteer_user("xiaolei", org=tree.st_a1, display_name=NAME, name=NAME)
    starts = timezone.now() + timedelta(minutes=30)
    activity = Activity.objects.create(
        org=tree.st_a1, title=TITLE, category="environment", address="东关大街", status=ActivityStatus.PUBLISHED
    )
    post = Post.objects.create(
        activity=activity, title=POST, starts_at=starts, ends_at=starts + timedelta(hours=2), quota=5
    )
    from leifeng.activities import services as activity_services

    activity_services.signup_create(actor=vol_user, post=post.pk)
    # A photo of the kiosk taken longer ago than a code lives, signed by the app's own token function.
    taken = timezone.now() - timedelta(seconds=attendance.KIOSK_TOKEN_MAX_AGE + 30)
    stale = attendance.kiosk_token(activity, now=taken)
    base, page = live_server.url, phone
    page.set_default_timeout(SLOW / 2)
    page.set_default_navigation_timeout(SLOW)
    login(page, base, "xiaolei")

    page.goto(f"{base}/attendance/scan/?t={stale}")
    expired = "签到码已过期（每隔几秒更换一次）：请重新扫描屏幕上的二维码。"
    expect(page.locator("#outcome")).to_have_text(expired)
    shot(page, "activities-12-stale-code-phone")
    page.get_by_role("button", name="重试").click()  # submitting it anyway changes nothing
    expect(page.locator("#outcome")).to_have_text(expired)
    assert not Attendance.objects.exists()

    # The same activity's current code is accepted: the refusal is about age only.
    page.goto(f"{base}/attendance/scan/?t={attendance.kiosk_token(activity)}")
    page.get_by_role("button", name="签到 / 签退").click()
    expect(page.locator("#outcome")).to_contain_text(f"在“{POST}”签到。")
    assert Attendance.objects.filter(volunteer=vol_user.volunteer).count() == 1
