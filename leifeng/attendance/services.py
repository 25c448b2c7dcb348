"""Check-in and check-out (签到 / 签退): kiosk QR, roll call, duration code, auto-close.

Rules:
  * the kiosk QR encodes a URL with a token signed by `signing.TimestampSigner` salted with the
    activity's `kiosk_secret`; it is refused after KIOSK_TOKEN_MAX_AGE seconds (a photo is useless
    later) and when tampered with; regenerating the secret voids every code shown so far;
  * every check-in/out carries an idempotency key: the key is claimed first, inside the same
    transaction (INSERT … ON CONFLICT DO NOTHING). A retry — even a concurrent one — finds the key taken
    and answers with the first request's result, never a second record;
  * a volunteer checks in to a post they are confirmed for, from CHECKIN_EARLY before its start to its
    end; scanning again checks out; the sign-up row is locked, so one person's requests run one at a time;
  * the optional geofence refuses positions farther than `activity.geofence_m` (haversine);
  * closing a presence writes the VERIFIED service record (hours.services.record_presence);
  * forgotten check-outs are closed at the post's end and flagged (`auto_closed`); confirmed people who
    never came are marked no-shows (`close_attendance`, run by a task and a command).

The volunteer's own check-in/out is not written to the audit trail: the Attendance row and its
CheckRequest are that trail (who, when, how). Staff actions (roll call, codes, auto-close) are audited.
"""

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leifeng.activities.models import Activity, Post, Signup, SignupStatus
from leifeng.attendance.models import (
    ATTENDANCE_TRANSITIONS,
    Attendance,
    AttendanceStatus,
    CheckRequest,
    DurationCode,
    Method,
    PostClosure,
    RollCallMark,
    RollMark,
)
from leifeng.core import audit, scope
from leifeng.core.errors import Conflict, NotFound, ServiceError
from leifeng.core.scope import Perm
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


# ---------------------------------------------------------------- who may run attendance


def may_run(actor, org) -> bool:
    """Staff of the organizing node (or above), and team leaders holding their role there."""
    return scope.allows(actor, Perm.CHANGE, org) or scope.allows(actor, Perm.LEAD_TEAM, org)


def activity_for_kiosk(*, actor, activity_id) -> Activity:
    activity = Activity.objects.select_related("org").filter(pk=activity_id).first() if activity_id else None
    if activity is None or not may_run(actor, activity.org):
        raise NotFound()
    return activity


# ---------------------------------------------------------------- kiosk tokens


class _Signer(signing.TimestampSigner):
    def __init__(self, activity: Activity, now: datetime | None = None):
        super().__init__(salt=f"leifeng.kiosk:{activity.kiosk_secret}")
        self._now = now

    def timestamp(self):
        moment = self._now or timezone.now()
        return signing.b62_encode(int(moment.timestamp()))


def kiosk_token(activity: Activity, *, now: datetime | None = None) -> str:
    """`<activity id>:<timestamp>:<signature>`, valid for KIOSK_TOKEN_MAX_AGE seconds."""
    return _Signer(activity, now).sign(str(activity.pk))


def token_activity_id(token: str) -> int:
    head = (token or "").split(":", 1)[0]
    if not head.isdigit():
        raise ServiceError(_("This is not a check-in code of this platform."), code="bad_token", field="token")
    return int(head)


@lru_cache(maxsize=1024)
def _kiosk_signer(secret: str, key: str, fallbacks: tuple) -> signing.Signer:
    """One verifier per kiosk secret (and signing keys): thousands of scans of the same activity per minute."""
    return signing.Signer(key=key, fallback_keys=list(fallbacks), salt=f"leifeng.kiosk:{secret}")


def verify_token(activity: Activity, token: str, *, now: datetime | None = None) -> None:
    """Raise a clear error for a tampered or stale code."""
    try:
        signer = _kiosk_signer(activity.kiosk_secret, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
        value = signer.unsign(token)
        aid, stamp = value.rsplit(":", 1)
        signed_at = signing.b62_decode(stamp)
    except (signing.BadSignature, ValueError):
        raise ServiceError(
            _("This check-in code is not valid: scan the code on the kiosk screen again."),
            code="bad_token",
            field="token",
        ) from None
    age = (now or timezone.now()).timestamp() - signed_at
    if aid != str(activity.pk) or age > KIOSK_TOKEN_MAX_AGE or age < -5:
        raise ServiceError(
            _("This check-in code has expired (it changes every few seconds): scan the code on the screen again."),
            code="stale_token",
            field="token",
        )


def kiosk_reset(*, actor, activity_id) -> Activity:
    """A new kiosk secret: every code shown so far stops working at once."""
    from leifeng.activities.models import new_kiosk_secret

    with transaction.atomic():
        activity = activity_for_kiosk(actor=actor, activity_id=activity_id)
        activity.kiosk_secret = new_kiosk_secret()
        activity.save(update_fields=["kiosk_secret"])
        audit.record(actor=actor, action="attendance.kiosk_reset", obj=activity)
    return activity


# ---------------------------------------------------------------- geofence


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def check_geofence(activity: Activity, lat: float | None, lng: float | None) -> None:
    if not activity.geofence_m or activity.latitude is None or activity.longitude is None:
        return
    if lat is None or lng is None:
        raise ServiceError(
            _("This activity checks people in on the spot: allow the page to use your location."),
            code="position_needed",
            field="position",
        )
    d = distance_m(float(activity.latitude), float(activity.longitude), float(lat), float(lng))
    if d > activity.geofence_m:
        far = f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"
        raise ServiceError(
            _("You are %(far)s from the place; check-in works within %(radius)d m of it.")
            % {"far": far, "radius": activity.geofence_m},
            code="outside_geofence",
            field="position",
        )


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
        raise Conflict(_("This request key was already used for another request."), code="key_reused")
    return CheckResult(action=req.action, attendance=req.attendance, replayed=True)


def _finish_key(request_id: int, attendance: Attendance, action: str) -> None:
    CheckRequest.objects.filter(pk=request_id).update(attendance=attendance, action=action)


def _clean_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise ValidationError({"key": [_("Every check-in needs a request key (Idempotency-Key) of 1–80 characters.")]})
    return key


# ---------------------------------------------------------------- check-in / check-out


def _close(att: Attendance, *, at: datetime, method: str, actor=None, auto: bool = False) -> None:
    att.status = AttendanceStatus.CLOSED
    att.checked_out_at = max(at, att.checked_in_at)
    att.method_out = method
    att.auto_closed = auto
    record_presence(attendance=att, actor=actor)
    att.save(update_fields=["status", "checked_out_at", "method_out", "auto_closed", "record"])


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
                raise ServiceError(_("This check-in code is not valid."), code="bad_token", field="token")
        verify_token(activity, token, now=now)
        if not rows:
            raise ServiceError(
                _("You are not signed up for this activity, so there is nothing to check in to."), code="not_signed_up"
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
                    code="too_early",
                )
            raise ServiceError(_("Your post has already ended."), code="post_ended")
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


# ---------------------------------------------------------------- roll call


def _post_for_run(actor, post_id) -> Post:
    post = Post.objects.select_related("activity__org").filter(pk=post_id).first() if post_id else None
    if post is None:
        raise NotFound()
    return post


def roll_call_access(actor, post: Post) -> set[int] | None:
    """None = every member of the post; a set = only these volunteers (a group leader's own group)."""
    if may_run(actor, post.activity.org):
        return None
    from leifeng.activities.models import SignupGroup

    groups = list(SignupGroup.objects.filter(post=post, leader__user=actor).values_list("pk", flat=True))
    if not groups:
        raise NotFound()
    return set(
        Signup.objects.filter(post=post, group_id__in=groups, status=SignupStatus.CONFIRMED).values_list(
            "volunteer_id", flat=True
        )
    )


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
    allowed = roll_call_access(actor, post)
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
            if absent is not None and AttendanceStatus.OPEN not in ATTENDANCE_TRANSITIONS[absent.status]:
                raise Conflict(_("This presence cannot change."))
            att.status = AttendanceStatus.OPEN
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
                code="already_present",
            )
        if opened is not None:
            opened.status = AttendanceStatus.ABSENT
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
        action="attendance.roll_call",
        obj=row,
        org=post.activity.org,
        object_repr=f"{signup.volunteer.name} @ {post}",
        changes={"mark": mark, "at": at},
    )
    return row


# ---------------------------------------------------------------- duration codes


@transaction.atomic
def duration_code_create(
    *, actor, post_id: int, valid_minutes: int = CODE_VALID_MINUTES, now: datetime | None = None
) -> DurationCode:
    """A short code for the post, to hand out at the end (valid `valid_minutes` from now or the post's end)."""
    now = now or timezone.now()
    post = _post_for_run(actor, post_id)
    if not may_run(actor, post.activity.org):
        raise NotFound()
    if now < post.starts_at:
        raise ServiceError(_("A duration code is handed out once the post has started."), code="too_early")
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
        action="attendance.duration_code",
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
            raise ServiceError(_("This duration code is wrong or has expired."), code="bad_code", field="code")
        post = dc.post
        signup = (
            Signup.objects.select_for_update(of=("self",))
            .filter(post=post, volunteer__user=actor, status=SignupStatus.CONFIRMED)
            .first()
        )
        if signup is None:
            raise ServiceError(_("You are not signed up for this post."), code="not_signed_up", field="code")
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
            att.status = AttendanceStatus.OPEN
            att.checked_in_at = post.starts_at
            att.method_in = Method.DURATION_CODE
            att.save()
            _close(att, at=end, method=Method.DURATION_CODE)
        _finish_key(request_id, att, "out")
        return CheckResult(action="out", attendance=att)


# ---------------------------------------------------------------- auto-close


def close_attendance(*, now: datetime | None = None, actor=None) -> dict[str, int]:
    """Close presences left open after their post ended (flagged) and mark no-shows; one post per transaction."""
    now = now or timezone.now()
    done = {"posts": 0, "auto_closed": 0, "no_shows": 0}
    stale_open = Attendance.objects.filter(status=AttendanceStatus.OPEN, post__ends_at__lte=now).values("post_id")
    unprocessed = Post.objects.filter(ends_at__lte=now).exclude(pk__in=PostClosure.objects.values("post_id"))
    post_ids = set(unprocessed.values_list("pk", flat=True)) | {r["post_id"] for r in stale_open}
    for post_id in sorted(post_ids):
        with transaction.atomic():
            post = Post.objects.select_related("activity__org").select_for_update(of=("self",)).get(pk=post_id)
            closed = 0
            for att in Attendance.objects.select_for_update().filter(post=post, status=AttendanceStatus.OPEN):
                att.post = post
                _close(att, at=post.ends_at, method=Method.AUTO, actor=actor, auto=att.method_in != Method.ROLL_CALL)
                closed += 1
            no_shows = 0
            closure = PostClosure.objects.filter(post=post).first()
            if closure is None:
                seen = Attendance.objects.filter(post=post).values("volunteer_id")
                missing = list(
                    Signup.objects.filter(post=post, status=SignupStatus.CONFIRMED)
                    .exclude(volunteer_id__in=seen)
                    .values_list("volunteer_id", flat=True)
                )
                Attendance.objects.bulk_create(
                    [
                        Attendance(
                            activity_id=post.activity_id, post=post, volunteer_id=v, status=AttendanceStatus.ABSENT
                        )
                        for v in missing
                    ]
                )
                no_shows = len(missing)
                closure = PostClosure.objects.create(post=post, closed_at=now, auto_closed=closed, no_shows=no_shows)
            elif closed:
                closure.auto_closed += closed
                closure.save(update_fields=["auto_closed"])
            if closed or no_shows:
                audit.record(
                    actor=actor,
                    action="attendance.auto_close",
                    obj=post,
                    org=post.activity.org,
                    object_repr=str(post),
                    changes={"auto_closed": closed, "no_shows": no_shows},
                )
            done["posts"] += 1
            done["auto_closed"] += closed
            done["no_shows"] += no_shows
    return done


# ---------------------------------------------------------------- on someone's behalf (代签到 / 代签退)

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
        if not may_run(actor, post.activity.org):
            raise NotFound()
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
                    code="already_in",
                )
            absent = next((a for a in rows if a.status == AttendanceStatus.ABSENT and a.post_id == post.pk), None)
            att = absent or Attendance(activity_id=post.activity_id, post=post, volunteer_id=volunteer_id)
            att.status = AttendanceStatus.OPEN
            att.checked_in_at = at
            att.method_in = Method.STAFF
            att.late = at > post.starts_at
            att.marked_by = actor
            att.save()
        else:
            if opened is None or opened.post_id != post.pk:
                raise Conflict(
                    _("%(name)s is not checked in to this post: check them in first.") % {"name": name},
                    code="not_checked_in",
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
            action=f"attendance.staff_check_{action}",
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
