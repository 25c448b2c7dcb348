"""The kiosk check-in without the framework around it, for Lei Feng Day's burst (bench/bench_checkin.py).

On March 5 a county's volunteers check in within the same quarter hour. Through the whole stack
(gunicorn → Django's handler and 13 middleware → django-ninja → the service) a check-in cost ~3 ms of
CPU in the worker; two cores then top out far below the 1,000 check-ins a second the county needs.

`FastPaths` sits in front of the Django WSGI application and answers ONE case itself: a bearer token
of an active account, a fresh idempotency key, a valid kiosk code, a confirmed sign-up whose post is
open for check-in now, nobody checked in yet. That case is two statements without a transaction block:
one read (token, key, sign-ups, presence) and one write (presence + key, atomic as a single statement).
Every other request — a retry, a check-out, an error of any kind, a browser session, a stale
`last_used_at`, a conflict at the same instant — is handed unchanged to the Django application, which
gives the answer and the error it always gave. The fast path writes nothing before it decides, so handing
over is always safe; tests compare both paths byte for byte (leifeng/attendance/tests/test_fast.py).

Rules it keeps: the token is checked like `accounts.api_auth.token_user`; the kiosk code like
`services.verify_token`; the geofence like `services.check_geofence`; the post like `services._pick_post`;
the presence is inserted only while the sign-up is still confirmed (FOR SHARE: a roll call or a
withdrawal holding the row waits for it, and it waits for them); the one-open-presence constraint and
the unique key refuse a second record, and the Django path then answers as for any concurrent request.
Host validation, HTTPS redirection and the security headers are those of Django's middleware.
"""

import io
import json
from contextlib import nullcontext
from functools import cache
from types import SimpleNamespace

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.http import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import timezone, translation
from django.utils.csp import CSP, build_policy

from leifeng.accounts.api_auth import LAST_USED_EVERY
from leifeng.accounts.models import ApiToken
from leifeng.activities.models import Signup
from leifeng.attendance import services
from leifeng.attendance.models import Attendance, CheckRequest, Method
from leifeng.core.errors import ServiceError

CHECK_PATH = "/api/v1/attendance/check"
MAX_BODY = 4096  # a check-in is ~120 bytes; anything larger goes to the full path (which has its own limits)


@cache
def _sql() -> tuple[str, str]:
    """The read and the write, built once from the models' tables."""
    from django.contrib.auth import get_user_model

    user_table = get_user_model()._meta.db_table
    read = (
        "SELECT u.id, t.last_used_at, EXISTS (SELECT 1 FROM "
        f"{CheckRequest._meta.db_table} k WHERE k.key = %s), sl.* "
        f"FROM {ApiToken._meta.db_table} t JOIN {user_table} u ON u.id = t.user_id "
        f"LEFT JOIN LATERAL ({services._SLOTS_SQL.replace('v.user_id = %s', 'v.user_id = u.id')}) sl ON true "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
    write = (
        f"WITH s AS (SELECT id FROM {Signup._meta.db_table} WHERE id = %s AND status = 'confirmed' FOR SHARE), "
        f"a AS (INSERT INTO {Attendance._meta.db_table} (activity_id, post_id, volunteer_id, status, checked_in_at, "
        "method_in, method_out, late, auto_closed, created_at) "
        "SELECT %s, %s, %s, 'open', %s, %s, '', %s, false, %s FROM s RETURNING id) "
        f"INSERT INTO {CheckRequest._meta.db_table} (key, user_id, action, attendance_id, created_at) "
        "SELECT %s, %s, 'in', a.id, %s FROM a RETURNING attendance_id"
    )
    return read, write


@cache
def _headers_for(language: str, secure: bool) -> list[tuple[str, str]]:
    """What Django's middleware adds to an API answer (tests compare them with the full path's)."""
    headers = [("Content-Type", "application/json; charset=utf-8")]
    if settings.SECURE_CSP:
        headers.append((str(CSP.HEADER_ENFORCE), build_policy(settings.SECURE_CSP)))
    if settings.SECURE_CSP_REPORT_ONLY:
        headers.append((str(CSP.HEADER_REPORT_ONLY), build_policy(settings.SECURE_CSP_REPORT_ONLY)))
    headers.append(("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()))
    headers += [("Vary", "Accept-Language"), ("Content-Language", language)]
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers


def _is_secure(environ: dict) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, value = header
        forwarded = environ.get(name)
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


def _language(environ: dict) -> str:
    """The language LocaleMiddleware would pick (cookie, then Accept-Language), for Content-Language."""
    request = SimpleNamespace(
        COOKIES=parse_cookie(environ["HTTP_COOKIE"]) if "HTTP_COOKIE" in environ else {},
        META=environ,
    )
    return translation.get_language_from_request(request)


def _number(value) -> bool:
    return value is None or type(value) in (int, float)


def _close_old_connections() -> None:
    """What Django does when a request starts and ends (CONN_MAX_AGE, broken connections); never inside a
    test's transaction, as Django's test client also refrains."""
    if not connection.in_atomic_block:
        close_old_connections()


def _run(sql: str, params: list, *, many: bool = False):
    """Execute as a prepared statement on PostgreSQL: planning the two statements cost PostgreSQL ten times
    their execution (2 ms vs 0.2 ms), and the connection lives on (CONN_MAX_AGE), so the plan is reused.
    Django's own cursors bind on the client and never prepare."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchall() if many else cur.fetchone()


class FastPaths:
    """WSGI middleware: the kiosk check-in's common case here, everything else to `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == CHECK_PATH and environ.get("REQUEST_METHOD") == "POST":
            return self.check_in(environ, start_response)
        return self.app(environ, start_response)

    def check_in(self, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if (
            not 0 < length <= MAX_BODY
            or connection.vendor != "postgresql"  # the laptop's SQLite has no burst to serve
            or not getattr(settings, "LEIFENG_FAST_CHECKIN", True)
        ):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # the full path reads it again if it gets the request
        _close_old_connections()
        answer = self._answer(environ, body)
        if answer is None:
            return self.app(environ, start_response)
        _close_old_connections()
        payload, headers = answer
        start_response("200 OK", [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _answer(self, environ: dict, body: bytes) -> tuple[bytes, list] | None:
        """The 200 answer, or None to hand the request to Django."""
        secure = _is_secure(environ)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return None
        domain, _port = split_domain_port(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            return None
        scheme, _, raw = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not raw:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            return None
        key, lat, lng = data.get("key"), data.get("lat"), data.get("lng")
        if not (key is None or isinstance(key, str)) or not (_number(lat) and _number(lng)):
            return None
        try:
            key = services._clean_key(key or environ.get("HTTP_IDEMPOTENCY_KEY"))
        except ValidationError:
            return None
        token = data["token"]
        head = token.split(":", 1)[0]
        if not head.isdigit() or len(head) >= 19:
            return None
        activity_id = int(head)
        now = timezone.now()
        read, write = _sql()
        rows = _run(read, [key, activity_id, ApiToken.hash(raw)], many=True)
        if not rows:
            return None  # no such token: Django answers 401
        user_id, last_used, key_taken = rows[0][:3]
        if key_taken or last_used is None or now - last_used > LAST_USED_EVERY or rows[0][3] is None:
            return None  # a retry (replayed there), a stamp to refresh, or not signed up (the error is there)
        rows = [r[3:] for r in rows]
        first = rows[0]
        activity = SimpleNamespace(
            pk=activity_id, kiosk_secret=first[5], geofence_m=first[6], latitude=first[7], longitude=first[8]
        )
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
        stamp = connection.ops.adapt_datetimefield_value(now)
        params = [
            slot.signup_id,
            *(activity_id, slot.post_id, slot.volunteer_id, stamp, Method.KIOSK, late, stamp),
            *(key, user_id, stamp),
        ]
        try:
            with transaction.atomic() if connection.in_atomic_block else nullcontext():  # a savepoint in tests
                row = _run(write, params)
        except DatabaseError:
            return None  # the key or a presence came in at the same instant: answered as a concurrent request
        if row is None:
            return None  # the sign-up ended meanwhile
        payload = {
            "action": "in",
            "replayed": False,
            "attendance": {
                "id": row[0],
                "activity_id": activity_id,
                "post_id": slot.post_id,
                "volunteer_id": slot.volunteer_id,
                "volunteer_number": "",
                "volunteer_name": "",
                "status": "open",
                "checked_in_at": now,
                "checked_out_at": None,
                "method_in": Method.KIOSK.value,
                "method_out": "",
                "late": late,
                "auto_closed": False,
                "minutes": None,
            },
        }
        return json.dumps(payload, cls=DjangoJSONEncoder).encode(), _headers_for(_language(environ), secure)
