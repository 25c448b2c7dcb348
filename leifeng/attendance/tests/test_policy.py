"""attendance.policy (who runs attendance, whose roll a leader calls), ATTENDANCE_TRANSITIONS refusing moves, the codes,
and attendance's panel on the hours review (hours does not import attendance)."""

import pytest
from django.utils import translation

from leifeng.activities.models import Signup, SignupGroup
from leifeng.attendance import selectors, services
from leifeng.attendance.codes import AuditAction
from leifeng.attendance.models import ATTENDANCE_TRANSITIONS, Attendance, AttendanceStatus
from leifeng.attendance.policy import attendance_policy
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.core.errors import Conflict, NotFound
from leifeng.core.errors import ErrorCode as CoreCode
from leifeng.core.transitions import Transitions
from leifeng.hours.models import ServiceRecord
from leifeng.hours.panels import REVIEW_PANELS
from leifeng.testing import make_user

pytestmark = pytest.mark.django_db


def checked_in_and_out(activity, vol):
    for key, moment in (("i", at(0)), ("o", at(2))):
        services.check(actor=vol.user, token=services.kiosk_token(activity, now=moment), key=key, now=moment)
    return Attendance.objects.get(volunteer=vol)


def test_who_runs_attendance(activity, vol, owner, colleague, outsider, tree):
    leader = make_user("duizhang3", role="team_leader", org=tree.st_a1)
    assert all(attendance_policy.may_run(u, activity.org) for u in (owner, colleague, leader))
    assert not attendance_policy.may_run(outsider, activity.org) and not attendance_policy.may_run(
        vol.user, activity.org
    )
    assert selectors.activity_for_kiosk(actor=leader, activity_id=activity.pk) == activity
    for actor in (outsider, vol.user):
        with pytest.raises(NotFound):
            selectors.activity_for_kiosk(actor=actor, activity_id=activity.pk)
        with pytest.raises(NotFound):
            services.kiosk_reset(actor=actor, activity_id=activity.pk)


def test_a_group_leader_calls_the_roll_of_their_group_only(post, vol, owner, make_volunteer):
    leader, other = make_volunteer(), make_volunteer()
    sign_up(post, leader)
    sign_up(post, other)
    group = SignupGroup.objects.create(post=post, number=1, leader=leader)
    Signup.objects.filter(volunteer__in=[vol, leader]).update(group=group)
    assert attendance_policy.roll_call_access(owner, post) is None  # everyone
    assert attendance_policy.roll_call_access(leader.user, post) == {vol.pk, leader.pk}
    with pytest.raises(NotFound):
        attendance_policy.roll_call_access(other.user, post)


def test_a_volunteer_sees_their_own_presences_only(activity, vol, make_volunteer, post):
    att = checked_in_and_out(activity, vol)
    someone = make_volunteer()
    assert list(attendance_policy.own(vol.user)) == [att]
    assert not attendance_policy.own(someone.user).exists()
    assert list(selectors.my_attendance(actor=vol.user)) == [att]


def test_the_table_is_a_transitions_table():
    assert isinstance(ATTENDANCE_TRANSITIONS, Transitions)
    assert ATTENDANCE_TRANSITIONS[AttendanceStatus.CLOSED] == frozenset()
    assert ATTENDANCE_TRANSITIONS.sources(AttendanceStatus.OPEN) == {AttendanceStatus.ABSENT}


def test_a_closed_presence_cannot_open_or_close_again(activity, post, vol):
    """Every status change goes through ATTENDANCE_TRANSITIONS: a closed presence refuses both; nothing is written."""
    att = checked_in_and_out(activity, vol)
    assert att.status == AttendanceStatus.CLOSED and ServiceRecord.objects.count() == 1
    with pytest.raises(Conflict) as exc, translation.override("en"):
        services._open(att)
    assert exc.value.message == "This presence cannot change." and exc.value.code == "invalid"
    att.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services._close(att, at=at(3), method="staff")
    assert exc.value.code == CoreCode.INVALID
    att.refresh_from_db()
    assert att.status == AttendanceStatus.CLOSED and att.checked_out_at == at(2)
    assert ServiceRecord.objects.count() == 1


def test_a_no_show_who_comes_after_all_moves_through_the_table(activity, post, vol, owner):
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=vol.pk, mark="absent", now=at(0))
    assert Attendance.objects.get(volunteer=vol).status == AttendanceStatus.ABSENT
    services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=vol.pk, mark="late", at=at(0, 20), now=at(0, 20))
    att = Attendance.objects.get(volunteer=vol)
    assert (att.status, att.late, att.checked_in_at) == (AttendanceStatus.OPEN, True, at(0, 20))


def test_the_dynamic_audit_actions_are_members():
    assert {AuditAction(f"attendance.staff_check_{a}") for a in ("in", "out")} == {
        AuditAction.STAFF_CHECK_IN,
        AuditAction.STAFF_CHECK_OUT,
    }
    with pytest.raises(ValueError):
        AuditAction("attendance.staff_check_sideways")


def test_attendance_adds_its_panel_to_the_hours_review_once():
    assert [p.template for p in REVIEW_PANELS].count("attendance/review_panel.html") == 1
