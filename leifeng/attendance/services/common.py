"""What every way of checking in or out shares: the constants, the idempotency key, opening and closing a
presence (every status change goes through `ATTENDANCE_TRANSITIONS`; closing writes the ledger entry)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from leifeng.activities.models import Post
from leifeng.attendance.codes import ErrorCode
from leifeng.attendance.models import ATTENDANCE_TRANSITIONS, Attendance, AttendanceStatus, CheckRequest
from leifeng.core.errors import Conflict, NotFound
from leifeng.hours.services import record_presence

KIOSK_TOKEN_MAX_AGE = 60  # seconds a QR code is accepted after it was drawn
KIOSK_ROTATE_SECONDS = 20  # the kiosk page draws a new code this often
CHECKIN_EARLY = timedelta(minutes=60)  # check-in opens this long before a post starts
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
CODE_VALID_MINUTES = 30


@dataclass
class CheckResult:
    action: str  # "in" or "out"
    attendance: Attendance
    replayed: bool = False  # True when a retried request got the first request's answer


def _post_for_run(actor, post_id) -> Post:
    post = Post.objects.select_related("activity__org").filter(pk=post_id).first() if post_id else None
    if post is None:
        raise NotFound()
    return post


# ---------------------------------------------------------------- idempotency


def _claim_key(key: str, actor, now: datetime) -> int | None:
    """Take the idempotency key; None when another request holds it (waits for it to commit on PostgreSQL)."""
    table = CheckRequest._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (key, user_id, action, created_at) VALUES (%s, %s, '', %s) "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            [key, actor.pk, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cur.fetchone()
    return row[0] if row else None


def _replay(key: str, actor) -> CheckResult:
    req = CheckRequest.objects.select_related("attendance__post__activity", "attendance__volunteer").get(key=key)
    if req.user_id != actor.pk or req.attendance is None:
        raise Conflict(_("This request key was already used for another request."), code=ErrorCode.KEY_REUSED)
    return CheckResult(action=req.action, attendance=req.attendance, replayed=True)


def _finish_key(request_id: int, attendance: Attendance, action: str) -> None:
    CheckRequest.objects.filter(pk=request_id).update(attendance=attendance, action=action)


def _clean_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise ValidationError({"key": [_("Every check-in needs a request key (Idempotency-Key) of 1–80 characters.")]})
    return key


# ---------------------------------------------------------------- closing a presence


def _open(att: Attendance) -> None:
    """Mark a presence open (the caller sets the times and saves): a new row simply starts OPEN; an existing
    one (a no-show marked too early) moves through ATTENDANCE_TRANSITIONS."""
    if att.pk is None or not att.status:
        att.status = AttendanceStatus.OPEN
    else:
        ATTENDANCE_TRANSITIONS.move(att, AttendanceStatus.OPEN)


def _close(att: Attendance, *, at: datetime, method: str, actor=None, auto: bool = False) -> None:
    ATTENDANCE_TRANSITIONS.move(att, AttendanceStatus.CLOSED)
    att.checked_out_at = max(at, att.checked_in_at)
    att.method_out = method
    att.auto_closed = auto
    record_presence(attendance=att, actor=actor)
    att.save(update_fields=["status", "checked_out_at", "method_out", "auto_closed", "record"])
