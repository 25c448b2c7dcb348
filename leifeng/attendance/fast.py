"""The kiosk check-in's burst path (see leifeng/core/fast.py for how burst paths sit in front of Django).

Answered here: a bearer token of an active account, a fresh idempotency key, a valid kiosk code, a
confirmed sign-up whose post is open for check-in now, nobody checked in yet. That is two prepared
statements without a transaction block: one read (token, key, sign-ups, presence) and one write
(presence + key, atomic as a single statement). Everything else goes to Django.

Rules it keeps: the token is checked like `accounts.api_auth.token_user` (and its `last_used_at` stamped
in the write when older than LAST_USED_EVERY); the kiosk code like `services.verify_token`; the
geofence like `services.check_geofence`; the post like `services._pick_post`; the presence is inserted
only while the sign-up is still confirmed (FOR SHARE: a roll call or a withdrawal holding the row waits
for it, and it waits for them); the one-open-presence constraint and the unique key refuse a second
record, and Django then answers as for any concurrent request (a replay, or the check-out a second scan
means).
"""

import json
import re
from contextlib import nullcontext
from functools import cache
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.utils import timezone

from leifeng.accounts.api_auth import LAST_USED_EVERY
from leifeng.accounts.models import ApiToken
from leifeng.activities.models import Signup
from leifeng.attendance import services
from leifeng.attendance.models import Attendance, AttendanceStatus, CheckRequest, Method
from leifeng.core.errors import ServiceError
from leifeng.core.fast import Answer, Request, db, route, run

CHECK_PATH = "/api/v1/attendance/check"


@cache
def _sql() -> tuple[str, str]:
    """The read and the write, built once from the models' tables."""
    from django.contrib.auth import get_user_model

    user_table = get_user_model()._meta.db_table
    read = (
        "SELECT u.id, t.id, t.last_used_at, EXISTS (SELECT 1 FROM "
        f"{CheckRequest._meta.db_table} k WHERE k.key = %s), sl.* "
        f"FROM {ApiToken._meta.db_table} t JOIN {user_table} u ON u.id = t.user_id "
        f"LEFT JOIN LATERAL ({services._SLOTS_SQL.replace('v.user_id = %s', 'v.user_id = u.id')}) sl ON true "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
    write = (  # the token's last_used_at is stamped in the same statement when it is older than LAST_USED_EVERY
        f"WITH tk AS (UPDATE {ApiToken._meta.db_table} SET last_used_at = %s WHERE id = %s AND %s), "
        f"s AS (SELECT id FROM {Signup._meta.db_table} WHERE id = %s AND status = 'confirmed' FOR SHARE), "
        f"a AS (INSERT INTO {Attendance._meta.db_table} (activity_id, post_id, volunteer_id, status, checked_in_at, "
        "method_in, method_out, late, auto_closed, created_at) "
        "SELECT %s, %s, %s, 'open', %s, %s, '', %s, false, %s FROM s RETURNING id) "
        f"INSERT INTO {CheckRequest._meta.db_table} (key, user_id, action, attendance_id, created_at) "
        "SELECT %s, %s, 'in', a.id, %s FROM a RETURNING attendance_id"
    )
    return read, write


@cache
def _one_sql() -> str:
    """Read and write in one round trip, for an activity whose kiosk secret and geofence this process has seen:
    the code and the position are checked in Python first against those, and the statement inserts only if
    they are still the activity's and every rule the two-statement path checks holds (same slots, same pick of
    the post, same locks). Otherwise it writes nothing and says who asked and whether the key was taken."""
    from django.contrib.auth import get_user_model

    user_table = get_user_model()._meta.db_table
    slots = services._SLOTS_SQL.replace("v.user_id = %s", "v.user_id = (SELECT uid FROM me)").replace(
        "p.activity_id = %s", "p.activity_id = %(activity)s"
    )
    return (
        "WITH me AS (SELECT u.id AS uid, t.id AS tid, t.last_used_at AS used "
        f"FROM {ApiToken._meta.db_table} t JOIN {user_table} u ON u.id = t.user_id "
        "WHERE t.key_hash = %(hash)s AND t.revoked_at IS NULL AND u.is_active), "
        f"taken AS (SELECT EXISTS (SELECT 1 FROM {CheckRequest._meta.db_table} k WHERE k.key = %(key)s) AS v), "
        "sl (signup_id, volunteer_id, post_id, starts_at, ends_at, secret, fence, lat, lng, open_id, absent_id) "
        f"AS ({slots}), "
        "pick AS (SELECT * FROM sl WHERE starts_at - %(early)s <= %(now)s AND %(now)s < ends_at "
        "ORDER BY starts_at LIMIT 1), "
        "ok AS (SELECT pick.* FROM pick WHERE NOT (SELECT v FROM taken) AND pick.absent_id IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM sl WHERE sl.open_id IS NOT NULL) AND pick.secret = %(secret)s "
        "AND pick.fence IS NOT DISTINCT FROM %(fence)s AND pick.lat IS NOT DISTINCT FROM %(lat)s "
        "AND pick.lng IS NOT DISTINCT FROM %(lng)s), "
        f"tk AS (UPDATE {ApiToken._meta.db_table} SET last_used_at = %(now)s WHERE id = (SELECT tid FROM me) "
        "AND EXISTS (SELECT 1 FROM ok) AND EXISTS (SELECT 1 FROM me WHERE used IS NULL OR used < %(stale)s)), "
        f"s AS (SELECT id FROM {Signup._meta.db_table} WHERE id = (SELECT signup_id FROM ok) "
        "AND status = 'confirmed' FOR SHARE), "
        f"a AS (INSERT INTO {Attendance._meta.db_table} (activity_id, post_id, volunteer_id, status, checked_in_at, "
        "method_in, method_out, late, auto_closed, created_at) "
        "SELECT %(activity)s, ok.post_id, ok.volunteer_id, 'open', %(now)s, %(method)s, '', %(now)s > ok.starts_at, "
        "false, %(now)s FROM ok JOIN s ON s.id = ok.signup_id RETURNING id, post_id, volunteer_id, late), "
        f"c AS (INSERT INTO {CheckRequest._meta.db_table} (key, user_id, action, attendance_id, created_at) "
        "SELECT %(key)s, (SELECT uid FROM me), 'in', a.id, %(now)s FROM a RETURNING attendance_id) "
        "SELECT (SELECT attendance_id FROM c), a.post_id, a.volunteer_id, a.late, me.uid, me.tid, me.used, "
        "(SELECT v FROM taken) FROM (SELECT 1) one LEFT JOIN me ON true LEFT JOIN a ON true"
    )


# activity id → (kiosk secret, geofence, latitude, longitude) as last read; the one-statement write checks them
_SEEN: dict[int, tuple] = {}
_SEEN_MAX = 1000


@cache
def _replay_sql() -> tuple[str, str]:
    """A retry's first answer (as services._replay gives it) and the token stamp for it."""
    from leifeng.hours.models import ServiceRecord
    from leifeng.people.models import Volunteer

    replay = (
        "SELECT k.user_id, k.action, a.id, a.activity_id, a.post_id, a.volunteer_id, a.status, a.checked_in_at, "
        "a.checked_out_at, a.method_in, a.method_out, a.late, a.auto_closed, r.minutes, v.number, v.name "
        f"FROM {CheckRequest._meta.db_table} k JOIN {Attendance._meta.db_table} a ON a.id = k.attendance_id "
        f"JOIN {Volunteer._meta.db_table} v ON v.id = a.volunteer_id "
        f"LEFT JOIN {ServiceRecord._meta.db_table} r ON r.id = a.record_id WHERE k.key = %s"
    )
    return replay, f"UPDATE {ApiToken._meta.db_table} SET last_used_at = %s WHERE id = %s"


def _replayed(key: str, user_id: int, token_id: int, stale: bool, now) -> Answer | None:
    """The first request's answer again, `replayed: true`; None (Django's 409) if the key is someone else's."""
    replay, stamp = _replay_sql()
    row = run(replay, [key])
    if row is None or row[0] != user_id:
        return None
    if stale:
        run(stamp, [now, token_id], rowcount=True)
    names = ("id", "activity_id", "post_id", "volunteer_id", "status", "checked_in_at", "checked_out_at")
    attendance = dict(zip(names, row[2:9], strict=True))
    attendance.update(
        volunteer_number=row[14],
        volunteer_name=row[15],
        method_in=row[9],
        method_out=row[10],
        late=row[11],
        auto_closed=row[12],
        minutes=row[13],
    )
    order = [*names[:4], "volunteer_number", "volunteer_name", *names[4:], "method_in", "method_out", "late"]
    payload = {
        "action": row[1],
        "replayed": True,
        "attendance": {k: attendance[k] for k in [*order, "auto_closed", "minutes"]},
    }
    return Answer("200 OK", json.dumps(payload, cls=DjangoJSONEncoder).encode())


def _number(value) -> bool:
    return value is None or type(value) in (int, float)


@route("POST", re.escape(CHECK_PATH))
def check_in(request: Request) -> Answer | None:
    """The 200 answer, or None to hand the request to Django."""
    try:
        data = json.loads(request.body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        return None
    key, lat, lng = data.get("key"), data.get("lat"), data.get("lng")
    if not (key is None or isinstance(key, str)) or not (_number(lat) and _number(lng)):
        return None
    try:
        key = services._clean_key(key or request.environ.get("HTTP_IDEMPOTENCY_KEY"))
        services.clean_position(lat, lng)  # NaN, ±Infinity, beyond the poles: Django's schema answers 422
    except (ValidationError, ServiceError):
        return None
    token = data["token"]
    head = token.split(":", 1)[0]
    if not head.isdigit() or len(head) >= 19:
        return None
    activity_id = int(head)
    now = timezone.now()
    bearer_hash = ApiToken.hash(request.bearer)
    seen = _SEEN.get(activity_id)
    if seen is not None:
        answer = _one_trip(activity_id, seen, token, key, lat, lng, bearer_hash, now)
        if answer is not False:
            return answer
    read, write = _sql()
    rows = run(read, [key, activity_id, bearer_hash], many=True)
    if not rows:
        return None  # no such token: Django answers 401
    user_id, token_id, last_used, key_taken = rows[0][:4]
    stale = last_used is None or now - last_used > LAST_USED_EVERY
    if key_taken:
        return _replayed(key, user_id, token_id, stale, now)  # a retry: phones on a bad network send many
    if rows[0][4] is None:
        return None  # not signed up (the error is Django's)
    rows = [r[4:] for r in rows]
    first = rows[0]
    activity = SimpleNamespace(
        pk=activity_id, kiosk_secret=first[5], geofence_m=first[6], latitude=first[7], longitude=first[8]
    )
    if len(_SEEN) >= _SEEN_MAX:
        _SEEN.clear()
    _SEEN[activity_id] = tuple(first[5:9])
    try:
        services.verify_token(activity, token, now=now)
        services.check_geofence(activity, lat, lng)
    except ServiceError:
        return None
    if any(r[9] for r in rows):
        return None  # already in: this scan checks out, which writes the ledger (the full path does it)
    slot = services._pick_post(
        [services._Slot(r[0], r[1], r[2], services._dt(r[3]), services._dt(r[4])) for r in rows], now
    )
    if slot is None or any(r[2] == slot.post_id and r[10] for r in rows):
        return None  # too early / ended (errors there), or a no-show row to turn into a presence
    late = now > slot.starts_at
    conn = db()
    stamp = conn.ops.adapt_datetimefield_value(now)
    params = [
        *(stamp, token_id, stale),
        slot.signup_id,
        *(activity_id, slot.post_id, slot.volunteer_id, stamp, Method.KIOSK, late, stamp),
        *(key, user_id, stamp),
    ]
    try:
        with transaction.atomic() if conn.in_atomic_block else nullcontext():  # a savepoint in tests
            row = run(write, params)
    except DatabaseError:
        return None  # the key or a presence came in at the same instant: answered as a concurrent request
    if row is None:
        return None  # the sign-up ended meanwhile
    return _checked_in(row[0], activity_id, slot.post_id, slot.volunteer_id, now, late)


def _checked_in(attendance_id: int, activity_id: int, post_id: int, volunteer_id: int, now, late: bool) -> Answer:
    """The 200 answer of a first check-in, as the API gives it."""
    payload = {
        "action": "in",
        "replayed": False,
        "attendance": {
            "id": attendance_id,
            "activity_id": activity_id,
            "post_id": post_id,
            "volunteer_id": volunteer_id,
            "volunteer_number": "",
            "volunteer_name": "",
            "status": AttendanceStatus.OPEN.value,
            "checked_in_at": now,
            "checked_out_at": None,
            "method_in": Method.KIOSK.value,
            "method_out": "",
            "late": late,
            "auto_closed": False,
            "minutes": None,
        },
    }
    return Answer("200 OK", json.dumps(payload, cls=DjangoJSONEncoder).encode())


def _one_trip(activity_id: int, seen: tuple, token: str, key: str, lat, lng, bearer_hash: str, now) -> Answer | None:
    """The common case in one statement (`_one_sql`); False when it cannot tell, so the two-statement path
    decides (and refreshes what was seen of the activity)."""
    secret, fence, latitude, longitude = seen
    activity = SimpleNamespace(
        pk=activity_id, kiosk_secret=secret, geofence_m=fence, latitude=latitude, longitude=longitude
    )
    try:
        services.verify_token(activity, token, now=now)
        services.check_geofence(activity, lat, lng)
    except ServiceError:
        return False  # perhaps the secret or the place changed: read them again
    conn = db()
    stamp = conn.ops.adapt_datetimefield_value(now)
    params = {
        "hash": bearer_hash,
        "key": key,
        "activity": activity_id,
        "early": services.CHECKIN_EARLY,
        "now": stamp,
        "stale": stamp - LAST_USED_EVERY,
        "secret": secret,
        "fence": fence,
        "lat": latitude,
        "lng": longitude,
        "method": Method.KIOSK.value,
    }
    try:
        with transaction.atomic() if conn.in_atomic_block else nullcontext():  # a savepoint in tests
            row = run(_one_sql(), params)
    except DatabaseError:
        return None  # the key or a presence came in at the same instant: answered as a concurrent request
    attendance_id, post_id, volunteer_id, late, user_id, token_id, last_used, key_taken = row
    if attendance_id is not None:
        return _checked_in(attendance_id, activity_id, post_id, volunteer_id, now, late)
    if user_id is None:
        return None  # no such token: Django answers 401
    if key_taken:
        stale = last_used is None or now - last_used > LAST_USED_EVERY
        return _replayed(key, user_id, token_id, stale, now)
    return False
