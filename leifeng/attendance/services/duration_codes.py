"""Duration codes (时长码): a short code for a post, handed out at the end; entering it records presence for
the post's window (or from the person's check-in), with the same idempotency key as a scan."""

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.models import Signup, SignupStatus
from leifeng.attendance.codes import AuditAction, ErrorCode
from leifeng.attendance.models import Attendance, AttendanceStatus, DurationCode, Method
from leifeng.attendance.policy import attendance_policy
from leifeng.attendance.services.common import (
    CODE_ALPHABET,
    CODE_LENGTH,
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
from leifeng.core.errors import ServiceError


@transaction.atomic
def duration_code_create(
    *, actor, post_id: int, valid_minutes: int = CODE_VALID_MINUTES, now: datetime | None = None
) -> DurationCode:
    """A short code for the post, to hand out at the end (valid `valid_minutes` from now or the post's end)."""
    now = now or timezone.now()
    post = _post_for_run(actor, post_id)
    attendance_policy.check_run(actor, post.activity.org)
    if now < post.starts_at:
        raise ServiceError(_("A duration code is handed out once the post has started."), code=ErrorCode.TOO_EARLY)
    if not 1 <= valid_minutes <= 24 * 60:
        raise ValidationError({"valid_minutes": [_("Between 1 minute and 24 hours.")]})
    expires = max(now, post.ends_at) + timedelta(minutes=valid_minutes)
    for _attempt in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
        if not DurationCode.objects.filter(code=code).exists():
            break
    dc = DurationCode.objects.create(post=post, code=code, created_by=actor, created_at=now, expires_at=expires)
    audit.record(
        actor=actor,
        action=AuditAction.DURATION_CODE,
        obj=dc,
        org=post.activity.org,
        changes={"post": post.pk, "expires_at": expires},
    )
    return dc


def duration_code_enter(*, actor, code: str, key: str | None, now: datetime | None = None) -> CheckResult:
    """The volunteer enters the code: presence for the post's window (or from their check-in) is recorded."""
    now = now or timezone.now()
    key = _clean_key(key)
    code = (code or "").strip().upper().replace(" ", "")
    with transaction.atomic():
        request_id = _claim_key(key, actor, now)
        if request_id is None:
            return _replay(key, actor)
        dc = DurationCode.objects.select_related("post__activity").filter(code=code).first()
        if dc is None or dc.expires_at < now:
            raise ServiceError(_("This duration code is wrong or has expired."), code=ErrorCode.BAD_CODE, field="code")
        post = dc.post
        signup = (
            Signup.objects.select_for_update(of=("self",))
            .filter(post=post, volunteer__user=actor, status=SignupStatus.CONFIRMED)
            .first()
        )
        if signup is None:
            raise ServiceError(_("You are not signed up for this post."), code=ErrorCode.NOT_SIGNED_UP, field="code")
        rows = list(Attendance.objects.filter(post=post, volunteer_id=signup.volunteer_id).order_by("id"))
        opened = next((a for a in rows if a.status == AttendanceStatus.OPEN), None)
        closed = next((a for a in rows if a.status == AttendanceStatus.CLOSED), None)
        end = min(now, post.ends_at)
        if opened is not None:
            opened.post = post
            _close(opened, at=end, method=Method.DURATION_CODE)
            att = opened
        elif closed is not None:
            att = closed  # already recorded: entering the code again changes nothing
        else:
            absent = next((a for a in rows if a.status == AttendanceStatus.ABSENT), None)
            att = absent or Attendance(activity_id=post.activity_id, post=post, volunteer_id=signup.volunteer_id)
            _open(att)
            att.checked_in_at = post.starts_at
            att.method_in = Method.DURATION_CODE
            att.save()
            _close(att, at=end, method=Method.DURATION_CODE)
        _finish_key(request_id, att, "out")
        return CheckResult(action="out", attendance=att)
