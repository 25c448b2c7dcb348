"""The service-record ledger: overlap, daily cap, back-fill, corrections, totals and star levels."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leifeng.attendance import services as attendance
from leifeng.attendance.models import Attendance
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.core.errors import Conflict, NotFound, PermissionDenied
from leifeng.core.models import AuditEvent
from leifeng.hours import selectors, services, stars
from leifeng.hours.codes import ErrorCode
from leifeng.hours.models import HoursClaim, RecordKind, RecordSource, ServiceRecord

pytestmark = pytest.mark.django_db


def presence(vol, activity, start, end):
    """Check in at `start`, out at `end` through the kiosk."""
    for key, moment in ((f"in{start}", start), (f"out{end}", end)):
        token = attendance.kiosk_token(activity, now=moment)
        attendance.check(actor=vol.user, token=token, key=f"{vol.pk}-{key}", now=moment)


def test_two_overlapping_posts_count_the_overlap_once(activity, post, post2, vol, owner):
    sign_up(post2, vol)
    # 08:00–10:00 at post 1 and 09:00–11:00 at post 2 (entered afterwards by the organizer): the two presences
    # overlap 09:00–10:00, so 3 hours were served, not 4
    for p, start, end in ((post, at(0), at(2)), (post2, at(1), at(3))):
        for action, moment in (("in", start), ("out", end)):
            attendance.staff_check(
                actor=owner,
                post_id=p.pk,
                volunteer_id=vol.pk,
                action=action,
                key=f"{p.pk}-{action}",
                at=moment,
                reason="现场无手机，事后补登",
                now=at(3, 10),
            )
    presences = list(Attendance.objects.filter(volunteer=vol).order_by("checked_in_at"))
    assert [(a.checked_in_at, a.checked_out_at) for a in presences] == [(at(0), at(2)), (at(1), at(3))]
    assert presences[1].checked_in_at < presences[0].checked_out_at  # they do overlap
    assert selectors.totals(volunteer=vol) == 180
    rows = list(ServiceRecord.objects.order_by("id").values_list("post_id", "minutes"))
    assert rows == [(post.pk, 120), (post2.pk, 60)]


def test_back_to_back_posts_count_both_in_full(activity, post, post2, vol):
    sign_up(post2, vol)
    presence(vol, activity, at(0), at(2))
    presence(vol, activity, at(2), at(3))  # checked in to post 2 at 10:00 (post 1 has ended): no overlap
    assert selectors.totals(volunteer=vol) == 180
    rows = list(ServiceRecord.objects.order_by("id").values_list("post_id", "minutes"))
    assert rows == [(post.pk, 120), (post2.pk, 60)]


def test_overlap_through_service_record_add(activity, post, vol, owner):
    presence(vol, activity, at(0), at(2))
    # an order completed 09:30–10:30 by the same person: only 10:00–10:30 is new
    rec = services.service_record_add(
        actor=owner,
        volunteer=vol,
        org=activity.org,
        kind=RecordKind.VERIFIED,
        source=RecordSource.ORDER,
        source_id="order-1",
        minutes=60,
        service_date=at(0).date(),
        content="助老送餐",
        started_at=at(1.5),
        ended_at=at(2.5),
    )
    assert rec.minutes == 30 and selectors.totals(volunteer=vol) == 150
    assert (
        services.service_record_add(
            actor=owner,
            volunteer=vol,
            org=activity.org,
            kind=RecordKind.VERIFIED,
            source=RecordSource.ORDER,
            source_id="order-2",
            minutes=30,
            service_date=at(0).date(),
            content="重复",
            started_at=at(0),
            ended_at=at(0.5),
        )
        is None
    )


def test_daily_cap_across_all_records(activity, post, vol, owner, tree):
    tree.st_a1.rules = {"daily_hours_cap": 3}
    tree.st_a1.save()
    presence(vol, activity, at(0), at(2))
    rec = services.service_record_add(
        actor=owner,
        volunteer=vol,
        org=tree.st_a1,
        kind=RecordKind.VERIFIED,
        source=RecordSource.ORDER,
        source_id="o",
        minutes=120,
        service_date=at(0).date(),
        content="晚间巡逻",
    )
    assert rec.minutes == 60 and selectors.totals(volunteer=vol, date_from=at(0).date(), date_to=at(0).date()) == 180


def test_default_cap_is_twelve_hours(activity, vol, owner):
    from leifeng.activities.models import Post

    long = Post.objects.create(activity=activity, title="通宵", starts_at=at(-2), ends_at=at(14), quota=5)
    sign_up(long, vol)
    presence(vol, activity, at(-2), at(14))
    assert selectors.totals(volunteer=vol) == 12 * 60


def test_backfill_beyond_the_post_is_refused_and_within_it_approved_by_someone_else(post, vol, owner, colleague):
    with pytest.raises(ValidationError) as exc:  # was silently cut to the post's two hours
        services.claim_create(actor=vol.user, post_id=post.pk, started_at=at(-1), ended_at=at(5), note="忘了签到")
    errors = exc.value.message_dict
    assert set(errors) == {"started_at", "ended_at"}
    start, end = (timezone.localtime(t).strftime("%Y-%m-%d %H:%M") for t in (post.starts_at, post.ends_at))
    assert start in errors["started_at"][0] and end in errors["ended_at"][0]
    with pytest.raises(ValidationError) as exc:
        services.claim_create(actor=vol.user, post_id=post.pk, started_at=at(0), ended_at=at(2, 1))
    assert set(exc.value.message_dict) == {"ended_at"}
    assert not HoursClaim.objects.exists() and not AuditEvent.objects.filter(action="hours_claim.create").exists()

    claim = services.claim_create(actor=vol.user, post_id=post.pk, started_at=at(0), ended_at=at(2), note="忘了签到")
    assert claim.minutes == 120  # the post's two hours, as claimed
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=vol.user, claim_id=claim.pk, approve=True)
    decided = services.claim_decide(actor=owner, claim_id=claim.pk, approve=True)
    assert decided.record.kind == RecordKind.BACKFILLED and decided.record.minutes == 120
    t = selectors.totals_by_kind(volunteer=vol)
    assert (t.verified, t.backfilled) == (0, 120)
    assert stars.star_level(vol)[1] == 0  # back-filled hours never raise the star level


def test_staff_entered_claim_needs_a_second_person(post, vol, owner, colleague, outsider):
    claim = services.claim_create(actor=owner, post_id=post.pk, volunteer_id=vol.pk, started_at=at(0), ended_at=at(1))
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=owner, claim_id=claim.pk, approve=True)
    with pytest.raises(NotFound):
        services.claim_decide(actor=outsider, claim_id=claim.pk, approve=True)
    with pytest.raises(ValidationError):
        services.claim_decide(actor=colleague, claim_id=claim.pk, approve=False)
    services.claim_decide(actor=colleague, claim_id=claim.pk, approve=False, note="当天未到岗")
    assert selectors.totals(volunteer=vol) == 0
    with pytest.raises(Conflict) as exc:
        services.claim_decide(actor=colleague, claim_id=claim.pk, approve=True)
    assert exc.value.code == ErrorCode.ALREADY_DECIDED


def test_backfill_cannot_count_verified_time_again(activity, post, vol, owner):
    presence(vol, activity, at(0), at(2))
    claim = services.claim_create(actor=vol.user, post_id=post.pk, started_at=at(0), ended_at=at(2))
    with pytest.raises(Conflict) as exc:
        services.claim_decide(actor=owner, claim_id=claim.pk, approve=True)
    assert exc.value.code == ErrorCode.NOTHING_TO_CREDIT


def test_corrections_reverse_and_keep_every_total_right(activity, post, vol, owner, colleague, tree):
    presence(vol, activity, at(0), at(2))
    original = ServiceRecord.objects.get()
    req = services.correction_request(actor=vol.user, record_id=original.pk, minutes=90, reason="10:30 才离开")
    with pytest.raises(Conflict) as exc:
        services.correction_request(actor=vol.user, record_id=original.pk, minutes=90, reason="again")
    assert exc.value.code == ErrorCode.ALREADY_OPEN
    with pytest.raises(PermissionDenied):
        services.correction_answer(actor=vol.user, request_id=req.pk, accept=True)
    with pytest.raises(ValidationError):
        services.correction_answer(actor=owner, request_id=req.pk, accept=False)
    services.correction_answer(actor=owner, request_id=req.pk, accept=True, answer="核实")
    assert ServiceRecord.objects.count() == 3  # original, its reversal, the new entry: nothing edited or deleted
    reversal = ServiceRecord.objects.get(reverses=original)
    assert reversal.minutes == -120 and reversal.recorded_by == owner and reversal.reason == "核实"
    assert selectors.totals(volunteer=vol) == 90
    assert selectors.totals(org=tree.center) == 90 and selectors.totals(org=tree.st_a1) == 90
    assert selectors.totals(org=tree.st_b1) == 0
    assert selectors.totals(volunteer=vol, kind=RecordKind.VERIFIED, date_from=date(2026, 3, 5)) == 90
    with pytest.raises(Conflict) as exc:
        services.record_correct(actor=colleague, record_id=original.pk, minutes=60, reason="x")
    assert exc.value.code == ErrorCode.ALREADY_CORRECTED
    newest = ServiceRecord.objects.order_by("-id").first()
    services.record_correct(actor=colleague, record_id=newest.pk, minutes=0, reason="整条作废")
    assert selectors.totals(volunteer=vol) == 0


def test_nobody_corrects_their_own_hours(activity, post, vol, outsider):
    presence(vol, activity, at(0), at(2))
    rec = ServiceRecord.objects.get()
    with pytest.raises(PermissionDenied):
        services.record_correct(actor=vol.user, record_id=rec.pk, minutes=200, reason="多记点")
    with pytest.raises(NotFound):
        services.record_correct(actor=outsider, record_id=rec.pk, minutes=0, reason="x")


def test_correction_within_post_length(activity, post, vol, owner):
    presence(vol, activity, at(0), at(1))
    rec = ServiceRecord.objects.get()
    with pytest.raises(ValidationError):
        services.record_correct(actor=owner, record_id=rec.pk, minutes=121, reason="x")


def test_star_levels_follow_regional_thresholds(tree, vol, owner):
    def add(minutes, day):
        services.service_record_add(
            actor=owner,
            volunteer=vol,
            org=tree.st_a1,
            kind=RecordKind.VERIFIED,
            source=RecordSource.ORDER,
            source_id="x",
            minutes=minutes,
            service_date=day,
            content="服务",
        )

    assert stars.star_level(vol) == (0, 0, 100)
    for d in range(1, 13):  # 12 days × 10 h = 120 h
        add(600, date(2026, 1, d))
    level, hours, nxt = stars.star_level(vol)
    assert (level, int(hours), nxt) == (1, 120, 300)
    tree.sub_a.rules = {"star_thresholds_h": [10, 20, 50, 80, 100]}  # a region following Beijing's scale / 10
    tree.sub_a.save()
    assert stars.star_level(vol) == (5, 120, None)
    assert stars.progress(vol)["percent"] == 100
