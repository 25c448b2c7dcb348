"""代签到 / 代签退 in real Chromium: a team leader checks in and out, from the roll-call page on a phone, a
volunteer who has no phone of their own.

The station head sets up the activity through the services (a post starting in an hour, the volunteer
signed up); then the clock moves to the running post. The clock is moved as in test_activities_flow:
`django.utils.timezone.now` is patched (pytest's monkeypatch) to the real time plus an offset (or, frozen, to
one moment), and the live server runs in this process, so the page and the service both see the moved clock.
Everything after the set-up goes through the page: open the 代签到 panel of the person's row, leave the time
empty (it means the moment the button is pressed) or type it, give a reason when the time lies in the past,
press the button (htmx swaps the roster).
Screenshots: test-artifacts/screenshots/staff-check-NN-*.png.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.helpers import local_input, login
from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.activities import services as activity_services
from leifeng.activities.models import Post
from leifeng.attendance.models import Attendance, AttendanceStatus, CheckRequest, Method
from leifeng.core.models import AuditEvent
from leifeng.hours.models import RecordKind, ServiceRecord
from leifeng.people.models import Volunteer

pytestmark = pytest.mark.browser

TITLE = "学雷锋日·东关社区敬老助餐"
POST = "助餐点帮厨"
NAME = "张秀兰"  # an elderly volunteer without a smartphone
LEADER = "王队长"
SLOW = 60000  # generous waits: the machine may be busy


@dataclass
class Scene:
    post: Post
    volunteer: Volunteer
    leader: object
    starts: datetime


@pytest.fixture
def scene(transactional_db) -> Scene:
    """东关社区站's published activity with a two-hour post starting at the next full minute after an hour
    from now; the volunteer signed up for it (confirmed); a team leader of the station runs the roll call."""
    tree = testing.build_tree()
    head = testing.make_user("zhanzhang", role=Role.ORG_ADMIN, org=tree.st_a1, display_name="东关站长")
    leader = testing.make_user("duizhang", role=Role.TEAM_LEADER, org=tree.st_a1, display_name=LEADER)
    vol_user = testing.make_volunteer_user("zhangxiulan", org=tree.st_a1, display_name=NAME, name=NAME)
    starts = (timezone.now() + timedelta(hours=1, minutes=1)).replace(second=0, microsecond=0)
    activity = activity_services.activity_create(
        actor=head, org_id=tree.st_a1.pk, title=TITLE, category="elderly", address="东关社区老年食堂"
    )
    post = activity_services.post_create(
        actor=head, activity_id=activity.pk, title=POST, starts_at=starts, ends_at=starts + timedelta(hours=2), quota=8
    )
    activity_services.activity_publish(actor=head, activity_id=activity.pk)
    activity_services.signup_create(actor=vol_user, post=post.pk)
    activity_services.activity_start(actor=head, activity_id=activity.pk)
    return Scene(post=post, volunteer=vol_user.volunteer, leader=leader, starts=starts)


def hm(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def mdhm(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def assert_fits_the_phone(page, panel) -> None:
    """The open panel stays on the screen: the roster does not scroll sideways, the fields are fully visible."""
    roster = page.locator("#roster .table-wrap")
    assert roster.evaluate("e => e.scrollWidth - e.clientWidth") <= 1, "the roster scrolls sideways on a phone"
    for field in panel.locator("input:not([type=hidden]), button").all():
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box


def open_roll_call(page, base: str, post: Post, clock, moment: datetime, *, frozen: bool = False) -> None:
    """The leader logs in and, at `moment` (set just before), opens the post's roll call."""
    page.set_default_timeout(SLOW / 2)
    page.set_default_navigation_timeout(SLOW)
    login(page, base, "duizhang")
    clock.set(moment, frozen=frozen)
    page.goto(f"{base}/attendance/posts/{post.pk}/roll-call/")
    expect(page.locator("h1")).to_have_text("点名")
    expect(page.locator("main")).to_contain_text(f"{TITLE} · {POST}")


def test_leader_checks_a_volunteer_in_and_out_on_their_behalf(live_server, phone, shot, clock, scene):
    base, page, vol, starts = live_server.url, phone, scene.volunteer, scene.starts
    arrived = starts + timedelta(minutes=5)

    # 1. Five minutes into the post the leader opens the roll call: the volunteer is signed up, not checked in.
    #    (The clock stands still at that minute until step 3, so "now" below is exactly `arrived`.)
    open_roll_call(page, base, scene.post, clock, arrived, frozen=True)
    row = page.locator(f"#member-{vol.pk}")
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text(vol.number)
    expect(row.locator("td[data-label=当前]")).to_have_text("—")
    assert not Attendance.objects.filter(volunteer=vol).exists()
    shot(page, "staff-check-01-roll-call-phone")

    # 2. She arrived just now: the leader opens 代签到, leaves the time empty (= now, the panel says so) and submits.
    panel = row.locator(f"#staff-{vol.pk}")
    panel.locator("summary").click()
    expect(panel.get_by_label("到达时间")).to_have_value("")
    expect(panel).to_contain_text("留空即为当前时间。")
    expect(panel).to_contain_text("时间早于5分钟前时必填。")
    assert_fits_the_phone(page, panel)
    shot(page, "staff-check-02-check-in-panel-phone")
    panel.locator("form").get_by_role("button", name="代签到").click()
    messages = page.locator("#roster .messages")
    expect(messages).to_have_text(f"{NAME} 已于 {mdhm(arrived)} 代签到。")
    row = page.locator(f"#member-{vol.pk}")
    expect(row.locator("td[data-label=当前] .badge")).to_have_text("已签到")
    expect(row).to_contain_text(f"{hm(arrived)} 起在岗")
    expect(row.locator(f"#staff-{vol.pk} summary")).to_have_text("代签退")
    shot(page, "staff-check-03-checked-in-phone")
    presence = Attendance.objects.get(volunteer=vol)
    assert presence.status == AttendanceStatus.OPEN and presence.checked_in_at == arrived
    assert (presence.method_in, presence.marked_by, presence.late) == (Method.STAFF, scene.leader, True)

    # 3. An hour and a half later she went home; the leader, with the page still open, enters it ten minutes
    #    afterwards: the time she left, and (the time being in the past) why it is entered late.
    left = starts + timedelta(minutes=95)
    clock.set(left + timedelta(minutes=10))
    panel = row.locator(f"#staff-{vol.pk}")
    panel.locator("summary").click()
    panel.get_by_label("离开时间").fill(local_input(left))
    reason = "家人来接，提前离开；当时在忙没来得及录入"
    panel.get_by_label("原因").fill(reason)
    assert_fits_the_phone(page, panel)
    shot(page, "staff-check-04-check-out-panel-phone")
    panel.locator("form").get_by_role("button", name="代签退").click()
    expect(messages).to_have_text(f"{NAME} 已于 {mdhm(left)} 代签退。")
    row = page.locator(f"#member-{vol.pk}")
    expect(row.locator("td[data-label=当前] .badge")).to_have_text("已签退")
    expect(row).not_to_contain_text("起在岗")
    shot(page, "staff-check-05-checked-out-phone")

    # What she is credited with: 5 past the start to 95 past, 90 verified minutes, in her service record.
    presence.refresh_from_db()
    assert presence.status == AttendanceStatus.CLOSED and presence.checked_out_at == left
    assert presence.method_out == Method.STAFF and presence.marked_by == scene.leader
    record = ServiceRecord.objects.get(volunteer=vol)
    assert record == presence.record
    assert (record.minutes, record.kind, record.post_id) == (90, RecordKind.VERIFIED, scene.post.pk)
    assert (record.started_at, record.ended_at) == (arrived, left)
    assert Attendance.objects.filter(volunteer=vol).count() == 1

    # The audit trail names the leader for both, with the reason given for the late entry.
    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="attendance.staff_check_")}
    assert set(events) == {"attendance.staff_check_in", "attendance.staff_check_out"}
    assert all(e.actor == scene.leader for e in events.values())
    assert events["attendance.staff_check_out"].note == reason
    assert events["attendance.staff_check_out"].changes["minutes"] == 90
    assert NAME in events["attendance.staff_check_out"].object_repr

    # Reopened later, the roll call still shows her checked out.
    page.reload()
    expect(page.locator(f"#member-{vol.pk} td[data-label=当前] .badge")).to_have_text("已签退")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone


def test_backdated_check_in_without_a_reason_is_refused(live_server, phone, shot, clock, scene):
    base, page, vol, starts = live_server.url, phone, scene.volunteer, scene.starts

    # 40 minutes into the post the leader enters that she arrived at the start, but gives no reason.
    open_roll_call(page, base, scene.post, clock, starts + timedelta(minutes=40))
    before = (Attendance.objects.count(), CheckRequest.objects.count(), AuditEvent.objects.count())
    row = page.locator(f"#member-{vol.pk}")
    panel = row.locator(f"#staff-{vol.pk}")
    panel.locator("summary").click()
    panel.get_by_label("到达时间").fill(local_input(starts))
    expect(panel.get_by_label("原因")).to_have_value("")
    panel.locator("form").get_by_role("button", name="代签到").click()

    error = page.locator("#roster .messages .msg.error")
    expect(error).to_have_text("签到时间早于5分钟前：请填写事后补登的原因。")
    row = page.locator(f"#member-{vol.pk}")
    expect(row.locator("td[data-label=当前]")).to_have_text("—")
    expect(row).not_to_contain_text("起在岗")
    shot(page, "staff-check-06-backdated-refused-phone")
    assert (Attendance.objects.count(), CheckRequest.objects.count(), AuditEvent.objects.count()) == before
    assert before[0] == 0

    # With the reason the same entry goes through: the refusal was about the missing reason only.
    panel = row.locator(f"#staff-{vol.pk}")
    panel.locator("summary").click()
    panel.get_by_label("到达时间").fill(local_input(starts))
    panel.get_by_label("原因").fill("老人没有手机，到岗时记在纸上")
    panel.locator("form").get_by_role("button", name="代签到").click()
    expect(page.locator("#roster .messages")).to_have_text(f"{NAME} 已于 {mdhm(starts)} 代签到。")
    expect(page.locator(f"#member-{vol.pk} td[data-label=当前] .badge")).to_have_text("已签到")
    presence = Attendance.objects.get(volunteer=vol)
    assert presence.checked_in_at == starts and not presence.late and presence.marked_by == scene.leader
    event = AuditEvent.objects.get(action="attendance.staff_check_in")
    assert event.actor == scene.leader and event.note == "老人没有手机，到岗时记在纸上"

    # An hour later (the roster on the phone is still the one drawn at 40 past) she goes home; the leader
    # presses 代签退 without typing a time: accepted at the moment of the press, no reason asked for.
    pressed = starts + timedelta(minutes=100)
    clock.set(pressed, frozen=True)
    panel = page.locator(f"#staff-{vol.pk}")
    expect(panel.locator("summary")).to_have_text("代签退")
    panel.locator("summary").click()
    expect(panel.get_by_label("离开时间")).to_have_value("")
    expect(panel).to_contain_text("留空即为当前时间。")
    panel.locator("form").get_by_role("button", name="代签退").click()
    expect(page.locator("#roster .messages")).to_have_text(f"{NAME} 已于 {mdhm(pressed)} 代签退。")
    expect(page.locator("#roster .messages .msg.error")).to_have_count(0)
    expect(page.locator(f"#member-{vol.pk} td[data-label=当前] .badge")).to_have_text("已签退")
    shot(page, "staff-check-07-checked-out-time-left-empty-phone")
    presence.refresh_from_db()
    assert presence.status == AttendanceStatus.CLOSED and presence.checked_out_at == pressed
    assert presence.record.minutes == 100  # from the start to the press, not the 40 minutes of the drawn page
    event = AuditEvent.objects.get(action="attendance.staff_check_out")
    assert event.actor == scene.leader and event.note == ""
