"""Burst paths in front of Django, for the two requests a whole county sends within minutes on Lei Feng Day.

Through the whole stack (gunicorn → Django's handler and 13 middleware → django-ninja → the service) a
kiosk check-in cost ~3 ms of CPU in the worker and a sign-up ~5 ms, and PostgreSQL spent ten times more
planning their statements than running them; two cores then top out far below what a county needs
(bench/bench_checkin.py, docs/BENCHMARKS.md).

`FastPaths` wraps the Django WSGI application (leifeng/config/wsgi.py). For a registered route it calls
the app's handler, which answers ONLY the common case itself — a bearer token of an active account and a
request every rule accepts — in a few prepared statements; for everything else (an error of any kind, a
retry, a browser session, a rare rule, a conflict at the same instant) the handler returns None and the
request goes to Django unchanged, which gives the answer and the error it always gave. A handler writes
nothing before it decides (or rolls back), so handing over is always safe; tests send real WSGI requests
and compare both paths (attendance/tests/test_fast.py, activities/tests/test_fast_signup.py).

Host validation, HTTPS redirection, the security headers and the language are those of Django's
middleware. Only PostgreSQL is served (the laptop's SQLite has no burst); `LEIFENG_FAST_PATHS = False`
turns it all off.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from types import SimpleNamespace

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.csp import CSP, build_policy

MAX_BODY = 4096  # the burst requests are ~120 bytes; anything larger goes to Django (which has its own limits)


@dataclass
class Request:
    """What a handler gets: the WSGI environ, the body, the bearer token and the path's captured groups."""

    environ: dict
    body: bytes
    bearer: str
    args: tuple


@dataclass
class Answer:
    status: str  # "200 OK", "201 Created"
    body: bytes


Handler = Callable[[Request], Answer | None]
_ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def route(method: str, pattern: str):
    """Register a handler for `method` and a full-match path `pattern` (its groups become `Request.args`)."""

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, re.compile(pattern), handler))
        return handler

    return register


@cache
def headers_for(language: str, secure: bool) -> tuple[tuple[str, str], ...]:
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
    return tuple(headers)


def is_secure(environ: dict) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, value = header
        forwarded = environ.get(name)
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


def language(environ: dict) -> str:
    """The language LocaleMiddleware would pick (cookie, then Accept-Language), for Content-Language."""
    cookie = None
    if "HTTP_COOKIE" in environ:
        cookie = parse_cookie(environ["HTTP_COOKIE"]).get(settings.LANGUAGE_COOKIE_NAME)
    return _language(cookie, environ.get("HTTP_ACCEPT_LANGUAGE"), settings.LANGUAGE_CODE)


@lru_cache(maxsize=256)
def _language(cookie: str | None, accept: str | None, _default: str) -> str:
    """Django's own choice, remembered per (cookie, header): a burst sends the same few headers thousands of
    times. (LANGUAGE_CODE, Django's fallback, is part of the key for tests that change it.)"""
    meta = {} if accept is None else {"HTTP_ACCEPT_LANGUAGE": accept}
    cookies = {} if cookie is None else {settings.LANGUAGE_COOKIE_NAME: cookie}
    return translation.get_language_from_request(SimpleNamespace(COOKIES=cookies, META=meta))


def db():
    """The default database's wrapper (django.db.connection is a proxy that looks it up on every attribute)."""
    return connections[DEFAULT_DB_ALIAS]


def close_old() -> None:
    """What Django does when a request starts and ends (CONN_MAX_AGE, broken connections); never inside a
    test's transaction, as Django's test client also refrains."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def run(sql: str, params: list, *, many: bool = False, rowcount: bool = False):
    """Execute as a prepared statement: planning cost PostgreSQL ten times the execution of these
    statements (2 ms vs 0.2 ms) and the connection lives on (CONN_MAX_AGE), so the plan is reused.
    Django's own cursors bind on the client and never prepare (settings: prepare_threshold).
    One psycopg cursor per connection serves every burst statement (it holds no state between them)."""
    conn = db()
    conn.ensure_connection()
    cur = getattr(conn, "_burst_cursor", None)
    if cur is None or cur.connection is not conn.connection or cur.closed:
        cur = conn._burst_cursor = psycopg.Cursor(conn.connection)
    with conn.wrap_database_errors:
        cur.execute(sql, params, prepare=True)
        if rowcount:  # (reading cur.description would build a Column object per column: measurable here)
            return cur.rowcount
        return cur.fetchall() if many else cur.fetchone()


class FastPaths:
    """WSGI middleware: registered routes' common case here, everything else to `app`."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        for want, pattern, handler in _ROUTES:
            if method == want and (match := pattern.fullmatch(path)):
                return self._serve(handler, match.groups(), environ, start_response)
        return self.app(environ, start_response)

    def _serve(self, handler: Handler, args: tuple, environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        scheme, _, bearer = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if (
            not 0 <= length <= MAX_BODY
            or scheme.lower() != "bearer"
            or not bearer
            or db().vendor != "postgresql"
            or not getattr(settings, "LEIFENG_FAST_PATHS", True)
        ):
            return self.app(environ, start_response)
        secure = is_secure(environ)
        domain, _port = split_domain_port(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
        if (
            (settings.SECURE_SSL_REDIRECT and not secure)
            or not domain
            or not validate_host(domain, settings.ALLOWED_HOSTS)
        ):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # Django reads it again if it gets the request
        close_old()
        answer = handler(Request(environ, body, bearer, args))
        if answer is None:
            return self.app(environ, start_response)
        close_old()
        start_response(
            answer.status, [*headers_for(language(environ), secure), ("Content-Length", str(len(answer.body)))]
        )
        return [answer.body]
