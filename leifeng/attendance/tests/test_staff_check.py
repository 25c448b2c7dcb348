"""代签到 / 代签退: an organizer checks in or out a person who has no phone, at the real time."""

import re
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from leifeng.activities.models import Post
from leifeng.attendance import services
from leifeng.attendance.models import Attendance, AttendanceStatus, CheckRequest, Method
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.core.errors import Conflict, NotFound
from leifeng.core.models import AuditEvent
from leifeng.hours.models import ServiceRecord
from leifeng.testing import make_user

pytestmark = pytest.mark.django_db
API = "/api/v1/attendance"


def staff(actor, post, vol, action, moment, now, key=None, reason=""):
    return services.staff_check(
        actor=actor,
        post_id=post.pk,
        volunteer_id=vol.pk,
        action=action,
        key=key or f"{action}-{moment}",
        at=moment,
        reason=reason,
        now=now,
    )


def test_organizer_checks_a_person_in_and_out_at_the_real_times(post, vol, owner):
    came = staff(owner, post, vol, "in", at(0, 10), now=at(0, 12))  # arrived 08:10, entered two minutes later
    assert came.action == "in" and came.attendance.late and came.attendance.method_in == Method.STAFF
    left = staff(owner, post, vol, "out", at(1, 40), now=at(1, 42))
    att = Attendance.objects.get(volunteer=vol)
    assert left.action == "out" and att.status == AttendanceStatus.CLOSED and att.method_out == Method.STAFF
    assert att.checked_out_at == at(1, 40) and att.marked_by == owner
    # the ledger entry is written as for a kiosk check-out: the 90 minutes present
    assert att.record.minutes == 90 and att.record.started_at == at(0, 10)
    actions = list(AuditEvent.objects.filter(actor=owner).values_list("action", flat=True).order_by("id"))
    assert "attendance.staff_check_in" in actions and "attendance.staff_check_out" in actions


def test_a_time_entered_afterwards_needs_a_reason(post, vol, owner):
    with pytest.raises(ValidationError) as exc:
        staff(owner, post, vol, "in", at(0), now=at(0, 30))  # 08:00 entered at 08:30
    assert "reason" in exc.value.error_dict and "签到时间" in exc.value.error_dict["reason"][0].messages[0]
    staff(owner, post, vol, "in", at(0), now=at(0, 30), reason="老人没有手机，到岗时记在纸上")
    event = AuditEvent.objects.get(action="attendance.staff_check_in")
    assert event.actor == owner and event.note == "老人没有手机，到岗时记在纸上"


@pytest.mark.parametrize(
    ("action", "moment", "now", "words"),
    [
        ("in", at(-1, -30), at(-1, -30), ["签到时间", "07:00", "10:30"]),  # before check-in opens (07:00)
        ("in", at(3), at(3), ["签到时间", "10:30"]),  # after the post's end and its grace
        ("in", at(1), at(0, 30), ["签到时间", "未来"]),  # in the future
    ],
)
def test_times_outside_the_window_are_refused_naming_the_field(post, vol, owner, action, moment, now, words):
    with pytest.raises(ValidationError) as exc:
        staff(owner, post, vol, action, moment, now=now, reason="补登")
    message = exc.value.error_dict["at"][0].messages[0]
    assert all(w in message for w in words), message
    assert not Attendance.objects.exists() and not CheckRequest.objects.exists()


def test_check_out_before_the_check_in_is_refused(post, vol, owner):
    staff(owner, post, vol, "in", at(0, 30), now=at(0, 30))
    with pytest.raises(ValidationError) as exc:
        staff(owner, post, vol, "out", at(0, 20), now=at(1), reason="补登")
    assert (
        "签退时间" in exc.value.error_dict["at"][0].messages[0] and "08:30" in exc.value.error_dict["at"][0].messages[0]
    )


def test_check_out_within_the_grace_after_the_end(post, vol, owner):
    staff(owner, post, vol, "in", at(0), now=at(0))
    staff(owner, post, vol, "out", at(2, 20), now=at(2, 20))  # 10:20, the post ended at 10:00
    assert ServiceRecord.objects.get(volunteer=vol).minutes == 120  # only the post's window counts


def test_in_twice_or_out_without_in_is_a_conflict(post, vol, owner):
    with pytest.raises(Conflict) as exc:
        staff(owner, post, vol, "out", at(1), now=at(1))
    assert exc.value.code == "not_checked_in"
    staff(owner, post, vol, "in", at(0), now=at(0))
    with pytest.raises(Conflict) as exc:
        staff(owner, post, vol, "in", at(0, 5), now=at(0, 5), key="another")
    assert exc.value.code == "already_in" and "李娜" in exc.value.message


def test_a_no_show_marked_too_early_can_still_be_checked_in(post, vol, owner):
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=vol.pk, mark="absent", now=at(0, 5))
    staff(owner, post, vol, "in", at(0, 20), now=at(0, 20))
    assert list(Attendance.objects.values_list("status", flat=True)) == ["open"]


def test_retry_with_the_same_key_is_one_record(post, vol, owner):
    first = staff(owner, post, vol, "in", at(0), now=at(0), key="same")
    again = staff(owner, post, vol, "in", at(0), now=at(0, 1), key="same")
    assert again.replayed and again.attendance.pk == first.attendance.pk
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 1


def test_no_time_given_means_the_moment_of_the_request_and_needs_no_reason(post, vol, owner):
    staff(owner, post, vol, "in", None, now=at(0, 10), key="in")
    staff(owner, post, vol, "out", None, now=at(1, 50), key="out")  # 100 minutes later, still no time given
    att = Attendance.objects.get(volunteer=vol)
    assert (att.checked_in_at, att.checked_out_at) == (at(0, 10), at(1, 50))
    assert att.record.minutes == 100
    notes = AuditEvent.objects.filter(action__startswith="attendance.staff_check_").values_list("note", flat=True)
    assert list(notes) == ["", ""]


def test_personas(post, vol, owner, colleague, outsider, tree, make_volunteer):
    neighbour = make_user("xijie_staff", role="org_staff", org=tree.st_a2)  # staff of the station next door
    for user in (neighbour, outsider):
        with pytest.raises(NotFound):
            staff(user, post, vol, "in", at(0), now=at(0), key=f"k-{user.pk}")
    stranger = make_volunteer()  # not signed up for the post
    with pytest.raises(NotFound):
        staff(owner, post, stranger, "in", at(0), now=at(0))
    assert not Attendance.objects.exists()
    staff(colleague, post, vol, "in", at(0), now=at(0))  # staff of the organizing station
    leader = make_user("duizhang", role="team_leader", org=tree.st_a1)  # a team leader allowed by may_run
    staff(leader, post, vol, "out", at(1), now=at(1))
    assert Attendance.objects.get().record.minutes == 60


def test_a_night_post_checked_out_after_midnight(activity, make_volunteer, owner):
    night = Post.objects.create(
        activity=activity,
        title="夜间巡逻",
        starts_at=timezone.make_aware(datetime(2026, 3, 5, 22)),
        ends_at=timezone.make_aware(datetime(2026, 3, 6, 2)),
        quota=5,
    )
    vol = make_volunteer()
    sign_up(night, vol)
    staff(owner, night, vol, "in", night.starts_at, now=night.starts_at)
    staff(owner, night, vol, "out", night.ends_at, now=night.ends_at + timedelta(minutes=3))
    record = ServiceRecord.objects.get(volunteer=vol)
    assert record.minutes == 240 and record.day_minutes == {"2026-03-05": 120, "2026-03-06": 120}


# ---------------------------------------------------------------- page


@pytest.fixture
def clock(monkeypatch):
    def set_now(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_now(at(0, 10))
    return set_now


def time_field(page: str, vol) -> str:
    """The time input of the person's 代签到/代签退 form, as drawn."""
    return re.search(rf'id="staff-{vol.pk}".*?(<input[^>]*name="at"[^>]*>)', page, re.S).group(1)


def form_key(page: str, vol) -> str:
    return re.search(rf'id="staff-{vol.pk}".*?name="key" value="([0-9a-f]+)"', page, re.S).group(1)


def test_roll_call_page_offers_the_buttons_to_organizers_only(client_for, post, vol, owner, outsider, clock):
    url = reverse("attendance:roll_call", args=[post.pk])
    body = client_for(owner).get(url).content.decode()
    field = time_field(body, vol)
    # the time starts empty (empty = the moment the button is pressed), never the moment the page was drawn
    assert "代签到" in body and 'type="datetime-local"' in field and "value=" not in field and "required" not in field
    assert "留空即为当前时间。" in body and "2026-03-05T08:10" not in body
    assert client_for(outsider).get(url).status_code == 404
    target = reverse("attendance:staff_check", args=[post.pk, vol.pk])
    assert client_for(outsider).post(target, {"action": "in", "key": "k"}).status_code == 404


def test_page_checks_in_then_out_with_htmx(client_for, post, vol, owner, clock):
    c = client_for(owner)
    page = c.get(reverse("attendance:roll_call", args=[post.pk])).content.decode()
    key = form_key(page, vol)
    target = reverse("attendance:staff_check", args=[post.pk, vol.pk])
    for _ in range(2):  # the same form sent twice: one check-in
        done = c.post(target, {"action": "in", "at": "2026-03-05T08:05", "key": key}, headers={"HX-Request": "true"})
        body = done.content.decode()
        assert done.status_code == 200 and "<html" not in body and "李娜" in body and "08:05" in body
    assert "代签退" in body
    assert Attendance.objects.get(volunteer=vol).checked_in_at == at(0, 5)
    clock(at(1, 50))
    done = c.post(target, {"action": "out", "at": "2026-03-05T09:45", "key": "k-out", "reason": "家人来接，提前离开"})
    assert done.status_code == 302
    assert ServiceRecord.objects.get(volunteer=vol).minutes == 100


def test_a_page_left_open_checks_out_at_the_moment_the_button_is_pressed(client_for, post, vol, owner, clock):
    """The leader checks her in at 08:10 and keeps the roster open on the phone; at 09:50 she leaves and the
    leader presses 代签退 on the form drawn at 08:10 without touching the time."""
    c = client_for(owner)
    target = reverse("attendance:staff_check", args=[post.pk, vol.pk])
    page = c.get(reverse("attendance:roll_call", args=[post.pk])).content.decode()
    came = c.post(target, {"action": "in", "at": "", "key": form_key(page, vol)}, headers={"HX-Request": "true"})
    assert "李娜 已于 03-05 08:10 代签到。" in came.content.decode()
    roster = came.content.decode()  # the roster swapped in at 08:10: what stays on the screen
    assert "代签退" in roster and "value=" not in time_field(roster, vol)

    clock(at(1, 50))
    left = c.post(target, {"action": "out", "at": "", "key": form_key(roster, vol)}, headers={"HX-Request": "true"})
    body = left.content.decode()
    assert "李娜 已于 03-05 09:50 代签退。" in body and "msg error" not in body  # accepted, no reason asked for
    att = Attendance.objects.get(volunteer=vol)
    assert (att.checked_in_at, att.checked_out_at, att.method_out) == (at(0, 10), at(1, 50), Method.STAFF)
    assert ServiceRecord.objects.get(volunteer=vol).minutes == 100  # not the 0 minutes of a check-out at 08:10
    assert AuditEvent.objects.get(action="attendance.staff_check_out").note == ""


def test_page_shows_a_wrong_time_with_the_field_name(client_for, post, vol, owner, clock):
    target = reverse("attendance:staff_check", args=[post.pk, vol.pk])
    done = client_for(owner).post(
        target, {"action": "in", "at": "2026-03-05T06:00", "key": "k", "reason": "x"}, headers={"HX-Request": "true"}
    )
    assert "签到时间" in done.content.decode() and "07:00" in done.content.decode()
    garbled = client_for(owner).post(
        target, {"action": "in", "at": "tomorrow", "key": "k2"}, headers={"HX-Request": "true"}
    )
    assert "时间" in garbled.content.decode()
    assert not Attendance.objects.exists()


# ---------------------------------------------------------------- API


def test_api_three_personas_and_idempotency(client_for, post, vol, owner, colleague, outsider, clock):
    body = {"volunteer_number": vol.number}
    url = f"{API}/posts/{post.pk}/staff-check-in"
    denied = client_for(outsider).post(url, body, content_type="application/json", headers={"Idempotency-Key": "o"})
    assert denied.status_code == 404
    r1 = client_for(owner).post(url, body, content_type="application/json", headers={"Idempotency-Key": "x1"})
    r2 = client_for(owner).post(url, body, content_type="application/json", headers={"Idempotency-Key": "x1"})
    assert r1.status_code == r2.status_code == 200 and r1.json()["attendance"]["method_in"] == "staff"
    assert r2.json()["replayed"] is True and r2.json()["attendance"]["id"] == r1.json()["attendance"]["id"]
    assert Attendance.objects.count() == 1
    roster = client_for(owner).get(f"{API}/posts/{post.pk}/roll-call").json()["items"]
    assert roster[0]["presence"] == "open" and datetime.fromisoformat(roster[0]["checked_in_at"]) == at(0, 10)
    clock(at(1, 12))
    out = client_for(colleague).post(
        f"{API}/posts/{post.pk}/staff-check-out",
        {**body, "at": at(1, 10).isoformat()},
        content_type="application/json",
        headers={"Idempotency-Key": "x2"},
    )
    assert out.status_code == 200 and out.json()["action"] == "out" and out.json()["attendance"]["minutes"] == 60


def test_api_wrong_time_names_the_field(client_for, post, vol, owner, clock):
    r = client_for(owner).post(
        f"{API}/posts/{post.pk}/staff-check-in",
        {"volunteer_number": vol.number, "at": at(-2).isoformat(), "reason": "补登", "key": "k"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "签到时间" in r.json()["error"]["fields"]["at"][0]
    missing = client_for(owner).post(
        f"{API}/posts/{post.pk}/staff-check-in",
        {"volunteer_number": vol.number, "at": at(0).isoformat(), "key": "k"},
        content_type="application/json",
    )
    assert missing.status_code == 400 and missing.json()["error"]["fields"].get("reason")


def test_api_without_a_time_checks_out_at_the_moment_of_the_request(client_for, post, vol, owner, clock):
    body = {"volunteer_number": vol.number}
    came = client_for(owner).post(f"{API}/posts/{post.pk}/staff-check-in", {**body, "key": "in"}, "application/json")
    assert came.status_code == 200
    clock(at(1, 40))  # 90 minutes later, still no `at`: no reason is asked for
    left = client_for(owner).post(f"{API}/posts/{post.pk}/staff-check-out", {**body, "key": "out"}, "application/json")
    assert left.status_code == 200 and left.json()["attendance"]["minutes"] == 90
    assert datetime.fromisoformat(left.json()["attendance"]["checked_out_at"]) == at(1, 40)
