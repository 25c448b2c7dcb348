"""Services of activities: campaigns, transitions, insurance, sign-up rules, waitlist, groups, reports."""

import io
import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from leifeng.accounts.models import Role
from leifeng.activities import selectors, services
from leifeng.activities.codes import ErrorCode
from leifeng.activities.models import (
    ACTIVITY_TRANSITIONS,
    Activity,
    ActivityStatus,
    CampaignPhase,
    Post,
    ReportPhoto,
    Signup,
    SignupStatus,
    Visibility,
)
from leifeng.activities.tests.conftest import NOW, START, make_activity, sign
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.errors import ErrorCode as CoreCode
from leifeng.core.models import AuditEvent
from leifeng.people.models import PoliticalStatus, Skill
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import TeamFactory, VolunteerFactory, build_tree, make_user

# ---------------------------------------------------------------- campaigns


def campaign(owner, tree, **kw):
    data = services.CampaignInput(
        org_id=tree.st_a1.pk, title="2026年学雷锋活动", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 30), **kw
    )
    return services.campaign_create(actor=owner, data=data)


def test_campaign_gets_three_default_phases_spread_over_the_period(owner, tree):
    c = campaign(owner, tree)
    phases = list(c.phases.values_list("name", "starts_on", "ends_on"))
    assert [p[0] for p in phases] == ["宣传启动", "组织实施", "总结表彰"]
    assert phases[0][1] == date(2026, 3, 1) and phases[-1][2] == date(2026, 3, 30)
    assert phases[0][2] + timedelta(days=1) == phases[1][1]  # no gap, no overlap
    assert AuditEvent.objects.filter(action="campaign.create", object_id=str(c.pk)).exists()


def test_campaign_outside_scope_is_refused(outsider, tree):
    with pytest.raises(ValidationError) as exc:
        campaign(outsider, tree)
    assert "org" in exc.value.error_dict


def test_phases_must_lie_in_the_period(owner, tree):
    c = campaign(owner, tree)
    with pytest.raises(ValidationError):
        services.campaign_set_phases(
            actor=owner,
            campaign_id=c.pk,
            phases=[services.PhaseInput("检查验收", date(2026, 3, 20), date(2026, 4, 2))],
        )
    services.campaign_set_phases(
        actor=owner, campaign_id=c.pk, phases=[services.PhaseInput("检查验收", date(2026, 3, 20), date(2026, 3, 30))]
    )
    assert list(c.phases.values_list("name", flat=True)) == ["检查验收"]


def test_copy_to_next_year_shifts_dates_and_copies_activities_as_drafts(owner, tree):
    c = campaign(owner, tree)
    a = make_activity(tree.st_a1, campaign=c, start=START)
    p = a.posts.get()
    copy = services.campaign_copy(actor=owner, campaign_id=c.pk, year=2027)
    assert (copy.title, copy.starts_on, copy.ends_on) == ("2027年学雷锋活动", date(2027, 3, 1), date(2027, 3, 30))
    assert CampaignPhase.objects.filter(campaign=copy).count() == 3
    new = copy.activities.get()
    assert new.status == ActivityStatus.DRAFT and new.pk != a.pk and new.kiosk_secret != a.kiosk_secret
    new_post = new.posts.get()
    assert new_post.starts_at.year == p.starts_at.year + 1 and new_post.filled == 0
    assert services.shift_year(date(2028, 2, 29), 1) == date(2029, 2, 28)


def test_campaign_figures_count_live_activities_people_and_ledger_hours(owner, tree, make_volunteer):
    from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord

    c = campaign(owner, tree)
    a = make_activity(tree.st_a1, campaign=c)
    make_activity(tree.st_a1, campaign=c, status=ActivityStatus.DRAFT)
    v1, v2 = make_volunteer(), make_volunteer()
    sign(v1, a.posts.get())
    sign(v2, a.posts.get())
    rows = {}
    for key, v, minutes in (("a", v1, 120), ("b", v2, 90), ("c", v2, -90), ("d", v2, 60)):
        rows[key] = ServiceRecord.objects.create(
            volunteer=v,
            org=tree.st_a1,
            kind=RecordKind.VERIFIED,
            source=RecordSource.CORRECTION if minutes < 0 else RecordSource.ATTENDANCE,
            reverses=rows["b"] if minutes < 0 else None,
            activity=a,
            content="清洁",
            service_date=date(2026, 11, 29),
            minutes=minutes,
        )
    f = selectors.campaign_figures(campaign=c)
    assert (f.activities, f.people, f.minutes, f.hours) == (1, 2, 180, 3.0)


# ---------------------------------------------------------------- activity transitions


def draft(owner, tree, **kw):
    a = services.activity_create(
        actor=owner, org_id=tree.st_a1.pk, title="义诊", category="health", address="东关卫生室", **kw
    )
    services.post_create(
        actor=owner, activity_id=a.pk, title="导诊", starts_at=START, ends_at=START + timedelta(hours=3), quota=5
    )
    return a


def test_publish_start_finish(owner, tree):
    a = draft(owner, tree)
    services.activity_publish(actor=owner, activity_id=a.pk)
    services.activity_start(actor=owner, activity_id=a.pk)
    a = services.activity_finish(actor=owner, activity_id=a.pk)
    assert a.status == ActivityStatus.FINISHED
    with pytest.raises(Conflict) as exc:
        services.activity_cancel(actor=owner, activity_id=a.pk, reason="x")
    assert exc.value.code == CoreCode.INVALID_TRANSITION


def test_every_transition_outside_the_table_is_refused(owner, tree):
    for source in ActivityStatus.values:
        for target in ActivityStatus.values:
            a = Activity(status=source)
            if target in ACTIVITY_TRANSITIONS[source]:
                ACTIVITY_TRANSITIONS.move(a, target)
                assert a.status == target
            else:
                with pytest.raises(Conflict) as exc:
                    ACTIVITY_TRANSITIONS.move(a, target)
                assert exc.value.code == CoreCode.INVALID_TRANSITION


def test_publish_without_posts_is_refused(owner, tree):
    a = services.activity_create(actor=owner, org_id=tree.st_a1.pk, title="空", category="other", address="站里")
    with pytest.raises(ServiceError) as exc:
        services.activity_publish(actor=owner, activity_id=a.pk)
    assert exc.value.code == "no_posts"


def test_risky_activity_needs_insurance_covering_its_days(owner, tree):
    a = draft(owner, tree, risky=True)
    with pytest.raises(ServiceError) as exc:
        services.activity_publish(actor=owner, activity_id=a.pk)
    assert exc.value.code == "insurance_required" and "保险" in exc.value.message
    day = timezone.localtime(START).date()
    services.activity_add_insurance(
        actor=owner,
        activity_id=a.pk,
        insurer="人保",
        policy_number="P1",
        covers_from=day - timedelta(days=10),
        covers_to=day - timedelta(days=1),
    )
    with pytest.raises(ServiceError) as exc:  # a policy that ends the day before does not cover it
        services.activity_publish(actor=owner, activity_id=a.pk)
    assert exc.value.code == ErrorCode.INSURANCE_REQUIRED
    services.activity_add_insurance(
        actor=owner, activity_id=a.pk, insurer="人保", policy_number="P2", covers_from=day, covers_to=day
    )
    assert services.activity_publish(actor=owner, activity_id=a.pk).status == ActivityStatus.PUBLISHED


def test_colleague_may_change_outsider_gets_not_found(owner, colleague, outsider, tree):
    a = draft(owner, tree)
    services.activity_update(actor=colleague, activity_id=a.pk, title="义诊进社区")
    with pytest.raises(NotFound):
        services.activity_update(actor=outsider, activity_id=a.pk, title="x")
    with pytest.raises(NotFound):
        services.activity_publish(actor=outsider, activity_id=a.pk)


def test_assessor_sees_but_cannot_change(owner, assessor, tree):
    a = draft(owner, tree)
    with pytest.raises(PermissionDenied):
        services.activity_publish(actor=assessor, activity_id=a.pk)


def test_back_to_draft_only_while_nobody_signed_up(owner, tree, make_volunteer):
    a = draft(owner, tree)
    services.activity_publish(actor=owner, activity_id=a.pk)
    assert services.activity_unpublish(actor=owner, activity_id=a.pk).status == ActivityStatus.DRAFT
    services.activity_publish(actor=owner, activity_id=a.pk)
    sign(make_volunteer(), a.posts.get())
    with pytest.raises(Conflict) as exc:
        services.activity_unpublish(actor=owner, activity_id=a.pk)
    assert exc.value.code == "has_signups"


def test_cancel_needs_a_reason_and_withdraws_everyone(owner, tree, make_volunteer, post):
    for _ in range(4):  # 3 confirmed, 1 waitlisted
        sign(make_volunteer(), post)
    with pytest.raises(ValidationError):
        services.activity_cancel(actor=owner, activity_id=post.activity_id, reason=" ")
    a = services.activity_cancel(actor=owner, activity_id=post.activity_id, reason="暴雨预警")
    assert a.status == ActivityStatus.CANCELLED and a.cancel_reason == "暴雨预警"
    assert not Signup.objects.filter(post=post, status__in=["confirmed", "waitlisted"]).exists()
    post.refresh_from_db()
    assert post.filled == 0


# ---------------------------------------------------------------- sign-up


def test_signup_confirms_until_full_then_waitlists(post, make_volunteer):
    statuses = [sign(make_volunteer(), post).status for _ in range(5)]
    assert statuses == ["confirmed"] * 3 + ["waitlisted"] * 2
    post.refresh_from_db()
    assert post.filled == 3


def test_signup_twice_for_the_same_post_is_refused(post, make_volunteer):
    v = make_volunteer()
    sign(v, post)
    with pytest.raises(Conflict) as exc:
        sign(v, post)
    assert exc.value.code == "already_signed_up"


def test_overlapping_posts_are_refused_adjacent_ones_allowed(tree, post, make_volunteer):
    v = make_volunteer()
    sign(v, post)
    other = make_activity(tree.st_a1, title="交通劝导", start=START + timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        sign(v, other.posts.get())
    assert exc.value.code == "overlap" and "敬老院清洁" in exc.value.message
    later = make_activity(tree.st_a1, title="下午场", start=START + timedelta(hours=2))
    assert sign(v, later.posts.get()).status == SignupStatus.CONFIRMED


def test_waitlisted_signup_also_blocks_an_overlapping_one(tree, make_volunteer):
    full = make_activity(tree.st_a1, quota=1)
    sign(make_volunteer(), full.posts.get())
    v = make_volunteer()
    assert sign(v, full.posts.get()).status == SignupStatus.WAITLISTED
    with pytest.raises(Conflict) as exc:
        sign(v, make_activity(tree.st_a1, title="同时").posts.get())
    assert exc.value.code == ErrorCode.OVERLAP


def test_pending_volunteer_and_staff_without_profile_cannot_sign_up(post, make_volunteer, owner):
    with pytest.raises(ServiceError) as exc:
        sign(make_volunteer(status="pending"), post)
    assert exc.value.code == "not_approved"
    with pytest.raises(ServiceError) as exc:
        services.signup_create(actor=owner, post=post, now=NOW)
    assert exc.value.code == "not_a_volunteer"


def test_draft_activity_and_started_post_are_closed(tree, make_volunteer):
    v = make_volunteer()
    d = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    with pytest.raises(Conflict) as exc:
        sign(v, d.posts.get())
    assert exc.value.code == ErrorCode.NOT_PUBLISHED
    a = make_activity(tree.st_a1)
    with pytest.raises(Conflict) as exc:
        sign(v, a.posts.get(), now=START + timedelta(minutes=1))
    assert exc.value.code == "post_started"


def test_recruitment_window(tree, make_volunteer):
    a = make_activity(tree.st_a1, signup_opens_at=NOW + timedelta(days=1), signup_closes_at=NOW + timedelta(days=2))
    v = make_volunteer()
    with pytest.raises(Conflict) as exc:
        sign(v, a.posts.get())
    assert exc.value.code == "signup_not_open"
    with pytest.raises(Conflict) as exc:
        sign(v, a.posts.get(), now=NOW + timedelta(days=3))
    assert exc.value.code == "signup_closed"
    assert sign(v, a.posts.get(), now=NOW + timedelta(days=1, hours=1)).status == SignupStatus.CONFIRMED


def test_minors_need_an_activity_for_minors_and_guardian_consent(tree, make_volunteer):
    teen = make_volunteer(birth_date=date(START.year - 16, 1, 1))  # 15 or 16 on the day
    closed = make_activity(tree.st_a1)
    with pytest.raises(ServiceError) as exc:
        sign(teen, closed.posts.get())
    assert exc.value.code == "minors_not_allowed"
    open_ = make_activity(tree.st_a1, minors_allowed=True, start=START + timedelta(days=1))
    with pytest.raises(ServiceError) as exc:
        sign(teen, open_.posts.get())
    assert exc.value.code == "guardian_consent_missing"
    teen.guardian_consent_at = NOW
    teen.save()
    s = sign(teen, open_.posts.get())
    assert s.status == SignupStatus.CONFIRMED and s.guardian_consent


def test_volunteer_sees_activities_of_their_station_and_above_only(tree, make_volunteer):
    v = make_volunteer(org=tree.st_a1)
    above = make_activity(tree.sub_a)
    sibling = make_activity(tree.st_a2)
    assert sign(v, above.posts.get()).status == SignupStatus.CONFIRMED
    with pytest.raises(NotFound):
        sign(v, sibling.posts.get())


def test_team_only_activity(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)
    member, other = make_volunteer(), make_volunteer()
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1, visibility=Visibility.TEAMS)
    a.teams.add(team)
    assert sign(member, a.posts.get()).status == SignupStatus.CONFIRMED
    with pytest.raises(NotFound):
        sign(other, a.posts.get())


def test_required_skills(post, make_volunteer):
    first_aid = Skill.objects.create(name="急救")
    post.skills.add(first_aid)
    v = make_volunteer()
    with pytest.raises(ServiceError) as exc:
        sign(v, post)
    assert exc.value.code == "skills_missing" and "急救" in exc.value.message
    v.skills.add(first_aid)
    assert sign(v, post).status == SignupStatus.CONFIRMED


# ---------------------------------------------------------------- withdraw, remove, promotion


def test_withdrawal_promotes_the_first_waitlisted(post, make_volunteer):
    people = [make_volunteer() for _ in range(5)]
    signups = [sign(v, post) for v in people]
    services.signup_withdraw(actor=people[0].user, signup_id=signups[0].pk, now=NOW)
    statuses = dict(Signup.objects.filter(post=post).values_list("volunteer_id", "status"))
    assert statuses[people[0].pk] == "withdrawn"
    assert statuses[people[3].pk] == "confirmed" and statuses[people[4].pk] == "waitlisted"
    post.refresh_from_db()
    assert post.filled == 3
    assert AuditEvent.objects.filter(action="signup.promote", object_id=str(signups[3].pk)).exists()


def test_withdrawal_after_the_deadline_names_it(tree, make_volunteer):
    a = make_activity(tree.st_a1, withdraw_deadline=NOW + timedelta(days=1))
    v = make_volunteer()
    s = sign(v, a.posts.get())
    with pytest.raises(Conflict) as exc:
        services.signup_withdraw(actor=v.user, signup_id=s.pk, now=NOW + timedelta(days=2))
    assert exc.value.code == "withdraw_closed" and services._fmt(a.withdraw_deadline) in exc.value.message
    services.signup_withdraw(actor=v.user, signup_id=s.pk, now=NOW)


def test_someone_else_cannot_withdraw_my_signup(post, make_volunteer):
    s = sign(make_volunteer(), post)
    with pytest.raises(NotFound):
        services.signup_withdraw(actor=make_volunteer().user, signup_id=s.pk, now=NOW)


def test_organizer_removes_with_a_reason(owner, outsider, post, make_volunteer):
    s = sign(make_volunteer(), post)
    with pytest.raises(ValidationError):
        services.signup_remove(actor=owner, signup_id=s.pk, reason="")
    with pytest.raises(NotFound):
        services.signup_remove(actor=outsider, signup_id=s.pk, reason="重复报名")
    s = services.signup_remove(actor=owner, signup_id=s.pk, reason="重复报名")
    assert s.status == SignupStatus.REMOVED and s.note == "重复报名"
    with pytest.raises(Conflict) as exc:
        services.signup_remove(actor=owner, signup_id=s.pk, reason="again")
    assert exc.value.code == ErrorCode.NOT_ACTIVE


def test_raising_the_quota_promotes_lowering_below_filled_is_refused(owner, post, make_volunteer):
    for _ in range(4):
        sign(make_volunteer(), post)
    with pytest.raises(ValidationError):
        services.post_update(actor=owner, post_id=post.pk, quota=2)
    services.post_update(actor=owner, post_id=post.pk, quota=5)
    assert Signup.objects.filter(post=post, status="confirmed").count() == 4


# ---------------------------------------------------------------- leaders assign


def test_leader_assigns_members_who_may_still_decline_after_the_deadline(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)
    leader = make_volunteer()
    team.leader = leader
    team.save()
    members = [make_volunteer() for _ in range(3)]
    teen = make_volunteer(birth_date=date(START.year - 15, 1, 1))
    for v in [leader, *members, teen]:
        TeamMembership.objects.create(team=team, volunteer=v, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1, quota=10, withdraw_deadline=NOW + timedelta(hours=1))
    results = services.signup_assign_many(actor=leader.user, post=a.posts.get(), team_id=team.pk, now=NOW)
    placed = {r.volunteer.pk for r in results if r.signup}
    assert placed == {leader.pk, *(m.pk for m in members)}
    assert [r.reason for r in results if r.volunteer == teen][0]  # reported, not raised
    s = Signup.objects.get(volunteer=members[0])
    assert s.assigned_by == leader.user
    services.signup_withdraw(actor=members[0].user, signup_id=s.pk, now=NOW + timedelta(days=1))


def test_plain_member_cannot_assign(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)
    member = make_volunteer()
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1)
    with pytest.raises(PermissionDenied):
        services.signup_assign_many(actor=member.user, post=a.posts.get(), team_id=team.pk, now=NOW)


# ---------------------------------------------------------------- groups


def test_groups_of_at_most_n_with_party_member_as_leader_rerun_safe(owner, tree, make_volunteer):
    a = make_activity(tree.st_a1, quota=12, group_size=5)
    p = a.posts.get()
    people = [make_volunteer() for _ in range(11)]
    people[2].political_status = PoliticalStatus.CPC_MEMBER
    people[2].save()
    for v in people:
        sign(v, p)
    groups = services.groups_build(actor=owner, post_id=p.pk)
    assert [g.members.count() for g in groups] == [5, 5, 1]
    assert groups[0].leader == people[2] and groups[1].leader == people[5]
    # a withdrawn member leaves their group; a hand-made move survives a re-run; empty groups go away
    services.signup_withdraw(actor=people[0].user, signup_id=Signup.objects.get(volunteer=people[0]).pk, now=NOW)
    services.group_move(actor=owner, signup_id=Signup.objects.get(volunteer=people[10]).pk, group_id=groups[0].pk)
    with pytest.raises(Conflict) as exc:
        services.group_move(actor=owner, signup_id=Signup.objects.get(volunteer=people[1]).pk, group_id=groups[1].pk)
    assert exc.value.code == ErrorCode.GROUP_FULL
    again = services.groups_build(actor=owner, post_id=p.pk)
    assert [(g.pk, g.members.count()) for g in again] == [(groups[0].pk, 5), (groups[1].pk, 5)]
    assert Signup.objects.get(volunteer=people[10]).group_id == groups[0].pk
    assert Signup.objects.get(volunteer=people[0]).group_id is None
    services.group_set_leader(actor=owner, group_id=groups[0].pk, volunteer_id=people[10].pk)
    with pytest.raises(ValidationError):
        services.group_set_leader(actor=owner, group_id=groups[1].pk, volunteer_id=people[2].pk)


# ---------------------------------------------------------------- reports


def jpeg_with_exif(size=(2400, 1200)) -> SimpleUploadedFile:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


def test_report_photo_is_resized_and_stripped(owner, tree, activity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(Conflict) as exc:
        services.report_file(actor=owner, activity_id=activity.pk, summary="x")
    assert exc.value.code == ErrorCode.NOT_HELD
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    with pytest.raises(Conflict) as exc:
        services.report_add_photo(actor=owner, activity_id=activity.pk, upload=jpeg_with_exif())
    assert exc.value.code == ErrorCode.NO_REPORT
    services.report_file(actor=owner, activity_id=activity.pk, summary="清洁了三层楼")
    photo = services.report_add_photo(actor=owner, activity_id=activity.pk, upload=jpeg_with_exif(), caption="合影")
    assert (photo.width, photo.height) == (1600, 800)
    with photo.image.open("rb") as f, Image.open(f) as saved:
        assert max(saved.size) == 1600 and not saved.getexif()


def test_report_refuses_non_images_and_big_files(owner, activity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    services.report_file(actor=owner, activity_id=activity.pk, summary="ok")
    fake = SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>" * 10, content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.report_add_photo(actor=owner, activity_id=activity.pk, upload=fake)
    assert "无法识别此文件为图片" in str(exc.value)
    big = SimpleUploadedFile("big.jpg", b"\xff" * (services.MAX_PHOTO_BYTES + 1), content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        services.report_add_photo(actor=owner, activity_id=activity.pk, upload=big)
    assert "10 MB" in str(exc.value)


def test_report_refuses_a_decompression_bomb_naming_the_pixels(owner, activity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    services.report_file(actor=owner, activity_id=activity.pk, summary="ok")
    buf = io.BytesIO()
    Image.new("1", (13_000, 13_000)).save(buf, "PNG", optimize=True)  # ~20 KB on the wire, 169 megapixels
    bomb = SimpleUploadedFile("bomb.png", buf.getvalue(), content_type="image/png")

    with pytest.raises(ValidationError) as exc:
        services.report_add_photo(actor=owner, activity_id=activity.pk, upload=bomb)

    assert "13000 × 13000" in exc.value.message_dict["image"][0]
    assert not ReportPhoto.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_report_keeps_a_transparent_png_as_png(owner, activity, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    services.report_file(actor=owner, activity_id=activity.pk, summary="ok")
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(buf, "PNG")
    upload = SimpleUploadedFile("logo.png", buf.getvalue(), content_type="image/png")

    photo = services.report_add_photo(actor=owner, activity_id=activity.pk, upload=upload)

    assert photo.image.name.endswith(".png")
    with photo.image.open("rb") as f, Image.open(f) as saved:
        assert saved.mode == "RGBA" and saved.size == (40, 30)


# ---------------------------------------------------------------- the quota under concurrency


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_signups_never_overbook_a_post_of_ten():
    """30 threads, each its own connection and volunteer, sign up for one post of 10 at the same instant."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = build_tree()
    a = make_activity(tree.st_a1, quota=10)
    p = a.posts.get()
    people = [VolunteerFactory(org=tree.st_a1, user=make_user(f"r{i}")) for i in range(30)]
    barrier = threading.Barrier(30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=people[i].user_id)
            barrier.wait(timeout=30)
            s = services.signup_create(actor=actor, post=p.pk, now=NOW)
            with lock:
                outcomes.append(s.status)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("confirmed") == 10 and outcomes.count("waitlisted") == 20
    p.refresh_from_db()
    assert p.filled == 10
    assert Signup.objects.filter(post=p, status="confirmed").count() == 10


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_person_signing_up_for_overlapping_posts_at_once_gets_one():
    """The volunteer row lock serialises one person's concurrent sign-ups, so the overlap check holds."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = build_tree()
    posts = [make_activity(tree.st_a1, title=f"同时{i}").posts.get() for i in range(8)]
    v = VolunteerFactory(org=tree.st_a1, user=make_user("busy"))
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=v.user_id)
            barrier.wait(timeout=30)
            try:
                services.signup_create(actor=actor, post=posts[i].pk, now=NOW)
                result = "ok"
            except Conflict as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("overlap") == 7
    assert Signup.objects.filter(volunteer=v).count() == 1
    assert Post.objects.filter(filled=1).count() == 1


def test_role_of_org_staff_is_enough_to_run_activities(tree):
    staff = make_user("s", role=Role.ORG_STAFF, org=tree.sub_a)
    a = draft(staff, tree)
    assert services.activity_publish(actor=staff, activity_id=a.pk).status == ActivityStatus.PUBLISHED


def test_regional_minimum_age_of_the_organizing_node_applies(tree, make_volunteer):
    tree.st_a1.rules = {"min_volunteer_age": 16}
    tree.st_a1.save()
    teen = make_volunteer(birth_date=date(START.year - 15, 12, 31), guardian_consent_at=NOW)  # 14 on the day
    a = make_activity(tree.st_a1, minors_allowed=True)
    with pytest.raises(ServiceError) as exc:
        sign(teen, a.posts.get())
    assert exc.value.code == "too_young"


def test_signup_of_a_cancelled_activity_or_a_missing_post_is_refused(tree, make_volunteer, owner):
    v = make_volunteer()
    a = make_activity(tree.st_a1)
    services.activity_cancel(actor=owner, activity_id=a.pk, reason="大风")
    with pytest.raises(Conflict) as exc:
        sign(v, a.posts.get())
    assert exc.value.code == ErrorCode.NOT_PUBLISHED
    with pytest.raises(NotFound):
        services.signup_create(actor=v.user, post=999999, now=NOW)
    with pytest.raises(NotFound):
        services.signup_create(actor=v.user, post="x", now=NOW)


# ---------------------------------------------------------------- moving or deleting a post with sign-ups


def _held_overlaps() -> list[tuple[int, int, int]]:
    """(volunteer, post, post) for every pair of active sign-ups of one person whose windows overlap."""
    active = list(Signup.objects.filter(status__in=("confirmed", "waitlisted")).select_related("post"))
    return [
        (a.volunteer_id, a.post_id, b.post_id)
        for a in active
        for b in active
        if a.pk < b.pk
        and a.volunteer_id == b.volunteer_id
        and a.post.starts_at < b.post.ends_at
        and b.post.starts_at < a.post.ends_at
    ]


def test_moving_a_post_moves_its_signups(owner, post, make_volunteer):
    s = sign(make_volunteer(), post)
    later = post.starts_at + timedelta(days=1)
    services.post_update(actor=owner, post_id=post.pk, starts_at=later, ends_at=later + timedelta(hours=3))
    s.refresh_from_db()
    assert (s.starts_at, s.ends_at) == (later, later + timedelta(hours=3))


def test_moving_a_post_onto_a_signed_up_persons_other_post_is_refused_and_changes_nothing(
    owner, tree, post, make_volunteer
):
    v, other_person = make_volunteer(name="张晓梅"), make_volunteer(name="李建国")
    other = make_activity(tree.st_a1, title="社区义诊", start=START + timedelta(days=1)).posts.get()
    sign(v, post)
    sign(other_person, post)
    sign(v, other)
    before = list(Signup.objects.order_by("pk").values_list("pk", "starts_at", "ends_at", "status"))
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as exc:
        services.post_update(actor=owner, post_id=post.pk, starts_at=other.starts_at, ends_at=other.ends_at)
    assert exc.value.code == ErrorCode.OVERLAP
    assert "张晓梅" in str(exc.value) and "李建国" not in str(exc.value)
    post.refresh_from_db()
    assert post.starts_at == START  # the post did not move
    assert list(Signup.objects.order_by("pk").values_list("pk", "starts_at", "ends_at", "status")) == before
    assert AuditEvent.objects.count() == events
    assert _held_overlaps() == []
    # half an hour later still overlaps; a window after the other post passes, and everyone moves with it
    with pytest.raises(Conflict) as exc:
        services.post_update(
            actor=owner, post_id=post.pk, starts_at=other.ends_at - timedelta(minutes=30), ends_at=other.ends_at
        )
    assert exc.value.code == ErrorCode.OVERLAP
    services.post_update(
        actor=owner, post_id=post.pk, starts_at=other.ends_at, ends_at=other.ends_at + timedelta(hours=1)
    )
    assert set(Signup.objects.filter(post=post).values_list("starts_at", flat=True)) == {other.ends_at}
    assert _held_overlaps() == []


def test_moving_a_post_ignores_withdrawn_signups_elsewhere(owner, tree, post, make_volunteer):
    v = make_volunteer()
    other = make_activity(tree.st_a1, title="社区义诊", start=START + timedelta(days=1)).posts.get()
    sign(v, post)
    gone = sign(v, other)
    services.signup_withdraw(actor=v.user, signup_id=gone.pk, now=NOW)
    services.post_update(actor=owner, post_id=post.pk, starts_at=other.starts_at, ends_at=other.ends_at)
    assert _held_overlaps() == []


def test_a_post_with_signups_cannot_be_deleted(owner, post, make_volunteer):
    s = sign(make_volunteer(), post)
    with pytest.raises(Conflict) as exc:
        services.post_delete(actor=owner, post_id=post.pk)
    assert exc.value.code == ErrorCode.HAS_SIGNUPS
    assert Post.objects.filter(pk=post.pk).exists() and Signup.objects.filter(pk=s.pk).exists()
    assert not AuditEvent.objects.filter(action="post.delete").exists()


def test_a_post_whose_signups_all_ended_is_still_kept_for_the_record(owner, post, make_volunteer):
    """Withdrawn and removed sign-ups are the post's history (who left, why): the post stays."""
    v = make_volunteer()
    s = sign(v, post)
    services.signup_withdraw(actor=v.user, signup_id=s.pk, now=NOW)
    with pytest.raises(Conflict) as exc:
        services.post_delete(actor=owner, post_id=post.pk)
    assert exc.value.code == ErrorCode.HAS_SIGNUPS


def test_a_post_nobody_signed_up_for_is_deleted_and_audited(owner, activity):
    extra = services.post_create(
        actor=owner,
        activity_id=activity.pk,
        title="引导岗",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        quota=2,
    )
    services.post_delete(actor=owner, post_id=extra.pk)
    assert not Post.objects.filter(pk=extra.pk).exists()
    assert AuditEvent.objects.filter(action="post.delete", object_id=str(extra.pk)).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_moving_a_post_while_its_people_sign_up_elsewhere_never_leaves_an_overlap():
    """The organizer moves a post onto another post's time while the six people signed up for it sign up for that
    other post, all at once: the volunteer rows are locked before the post, so either the move or each sign-up is
    refused, and nobody ends up holding two overlapping posts (no deadlock, no other error)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = build_tree()
    owner = make_user("zhanzhang", role=Role.ORG_ADMIN, org=tree.st_a1)
    moved = make_activity(tree.st_a1, quota=10).posts.get()
    other = make_activity(tree.st_a1, title="社区义诊", quota=10, start=START + timedelta(days=1)).posts.get()
    people = [VolunteerFactory(org=tree.st_a1, user=make_user(f"m{i}")) for i in range(6)]
    for v in people:
        sign(v, moved)
    barrier = threading.Barrier(7)
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(i: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=owner.pk if i == 6 else people[i].user_id)
            barrier.wait(timeout=30)
            try:
                if i == 6:
                    services.post_update(
                        actor=actor, post_id=moved.pk, starts_at=other.starts_at, ends_at=other.ends_at
                    )
                else:
                    services.signup_create(actor=actor, post=other.pk, now=NOW)
                result = "ok"
            except Conflict as exc:
                result = exc.code
            with lock:
                outcomes.append(f"{'move' if i == 6 else 'sign'}:{result}")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 7 and set(outcomes) <= {"move:ok", "move:overlap", "sign:ok", "sign:overlap"}
    assert _held_overlaps() == []
    if "move:ok" in outcomes:
        assert outcomes.count("sign:overlap") == 6
    else:
        assert "sign:ok" in outcomes
