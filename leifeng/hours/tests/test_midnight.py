"""Posts crossing midnight: the daily cap is applied per local calendar day (DESIGN §4 rule 9)."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from leifeng.activities.models import Post
from leifeng.attendance import services as attendance
from leifeng.attendance.tests.conftest import sign_up
from leifeng.hours import selectors, services
from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord

pytestmark = pytest.mark.django_db


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in the installation's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime(2026, 11, day, hour, minute))


@pytest.fixture
def cap(tree):
    def set_cap(hours: int) -> None:
        tree.st_a1.rules = {"daily_hours_cap": hours}
        tree.st_a1.save()

    return set_cap


def night_post(activity, day: int) -> Post:
    """22:00 on `day` to 02:00 the next morning."""
    return Post.objects.create(
        activity=activity, title=f"夜间巡逻 {day}", starts_at=local(day, 22), ends_at=local(day + 1, 2), quota=5
    )


def presence(vol, activity, start, end) -> ServiceRecord | None:
    """Check in at `start` and out at `end` through the kiosk; the record the check-out wrote."""
    for action, moment in (("in", start), ("out", end)):
        token = attendance.kiosk_token(activity, now=moment)
        result = attendance.check(actor=vol.user, token=token, key=f"{vol.pk}-{action}-{moment}", now=moment)
    return result.attendance.record


def daytime(vol, owner, start, end, minutes) -> ServiceRecord | None:
    """A resident's order served from `start` to `end` (another source of the ledger)."""
    return services.service_record_add(
        actor=owner,
        volunteer=vol,
        org=vol.org,
        kind=RecordKind.VERIFIED,
        source=RecordSource.ORDER,
        source_id=f"order-{start}",
        minutes=minutes,
        service_date=services.local_date(start),
        content="助老服务",
        started_at=start,
        ended_at=end,
    )


def day_total(vol, day: int) -> int:
    """What the per-day cap sees for one local day (an entry without a split counts on its service date)."""
    key = date(2026, 11, day).isoformat()
    return sum(
        (rec.day_minutes or {rec.service_date.isoformat(): rec.minutes}).get(key, 0)
        for rec in ServiceRecord.objects.filter(volunteer=vol)
    )


def test_a_night_post_counts_toward_each_day(activity, make_volunteer, cap):
    cap(8)
    vol = make_volunteer()
    post = night_post(activity, 20)
    sign_up(post, vol)
    rec = presence(vol, activity, local(20, 21, 50), local(21, 2, 10))
    # one ledger entry for the presence, dated the evening it started, holding the whole 4 h
    assert rec.minutes == 240 and rec.service_date == date(2026, 11, 20)
    assert rec.day_minutes == {"2026-11-20": 120, "2026-11-21": 120}
    assert selectors.totals(volunteer=vol) == 240


def test_the_evening_before_only_limits_the_first_two_hours(activity, make_volunteer, owner, cap):
    cap(8)
    vol = make_volunteer()
    daytime(vol, owner, local(20, 13), local(20, 20), 420)  # 7 h already on the 20th
    post = night_post(activity, 20)
    sign_up(post, vol)
    rec = presence(vol, activity, local(20, 22), local(21, 2))
    # the 20th has 1 h of room left; the 2 h after midnight belong to the 21st, which is empty
    assert rec.minutes == 180 and rec.day_minutes == {"2026-11-20": 60, "2026-11-21": 120}
    assert day_total(vol, 20) == 480 and day_total(vol, 21) == 120


def test_two_nights_in_a_row(activity, make_volunteer, cap):
    cap(3)
    vol = make_volunteer()
    first, second = night_post(activity, 20), night_post(activity, 21)
    sign_up(first, vol)
    sign_up(second, vol)
    one = presence(vol, activity, local(20, 22), local(21, 2))
    two = presence(vol, activity, local(21, 22), local(22, 2))
    assert one.minutes == 240
    # the 21st already holds 2 h of the first night: its cap of 3 h leaves 1 h for the second evening
    assert two.minutes == 180 and two.day_minutes == {"2026-11-21": 60, "2026-11-22": 120}
    assert (day_total(vol, 20), day_total(vol, 21), day_total(vol, 22)) == (120, 180, 120)


def test_cap_hit_on_the_second_day_only(activity, make_volunteer, owner, cap):
    cap(8)
    vol = make_volunteer()
    post = night_post(activity, 20)
    sign_up(post, vol)
    presence(vol, activity, local(20, 22), local(21, 2))
    # on the 21st the person serves 08:00–16:00: with 2 h of the night already on that day, 6 h are left
    rec = daytime(vol, owner, local(21, 8), local(21, 16), 480)
    assert rec.minutes == 360 and rec.day_minutes is None
    assert day_total(vol, 20) == 120 and day_total(vol, 21) == 480


def test_a_full_second_day_leaves_only_the_evening(activity, make_volunteer, owner, cap):
    cap(8)
    vol = make_volunteer()
    daytime(vol, owner, local(21, 8), local(21, 16), 480)  # the 21st is full already (entered first)
    post = night_post(activity, 20)
    sign_up(post, vol)
    rec = presence(vol, activity, local(20, 22), local(21, 2))
    assert rec.minutes == 120 and rec.day_minutes is None  # all of it on its service date, the 20th
    assert day_total(vol, 20) == 120 and day_total(vol, 21) == 480


def test_overlap_across_midnight_is_never_counted_twice(activity, make_volunteer, owner, cap):
    cap(12)
    vol = make_volunteer()
    post = night_post(activity, 20)
    sign_up(post, vol)
    presence(vol, activity, local(20, 22), local(21, 2))
    # an order served 23:00–03:00 by the same person: only 02:00–03:00 is new
    rec = daytime(vol, owner, local(20, 23), local(21, 3), 240)
    assert rec.minutes == 60 and rec.day_minutes == {"2026-11-21": 60}
    assert selectors.totals(volunteer=vol) == 300


def test_correcting_a_night_entry_frees_both_days(activity, make_volunteer, owner, colleague, cap):
    cap(3)
    vol = make_volunteer()
    post = night_post(activity, 20)
    sign_up(post, vol)
    rec = presence(vol, activity, local(20, 22), local(21, 2))
    reversal, new = services.record_correct(actor=colleague, record_id=rec.pk, minutes=120, reason="提前离岗")
    assert reversal.minutes == -240 and reversal.day_minutes == {"2026-11-20": -120, "2026-11-21": -120}
    assert new.minutes == 120 and new.day_minutes is None  # two hours fit on the evening it started
    assert day_total(vol, 20) == 120 and day_total(vol, 21) == 0
    # the 21st is free again: 3 h of daytime service count in full
    assert daytime(vol, owner, local(21, 8), local(21, 11), 180).minutes == 180
