"""On someone's behalf (代签到 / 代签退): an organizer checks a person without a phone in or out."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.models import Post, Signup, SignupStatus
from leifeng.attendance.codes import AuditAction, ErrorCode
from leifeng.attendance.models import Attendance, AttendanceStatus, Method
from leifeng.attendance.policy import attendance_policy
from leifeng.attendance.services.common import (
    CHECKIN_EARLY,
    CODE_VALID_MINUTES,
    CheckResult,
    _claim_key,
    _clean_key,
    _close,
    _finish_key,
    _open,
    _post_for_run,
    _replay,
)
from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound

STAFF_BACKDATE_FREE = timedelta(minutes=5)  # a time further back than this needs a reason
STAFF_AHEAD = timedelta(minutes=1)  # clock drift of the organizer's phone: a time no further ahead than this


def _staff_window(post: Post) -> tuple[datetime, datetime]:
    """From check-in opening (CHECKIN_EARLY before the start) to the post's end plus the duration codes' grace."""
    return post.starts_at - CHECKIN_EARLY, post.ends_at + timedelta(minutes=CODE_VALID_MINUTES)


def _hm(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%m-%d %H:%M")


def staff_check(
    *,
    actor,
    post_id: int,
    volunteer_id: int,
    action: str,
    key: str | None,
    at: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> CheckResult:
    """An organizer (or a team leader allowed by `may_run`) checks a confirmed person in or out for them.

    For people without a phone: `at` is when they really arrived or left (default now). It must lie in
    the check-in window (CHECKIN_EARLY before the start to CODE_VALID_MINUTES after the end) and not
    in the future; more than STAFF_BACKDATE_FREE in the past needs a reason. The method is STAFF, the
    acting user is `marked_by` and in the audit trail (with the reason); checking out writes the ledger
    entry exactly as a kiosk check-out does (`_close` → `record_presence`). The idempotency key works
    as on the kiosk: a retry answers with the first result and writes nothing.
    """
    now = now or timezone.now()
    key = _clean_key(key)
    if action not in ("in", "out"):
        raise ValidationError({"action": [_("Choose check-in or check-out.")]})
    with transaction.atomic():
        request_id = _claim_key(key, actor, now)
        if request_id is None:
            return _replay(key, actor)
        post = _post_for_run(actor, post_id)
        attendance_policy.check_run(actor, post.activity.org)
        signup = (
            Signup.objects.select_for_update(of=("self",))
            .select_related("volunteer")
            .filter(post=post, volunteer_id=volunteer_id, status=SignupStatus.CONFIRMED)
            .first()
        )
        if signup is None:
            raise NotFound()
        name = signup.volunteer.name
        at = at or now
        label = _("check-in time") if action == "in" else _("check-out time")
        opens, closes = _staff_window(post)
        if at > now + STAFF_AHEAD:
            raise ValidationError({"at": [_("The %(field)s cannot be in the future.") % {"field": label}]})
        if not opens <= at <= closes:
            raise ValidationError(
                {
                    "at": [
                        _("The %(field)s must lie between %(opens)s and %(closes)s.")
                        % {"field": label, "opens": _hm(opens), "closes": _hm(closes)}
                    ]
                }
            )
        reason = (reason or "").strip()[:200]
        if now - at > STAFF_BACKDATE_FREE and not reason:
            raise ValidationError(
                {
                    "reason": [
                        _("The %(field)s is more than %(n)d minutes ago: say why it is entered afterwards.")
                        % {"field": label, "n": STAFF_BACKDATE_FREE.seconds // 60}
                    ]
                }
            )
        rows = list(
            Attendance.objects.select_for_update()
            .filter(activity_id=post.activity_id, volunteer_id=volunteer_id)
            .exclude(status=AttendanceStatus.CLOSED)
            .select_related("post")
            .order_by("id")
        )
        opened = next((a for a in rows if a.status == AttendanceStatus.OPEN), None)
        if action == "in":
            if opened is not None:
                raise Conflict(
                    _("%(name)s is checked in already (at %(post)s since %(time)s).")
                    % {"name": name, "post": opened.post.title, "time": _hm(opened.checked_in_at)},
                    code=ErrorCode.ALREADY_IN,
                )
            absent = next((a for a in rows if a.status == AttendanceStatus.ABSENT and a.post_id == post.pk), None)
            att = absent or Attendance(activity_id=post.activity_id, post=post, volunteer_id=volunteer_id)
            _open(att)
            att.checked_in_at = at
            att.method_in = Method.STAFF
            att.late = at > post.starts_at
            att.marked_by = actor
            att.save()
        else:
            if opened is None or opened.post_id != post.pk:
                raise Conflict(
                    _("%(name)s is not checked in to this post: check them in first.") % {"name": name},
                    code=ErrorCode.NOT_CHECKED_IN,
                )
            if at < opened.checked_in_at:
                raise ValidationError(
                    {
                        "at": [
                            _("The %(field)s comes before the check-in at %(time)s.")
                            % {"field": label, "time": _hm(opened.checked_in_at)}
                        ]
                    }
                )
            att = opened
            att.post = post
            att.marked_by = actor
            att.save(update_fields=["marked_by"])
            _close(att, at=at, method=Method.STAFF, actor=actor)
        _finish_key(request_id, att, action)
        audit.record(
            actor=actor,
            action=AuditAction(f"attendance.staff_check_{action}"),
            obj=att,
            org=post.activity.org,
            object_repr=f"{name} @ {post}",
            note=reason,
            changes={
                "at": at,
                "reason": reason,
                "method": Method.STAFF,
                "minutes": att.record.minutes if att.record_id else None,
            },
        )
    return CheckResult(action=action, attendance=att)
