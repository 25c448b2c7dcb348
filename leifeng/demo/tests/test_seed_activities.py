"""The activities demo: the March 5 squads, the school's traffic week, a ledger that adds up, certificates.

The demo is seeded once for the module (inside a transaction rolled back at the end); each test runs in
its own savepoint on top of it.
"""

import pytest
from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from leifeng.activities import selectors as activity_selectors
from leifeng.activities.models import Activity, ActivityStatus, Campaign, Insurance, Post, Signup, SignupStatus
from leifeng.attendance.models import Attendance, AttendanceStatus, Method
from leifeng.demo import activity_plans as P
from leifeng.demo import seed_activities as S
from leifeng.demo.seed import seed_demo
from leifeng.hours import certificates, stars
from leifeng.hours.models import (
    Certificate,
    CertificateStatus,
    ClaimStatus,
    CorrectionStatus,
    HoursClaim,
    RecordKind,
    RecordSource,
    ServiceRecord,
)
from leifeng.people.models import Volunteer


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_the_ten_squads_of_march_5(demo):
    camp = Campaign.objects.get(org=demo.center)
    day = S.last_march_5(timezone.localdate())
    assert camp.starts_on <= day <= camp.ends_on and camp.leading_group is not None
    assert [p.name for p in camp.phases.order_by("order")] == ["宣传启动", "组织实施", "总结表彰"]
    squads = {a.title: a for a in Activity.objects.filter(campaign=camp).select_related("lead_unit")}
    assert len(squads) == 10
    expected = {title: (unit, [q for _p, q in posts]) for title, unit, _c, _pl, _w, posts, *_ in P.SQUADS}
    assert expected["拥军优属小分队"][1] == [18, 16] and expected["生命之光小分队"][1] == [40]
    for title, (unit, quotas) in expected.items():
        a = squads[title]
        assert a.lead_unit.name == unit and a.lead_unit.org_id == demo.center.pk
        assert a.status == ActivityStatus.FINISHED
        posts = list(a.posts.order_by("id"))
        assert [p.quota for p in posts] == quotas
        for p in posts:
            assert timezone.localtime(p.starts_at).date() == day
            assert p.filled > 0
    assert set(camp.units.values_list("name", flat=True)) >= {unit for unit, _q in expected.values()}
    # attendance of every kind: scans, roll calls, forgotten check-outs closed and flagged, no-shows
    at = Attendance.objects.filter(activity__campaign=camp)
    assert at.filter(method_in=Method.KIOSK).count() > 40
    assert at.filter(method_in=Method.ROLL_CALL).count() > 40
    assert at.filter(auto_closed=True).exists()
    assert at.filter(status=AttendanceStatus.ABSENT).count() >= 5
    assert Signup.objects.filter(post__activity__campaign=camp, status=SignupStatus.WAITLISTED).exists()
    assert HoursClaim.objects.filter(status=ClaimStatus.APPROVED, record__isnull=False).count() == 1
    assert activity_selectors.campaign_reports(actor=demo.users["center"], campaign=camp)


def test_the_traffic_week_is_half_past_half_to_come(demo):
    a = Activity.objects.get(title=P.TRAFFIC_TITLE)
    assert a.lead_unit.name == "长郡蓉芙中学" and a.minors_allowed and a.group_size == 5
    now = timezone.now()
    posts = list(a.posts.order_by("starts_at"))
    assert 5 <= len(posts) <= 7
    past = [p for p in posts if p.ends_at <= now]
    coming = [p for p in posts if p.starts_at > now]
    assert past and coming
    for p in posts:
        start, end = timezone.localtime(p.starts_at), timezone.localtime(p.ends_at)
        assert (start.hour, start.minute, end.hour, end.minute) == (7, 30, 9, 30)
        for g in p.groups.all():
            members = list(g.members.filter(status=SignupStatus.CONFIRMED).select_related("volunteer__unit"))
            assert len(members) == 5 and g.leader_id in {m.volunteer_id for m in members}
            assert len({m.volunteer.unit.name for m in members}) == 1  # one class per group
    for p in past:
        assert ServiceRecord.objects.filter(post=p).exists()
    for p in coming:
        assert p.filled < p.quota  # places open: the demo volunteer can sign up
    assert a.status in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS)


def test_ledger_adds_up_from_attendance(demo):
    records = ServiceRecord.objects.filter(activity__isnull=False)
    total = records.aggregate(s=Sum("minutes"))["s"]
    from_attendance = Attendance.objects.filter(record__isnull=False).aggregate(s=Sum("record__minutes"))["s"]
    backfilled = records.filter(source=RecordSource.BACKFILL).aggregate(s=Sum("minutes"))["s"]
    corrections = records.filter(source=RecordSource.CORRECTION).aggregate(s=Sum("minutes"))["s"] or 0
    assert total == from_attendance + backfilled + corrections
    assert records.filter(source=RecordSource.CORRECTION, minutes__lt=0).count() == 1  # one reversal …
    assert records.filter(source=RecordSource.CORRECTION, minutes__gt=0).count() == 1  # … and its new entry
    # each verified record is exactly the overlap of the presence with the post's window
    for att in Attendance.objects.filter(record__isnull=False).select_related("record", "post"):
        start = max(att.checked_in_at, att.post.starts_at)
        end = min(att.checked_out_at, att.post.ends_at)
        assert att.record.minutes == int((end - start).total_seconds() // 60)
    # closed presences all produced a record; no-shows none
    assert not Attendance.objects.filter(status=AttendanceStatus.CLOSED, record__isnull=True).exists()
    assert not Attendance.objects.filter(status=AttendanceStatus.ABSENT, record__isnull=False).exists()


def test_no_post_is_overbooked(demo):
    for p in Post.objects.all():
        confirmed = Signup.objects.filter(post=p, status=SignupStatus.CONFIRMED).count()
        assert confirmed == p.filled <= p.quota, p
    assert not Post.objects.filter(filled__gt=F("quota")).exists()


def test_the_volunteer_account_has_shifts_hours_stars_and_a_certificate(demo, client):
    user = demo.users["volunteer"]
    me = Volunteer.objects.get(user=user)
    assert activity_selectors.my_shifts(actor=user).count() >= 2  # upcoming
    assert activity_selectors.my_shifts(actor=user, past=True).exists()
    progress = stars.progress(me)
    assert progress["level"] >= 1 and progress["next"] is not None
    verified = ServiceRecord.objects.filter(volunteer=me, kind=RecordKind.VERIFIED).aggregate(s=Sum("minutes"))["s"]
    assert verified >= 100 * 60
    # the answered correction of his March 5 record
    reversal = ServiceRecord.objects.get(volunteer=me, minutes__lt=0)
    assert reversal.reverses.correction_requests.get().status == CorrectionStatus.ACCEPTED
    issued = Certificate.objects.get(volunteer=me, status=CertificateStatus.ISSUED)
    assert issued.number and issued.total_minutes > 0
    assert certificates.certificate_verify(code=issued.verification_code).pk == issued.pk
    assert Certificate.objects.filter(status=CertificateStatus.REQUESTED, org=demo.center).exists()
    page = client.get(reverse("hours:certificate_verify", args=[issued.verification_code]))
    assert page.status_code == 200 and issued.number in page.content.decode()


def test_leader_team_signed_up_upcoming_and_a_risky_insured_activity_and_a_draft(demo):
    now = timezone.now()
    leader = Volunteer.objects.get(user=demo.users["leader"])
    upcoming = Signup.objects.filter(
        post__activity__title=P.PATROL_TITLE, starts_at__gt=now, status=SignupStatus.CONFIRMED
    )
    assert upcoming.filter(volunteer=leader).exists() and upcoming.exclude(volunteer=leader).count() >= 5
    risky = Activity.objects.get(title=P.RISKY_TITLE)
    assert risky.risky and risky.status == ActivityStatus.PUBLISHED
    assert Insurance.objects.filter(activity=risky).exists()
    assert risky.posts.get().starts_at > now
    assert Activity.objects.filter(title=P.DRAFT_TITLE, status=ActivityStatus.DRAFT).exists()
    assert demo.counts["campaigns"] == 1 and demo.counts["certificates"] == 2
    assert demo.counts["signups"] == Signup.objects.count()
