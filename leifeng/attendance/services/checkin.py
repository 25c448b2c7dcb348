"""The kiosk scan (签到 / 签退), the hot path of Lei Feng Day.

Every check-in/out carries an idempotency key: the key is claimed first, inside the same transaction
(INSERT … ON CONFLICT DO NOTHING). A retry — even a concurrent one — finds the key taken and answers with the
first request's result, never a second record. A volunteer checks in to a post they are confirmed for, from
CHECKIN_EARLY before its start to its end; scanning again checks out; the sign-up row is locked, so one
person's requests run one at a time. `attendance/fast.py` answers the common check-in in front of Django with
the same SQL (`_SLOTS_SQL`) and rules.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leifeng.activities.models import Activity
from leifeng.attendance.codes import ErrorCode
from leifeng.attendance.models import ATTENDANCE_TRANSITIONS, Attendance, AttendanceStatus, Method
from leifeng.attendance.services.common import (
    CHECKIN_EARLY,
    CheckResult,
    _claim_key,
    _clean_key,
    _close,
    _finish_key,
    _replay,
)
from leifeng.attendance.services.kiosk import check_geofence, clean_position, token_activity_id, verify_token
from leifeng.core.errors import ServiceError


@dataclass
class _Slot:
    """One confirmed sign-up of the person at the activity, as the lean check-in query returns it."""

    signup_id: int
    volunteer_id: int
    post_id: int
    starts_at: datetime
    ends_at: datetime


def _dt(value) -> datetime:
    """Raw SQL gives datetimes on PostgreSQL and ISO strings on SQLite."""
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _pick_post(slots: list[_Slot], now: datetime) -> _Slot | None:
    """The running post, else the next one that opens for check-in (CHECKIN_EARLY before its start)."""
    open_now = [s for s in slots if s.starts_at - CHECKIN_EARLY <= now < s.ends_at]
    return min(open_now, key=lambda s: s.starts_at, default=None)


# The hot path of Lei Feng Day, in plain SQL: only the columns needed, no ORM compilation per request.
# The person's confirmed sign-ups at the activity, locked, with what the token and geofence need and,
# per post, an open presence or a no-show row if there is one.
_SLOTS_SQL = """
SELECT s.id, s.volunteer_id, p.id, p.starts_at, p.ends_at, a.kiosk_secret, a.geofence_m, a.latitude, a.longitude,
  (SELECT t.id FROM attendance_attendance t
    WHERE t.activity_id = p.activity_id AND t.volunteer_id = s.volunteer_id AND t.status = 'open' LIMIT 1),
  (SELECT t.id FROM attendance_attendance t
    WHERE t.post_id = p.id AND t.volunteer_id = s.volunteer_id AND t.status = 'absent' LIMIT 1)
FROM activities_signup s
JOIN activities_post p ON p.id = s.post_id
JOIN activities_activity a ON a.id = p.activity_id
JOIN people_volunteer v ON v.id = s.volunteer_id
WHERE p.activity_id = %s AND v.user_id = %s AND s.status = 'confirmed'
"""
_INSERT_SQL = (
    "INSERT INTO attendance_attendance (activity_id, post_id, volunteer_id, status, checked_in_at, method_in, "
    "method_out, late, auto_closed, created_at) VALUES (%s, %s, %s, 'open', %s, %s, '', %s, false, %s) RETURNING id"
)
# On PostgreSQL the key's claim and the locked read of the sign-ups go in one round trip too: the first
# column is the claimed key's id (NULL: another request holds the key → replay); a person without a
# confirmed sign-up gives one row of NULLs after it. The sign-ups are read from the statement's snapshot,
# exactly as the separate SELECT did after an uncontended claim; when the key was contended the rows are
# not used (the first request's answer is replayed).
_CLAIM_AND_SLOTS_SQL = (
    "WITH k AS (INSERT INTO attendance_checkrequest (key, user_id, action, created_at) VALUES (%s, %s, '', %s) "
    f"ON CONFLICT (key) DO NOTHING RETURNING id), sl AS ({_SLOTS_SQL} FOR UPDATE OF s) "
    "SELECT (SELECT id FROM k), sl.* FROM (SELECT 1) one LEFT JOIN sl ON true"
)
# On PostgreSQL the insert and the key's answer go in one round trip.
_INSERT_AND_FINISH_SQL = (
    f"WITH a AS ({_INSERT_SQL}) UPDATE attendance_checkrequest SET attendance_id = (SELECT id FROM a), action = 'in' "
    "WHERE id = %s RETURNING attendance_id"
)


def check(
    *,
    actor,
    token: str,
    key: str | None,
    lat: float | None = None,
    lng: float | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Scan of the kiosk QR: check in to the post running now, or check out if already in.

    Two scans with different keys at the same instant: the second waits for the sign-up lock, but on
    PostgreSQL its statement still reads the snapshot from before the first one's check-in, so its insert
    hits the one-open-presence constraint. Nothing was written (the transaction rolled back, key included);
    running it again sees the presence and checks out — what the person meant by scanning twice.
    """
    kwargs = {"actor": actor, "token": token, "key": key, "lat": lat, "lng": lng, "now": now}
    try:
        return _check(**kwargs)
    except IntegrityError as exc:
        if "one_open_presence_per_post" not in str(exc) or connection.in_atomic_block:
            raise
        return _check(**kwargs)


def _check(
    *,
    actor,
    token: str,
    key: str | None,
    lat: float | None,
    lng: float | None,
    now: datetime | None,
) -> CheckResult:
    """One attempt of `check`.

    A check-in is three statements on PostgreSQL (besides the API's token lookup): claim the key and load
    and lock the sign-ups with any open presence in one, insert the presence and finish the key in one,
    commit.
    """
    now = now or timezone.now()
    key = _clean_key(key)
    clean_position(lat, lng)  # before anything is claimed or read
    with transaction.atomic():
        if connection.vendor == "postgresql":
            head = (token or "").split(":", 1)[0]
            with connection.cursor() as cur:
                stamp = connection.ops.adapt_datetimefield_value(now)
                aid = int(head) if head.isdigit() and len(head) < 19 else 0  # 0: no sign-ups (a retry still replays)
                cur.execute(_CLAIM_AND_SLOTS_SQL, [key, actor.pk, stamp, aid, actor.pk])
                rows = cur.fetchall()
            request_id = rows[0][0]
            rows = [r[1:] for r in rows if r[1] is not None]
            if request_id is None:
                return _replay(key, actor)
            activity_id = token_activity_id(token)
        else:
            request_id = _claim_key(key, actor, now)
            if request_id is None:
                return _replay(key, actor)
            activity_id = token_activity_id(token)
            lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
            with connection.cursor() as cur:
                cur.execute(_SLOTS_SQL + lock, [activity_id, actor.pk])
                rows = cur.fetchall()
        if rows:
            first = rows[0]
            activity = Activity(
                pk=activity_id, kiosk_secret=first[5], geofence_m=first[6], latitude=first[7], longitude=first[8]
            )
        else:
            activity = Activity.objects.filter(pk=activity_id).only("kiosk_secret").first()
            if activity is None:
                raise ServiceError(_("This check-in code is not valid."), code=ErrorCode.BAD_TOKEN, field="token")
        verify_token(activity, token, now=now)
        if not rows:
            raise ServiceError(
                _("You are not signed up for this activity, so there is nothing to check in to."),
                code=ErrorCode.NOT_SIGNED_UP,
            )
        check_geofence(activity, lat, lng)
        slots = [_Slot(r[0], r[1], r[2], _dt(r[3]), _dt(r[4])) for r in rows]
        volunteer_id = slots[0].volunteer_id
        opened = next((r[9] for r in rows if r[9]), None)
        if opened is not None:  # check-out: the ledger entry is written here (rarer and heavier than check-in)
            att = Attendance.objects.select_related("post__activity__org").get(pk=opened)
            _close(att, at=now, method=Method.KIOSK)
            _finish_key(request_id, att, "out")
            return CheckResult(action="out", attendance=att)
        slot = _pick_post(slots, now)
        if slot is None:
            nxt = min((s for s in slots if s.starts_at > now), key=lambda s: s.starts_at, default=None)
            if nxt is not None:
                raise ServiceError(
                    _("Check-in for your post opens at %(time)s.")
                    % {"time": timezone.localtime(nxt.starts_at - CHECKIN_EARLY).strftime("%m-%d %H:%M")},
                    code=ErrorCode.TOO_EARLY,
                )
            raise ServiceError(_("Your post has already ended."), code=ErrorCode.POST_ENDED)
        late = now > slot.starts_at
        absent = next((r[10] for r in rows if r[2] == slot.post_id and r[10]), None)
        att = Attendance(
            activity_id=activity_id,
            post_id=slot.post_id,
            volunteer_id=volunteer_id,
            status=AttendanceStatus.OPEN,
            checked_in_at=now,
            method_in=Method.KIOSK,
            late=late,
            created_at=now,
        )
        stamp = connection.ops.adapt_datetimefield_value(now)
        params = [activity_id, slot.post_id, volunteer_id, stamp, Method.KIOSK, late, stamp]
        if absent is not None:  # a no-show marked too early: the person came after all
            ATTENDANCE_TRANSITIONS.check(AttendanceStatus.ABSENT, AttendanceStatus.OPEN)
            att.pk = absent
            att.save(update_fields=["status", "checked_in_at", "method_in", "late"])
            _finish_key(request_id, att, "in")
        elif connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(_INSERT_AND_FINISH_SQL, [*params, request_id])
                att.pk = cur.fetchone()[0]
        else:
            with connection.cursor() as cur:
                cur.execute(_INSERT_SQL, params)
                att.pk = cur.fetchone()[0]
            _finish_key(request_id, att, "in")
        return CheckResult(action="in", attendance=att)
