"""Roll call (点名): the leader marks each member present, late or absent from a phone.

Present and late open a presence (a whole post's presence when marked after it ended); absent marks a
no-show. A group leader marks their own group only (`attendance_policy.roll_call_access`).
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.models import Signup, SignupStatus
from leifeng.attendance.codes import AuditAction, ErrorCode
from leifeng.attendance.models import (
    ATTENDANCE_TRANSITIONS,
    Attendance,
    AttendanceStatus,
    Method,
    RollCallMark,
    RollMark,
)
from leifeng.attendance.policy import attendance_policy
from leifeng.attendance.services.common import _close, _open, _post_for_run
from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound


@transaction.atomic
def roll_call_mark(
    *,
    actor,
    post_id: int,
    volunteer_id: int,
    mark: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> RollCallMark:
    """The leader marks one member: present / late create presence, absent marks a no-show.

    `at` is when the person arrived (default: now). Present marked after the post ended counts the
    whole post; late then needs the arrival time.
    """
    now = now or timezone.now()
    post = _post_for_run(actor, post_id)
    allowed = attendance_policy.roll_call_access(actor, post)
    if allowed is not None and volunteer_id not in allowed:
        raise NotFound()
    if mark not in RollMark.values:
        raise ValidationError({"mark": [_("Mark present, late or absent.")]})
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .filter(post=post, volunteer_id=volunteer_id, status=SignupStatus.CONFIRMED)
        .first()
    )
    if signup is None:
        raise NotFound()
    at = at or now
    rows = {a.status: a for a in Attendance.objects.filter(post=post, volunteer_id=volunteer_id).order_by("id")}
    opened, closed = rows.get(AttendanceStatus.OPEN), rows.get(AttendanceStatus.CLOSED)
    absent = rows.get(AttendanceStatus.ABSENT)
    if mark in (RollMark.PRESENT, RollMark.LATE):
        if at >= post.ends_at:
            if mark == RollMark.LATE:
                raise ValidationError({"at": [_("The post is over: give the time the person arrived.")]})
            at = post.starts_at
        if opened is not None:
            opened.late = opened.late or mark == RollMark.LATE
            opened.save(update_fields=["late"])
        elif closed is None:
            att = absent or Attendance(activity_id=post.activity_id, post=post, volunteer_id=volunteer_id)
            _open(att)
            att.checked_in_at = at
            att.method_in = Method.ROLL_CALL
            att.late = mark == RollMark.LATE
            att.marked_by = actor
            att.save()
            if now >= post.ends_at:  # marked afterwards: the presence ends with the post
                att.post = post
                _close(att, at=post.ends_at, method=Method.ROLL_CALL, actor=actor)
    else:
        if closed is not None or (opened is not None and opened.method_in != Method.ROLL_CALL):
            raise Conflict(
                _("%(name)s has checked in already; they cannot be marked absent.") % {"name": signup.volunteer.name},
                code=ErrorCode.ALREADY_PRESENT,
            )
        if opened is not None:
            ATTENDANCE_TRANSITIONS.move(opened, AttendanceStatus.ABSENT)
            opened.checked_in_at = None
            opened.late = False
            opened.marked_by = actor
            opened.save(update_fields=["status", "checked_in_at", "late", "marked_by"])
        elif absent is None:
            Attendance.objects.create(
                activity_id=post.activity_id,
                post=post,
                volunteer_id=volunteer_id,
                status=AttendanceStatus.ABSENT,
                marked_by=actor,
            )
    row, _created = RollCallMark.objects.update_or_create(
        post=post, volunteer_id=volunteer_id, defaults={"mark": mark, "marked_by": actor, "marked_at": now}
    )
    audit.record(
        actor=actor,
        action=AuditAction.ROLL_CALL,
        obj=row,
        org=post.activity.org,
        object_repr=f"{signup.volunteer.name} @ {post}",
        changes={"mark": mark, "at": at},
    )
    return row
