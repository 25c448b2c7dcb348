"""Check-in/out rules a volunteer or organizer would notice."""

from datetime import timedelta

import pytest

from leifeng.attendance import services
from leifeng.attendance.codes import ErrorCode
from leifeng.attendance.models import Attendance, AttendanceStatus, CheckRequest, RollMark
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.core.errors import Conflict, NotFound, ServiceError
from leifeng.hours import selectors as hours
from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord

pytestmark = pytest.mark.django_db


def scan(vol, activity, key, now, **kw):
    token = services.kiosk_token(activity, now=now - timedelta(seconds=5))
    return services.check(actor=vol.user, token=token, key=key, now=now, **kw)


def test_check_in_then_out_records_the_overlap_with_the_post(activity, post, vol):
    first = scan(vol, activity, "k1", at(-0.25))  # 07:45, before the post starts
    assert first.action == "in" and not first.attendance.late
    second = scan(vol, activity, "k2", at(2.5))  # 10:30, after it ended
    assert second.action == "out"
    rec = ServiceRecord.objects.get(volunteer=vol)
    assert rec.minutes == 120 and rec.kind == RecordKind.VERIFIED and rec.source == RecordSource.ATTENDANCE
    assert rec.org == activity.org and rec.post == post
    assert hours.totals(volunteer=vol) == 120


def test_arriving_after_the_start_is_late(activity, post, vol):
    assert scan(vol, activity, "k1", at(0, 10)).attendance.late


def test_stale_qr_code_is_refused(activity, post, vol):
    token = services.kiosk_token(activity, now=at(0))
    with pytest.raises(ServiceError) as exc:
        services.check(actor=vol.user, token=token, key="k", now=at(0, 2))  # a photo two minutes old
    assert exc.value.code == "stale_token"
    assert not Attendance.objects.exists() and not CheckRequest.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: "9" + t,  # another activity id
        lambda t: "garbage",
    ],
)
def test_tampered_token_is_refused(activity, post, vol, mangle):
    token = services.kiosk_token(activity, now=at(0))
    with pytest.raises(ServiceError) as exc:
        services.check(actor=vol.user, token=mangle(token), key="k", now=at(0))
    assert exc.value.code in ("bad_token", "stale_token")
    assert not Attendance.objects.exists()


def test_new_kiosk_secret_voids_shown_codes(activity, post, vol, owner):
    token = services.kiosk_token(activity, now=at(0))
    services.kiosk_reset(actor=owner, activity_id=activity.pk)
    with pytest.raises(ServiceError) as exc:
        services.check(actor=vol.user, token=token, key="k", now=at(0))
    assert exc.value.code == ErrorCode.BAD_TOKEN


def test_retried_check_in_is_one_record(activity, post, vol):
    token = services.kiosk_token(activity, now=at(0))
    first = services.check(actor=vol.user, token=token, key="same", now=at(0))
    again = services.check(actor=vol.user, token=token, key="same", now=at(0, 1))
    late_retry = services.check(actor=vol.user, token="stale", key="same", now=at(1))  # token long expired
    assert first.action == again.action == late_retry.action == "in"
    assert again.replayed and late_retry.replayed and again.attendance.pk == first.attendance.pk
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 1


def test_a_key_of_someone_else_is_refused(activity, post, vol, make_volunteer):
    other = make_volunteer()
    sign_up(post, other)
    scan(vol, activity, "shared", at(0))
    with pytest.raises(Conflict) as exc:
        scan(other, activity, "shared", at(0))
    assert exc.value.code == ErrorCode.KEY_REUSED


def test_not_signed_up_is_refused(activity, post, make_volunteer):
    stranger = make_volunteer()
    with pytest.raises(ServiceError) as exc:
        scan(stranger, activity, "k", at(0))
    assert exc.value.code == "not_signed_up"


def test_too_early_says_when(activity, post, vol):
    with pytest.raises(ServiceError) as exc:
        scan(vol, activity, "k", at(-3))
    assert exc.value.code == "too_early" and "07:00" in exc.value.message


def test_geofence(activity, post, vol):
    activity.latitude, activity.longitude, activity.geofence_m = 34.2655, 108.9508, 200
    activity.save()
    with pytest.raises(ServiceError) as exc:
        scan(vol, activity, "k1", at(0))
    assert exc.value.code == "position_needed"
    with pytest.raises(ServiceError) as exc:
        scan(vol, activity, "k2", at(0), lat=34.2765, lng=108.9508)  # ~1.2 km north
    assert exc.value.code == "outside_geofence" and "1.2 km" in exc.value.message and "200" in exc.value.message
    assert scan(vol, activity, "k3", at(0), lat=34.2660, lng=108.9510).action == "in"  # ~60 m away


@pytest.mark.parametrize(
    ("lat", "lng", "field"),
    [
        (float("nan"), 108.9508, "lat"),
        (34.2655, float("nan"), "lng"),
        (float("inf"), 108.9508, "lat"),
        (34.2655, float("-inf"), "lng"),
        (-90.5, 108.9508, "lat"),
        (34.2655, 181, "lng"),
    ],
)
@pytest.mark.parametrize("fence", [200, None])
def test_a_non_finite_or_impossible_position_is_refused_with_or_without_a_geofence(
    activity, post, vol, lat, lng, field, fence
):
    activity.latitude, activity.longitude, activity.geofence_m = 34.2655, 108.9508, fence
    activity.save()
    with pytest.raises(ServiceError) as exc:
        scan(vol, activity, "k1", at(0), lat=lat, lng=lng)
    assert exc.value.code == "bad_position" and exc.value.field == field and field in exc.value.message
    assert not Attendance.objects.exists() and not CheckRequest.objects.exists()


def test_haversine_distance():
    # Tiananmen to the Forbidden City's north gate is about 1.6 km
    assert 1500 < services.distance_m(39.9087, 116.3975, 39.9230, 116.3972) < 1700


def test_roll_call_present_late_absent(activity, post, vol, make_volunteer, owner):
    late, absent = make_volunteer(), make_volunteer()
    sign_up(post, late)
    sign_up(post, absent)
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=vol.pk, mark=RollMark.PRESENT, now=at(-0.2))
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=late.pk, mark=RollMark.LATE, now=at(0.5))
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=absent.pk, mark=RollMark.ABSENT, now=at(0.5))
    rows = {a.volunteer_id: a for a in Attendance.objects.all()}
    assert rows[vol.pk].status == "open" and not rows[vol.pk].late
    assert rows[late.pk].status == "open" and rows[late.pk].late
    assert rows[absent.pk].status == "absent"
    result = services.close_attendance(now=at(2))
    assert result["auto_closed"] == 2 and result["no_shows"] == 0
    assert hours.totals(volunteer=vol) == 120 and hours.totals(volunteer=late) == 90
    # roll-call presences end with the post by design: not flagged as forgotten check-outs
    assert not Attendance.objects.filter(auto_closed=True).exists()


def test_roll_call_after_the_post_counts_the_whole_post(post, vol, owner):
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=vol.pk, mark=RollMark.PRESENT, now=at(3))
    assert hours.totals(volunteer=vol) == 120


def test_roll_call_by_outsider_is_404(post, vol, outsider):
    with pytest.raises(NotFound):
        services.roll_call_mark(actor=outsider, post_id=post.pk, volunteer_id=vol.pk, mark="present", now=at(0))


def test_group_leader_may_call_their_group_only(post, vol, make_volunteer):
    from leifeng.activities.models import Signup, SignupGroup

    leader = make_volunteer()
    sign_up(post, leader)
    other = make_volunteer()
    sign_up(post, other)
    group = SignupGroup.objects.create(post=post, number=1, leader=leader)
    Signup.objects.filter(volunteer__in=[vol, leader]).update(group=group)
    services.roll_call_mark(actor=leader.user, post_id=post.pk, volunteer_id=vol.pk, mark="present", now=at(0))
    with pytest.raises(NotFound):
        services.roll_call_mark(actor=leader.user, post_id=post.pk, volunteer_id=other.pk, mark="present", now=at(0))


def test_duration_code(activity, post, vol, owner, make_volunteer):
    with pytest.raises(ServiceError) as exc:
        services.duration_code_create(actor=owner, post_id=post.pk, now=at(-1))
    assert exc.value.code == ErrorCode.TOO_EARLY
    code = services.duration_code_create(actor=owner, post_id=post.pk, now=at(1.9))
    result = services.duration_code_enter(actor=vol.user, code=code.code.lower(), key="c1", now=at(2, 5))
    assert result.attendance.status == "closed" and hours.totals(volunteer=vol) == 120
    assert ServiceRecord.objects.get().source == RecordSource.DURATION_CODE
    again = services.duration_code_enter(actor=vol.user, code=code.code, key="c2", now=at(2, 6))
    assert again.attendance.pk == result.attendance.pk and ServiceRecord.objects.count() == 1
    with pytest.raises(ServiceError) as exc:
        services.duration_code_enter(actor=vol.user, code=code.code, key="c3", now=at(4))  # expired
    assert exc.value.code == ErrorCode.BAD_CODE
    stranger = make_volunteer()
    with pytest.raises(ServiceError) as exc:
        services.duration_code_enter(actor=stranger.user, code=code.code, key="c4", now=at(2))
    assert exc.value.code == ErrorCode.NOT_SIGNED_UP


def test_duration_code_from_check_in(activity, post, vol, owner):
    scan(vol, activity, "k1", at(0.5))
    code = services.duration_code_create(actor=owner, post_id=post.pk, now=at(1.5))
    services.duration_code_enter(actor=vol.user, code=code.code, key="c1", now=at(2.2))
    assert hours.totals(volunteer=vol) == 90


def test_auto_close_flags_forgotten_check_outs_and_marks_no_shows(activity, post, vol, make_volunteer):
    never = make_volunteer()
    sign_up(post, never)
    scan(vol, activity, "k1", at(0))
    assert services.close_attendance(now=at(1)) == {"posts": 0, "auto_closed": 0, "no_shows": 0}
    result = services.close_attendance(now=at(2, 1))
    assert result == {"posts": 1, "auto_closed": 1, "no_shows": 1}
    att = Attendance.objects.get(volunteer=vol)
    assert att.auto_closed and att.checked_out_at == post.ends_at and att.record.minutes == 120
    assert Attendance.objects.get(volunteer=never).status == AttendanceStatus.ABSENT
    assert services.close_attendance(now=at(3))["posts"] == 0  # nothing twice


def test_close_attendance_command_and_task(activity, post, vol):
    from django.core.management import call_command

    from leifeng.attendance.tasks import close_attendance_task

    scan(vol, activity, "k1", at(0))
    close_attendance_task.enqueue()  # immediate backend in tests; the real clock is long past the post
    assert Attendance.objects.get(volunteer=vol).auto_closed
    call_command("close_attendance", verbosity=0)
