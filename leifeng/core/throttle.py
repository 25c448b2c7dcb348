"""Throttling of anonymous writes and failed logins: one middleware, rules in settings.THROTTLE_RULES.

A rule names the pages it guards (URL names, e.g. "orders:order_new") and API paths (regular expressions),
what it counts per (`ip`: the client's address as `core.net.client_ip` reads it behind the proxy; `phone`: the
mobile number the form or JSON body carries), a rate ("10/h", "5/15m", "100/d") and what counts as a hit:

- ``"requests"``: every matching request by a signed-out visitor (residents' orders, self-registration);
- ``"failures"``: failed logins only (Django's `user_login_failed` signal), so a school's shared address
  where fifty volunteers sign in on Lei Feng Day is not slowed, but password spraying across user names is.

Over the limit the request is refused before the view runs, with 429, `Retry-After`, and the one error
format under /api/ (a page elsewhere). Nothing is written by a refused request.

Counters are rows of `core.ThrottleBucket`, bumped with one INSERT … ON CONFLICT … RETURNING: exact across
every worker and server on the database they share (no cache server needed), on SQLite and PostgreSQL.
"""

import json
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from leifeng.core.errors import ErrorCode, error_body
from leifeng.core.models import ThrottleBucket
from leifeng.core.net import client_ip

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
PHONE_FIELDS = ("resident_phone", "phone")


@dataclass(frozen=True)
class Rule:
    name: str
    views: frozenset[str]  # URL names of pages, e.g. "orders:order_new"
    paths: tuple[re.Pattern, ...]  # for API operations: their public paths, e.g. r"^/api/v1/orders/?$"
    key: str  # "ip" or "phone"
    limit: int
    period: int  # seconds
    count: str = "requests"  # or "failures"
    methods: frozenset[str] = frozenset({"POST"})


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' → (10, 3600); '5/15m' → (5, 900)."""
    m = _RATE.match(rate)
    if not m:
        raise ValueError(f"throttle rate {rate!r}: expected like '10/h' or '5/15m'")
    return int(m.group(1)), int(m.group(2) or 1) * _UNITS[m.group(3)]


_parsed: tuple[object, list[Rule]] = (None, [])


def rules() -> list[Rule]:
    """settings.THROTTLE_RULES parsed, once per value of the setting (tests override it)."""
    global _parsed
    raw = getattr(settings, "THROTTLE_RULES", [])
    if _parsed[0] is not raw:
        _parsed = (raw, _parse(raw))
    return _parsed[1]


def _parse(raw) -> list[Rule]:
    out = []
    for r in raw:
        limit, period = parse_rate(r["rate"])
        out.append(
            Rule(
                name=r["name"],
                views=frozenset(r.get("views", ())),
                paths=tuple(re.compile(p) for p in r.get("paths", ())),
                key=r["key"],
                limit=limit,
                period=period,
                count=r.get("count", "requests"),
                methods=frozenset(r.get("methods", ["POST"])),
            )
        )
    return out


def _now() -> float:
    return time.time()


def hit(key: str, period: int, *, now: float | None = None) -> tuple[int, int]:
    """Count one hit on `key` in its current window of `period` seconds: (hits so far, seconds left)."""
    t = _now() if now is None else now
    window = int(t // period) * period
    table = connection.ops.quote_name(ThrottleBucket._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (key, window_start, hits) VALUES (%s, %s, 1) "
            f"ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN {table}.window_start = excluded.window_start THEN {table}.hits + 1 ELSE 1 END, "
            f"window_start = excluded.window_start RETURNING hits",
            [key[:200], window],
        )
        hits = cur.fetchone()[0]
    return hits, max(1, int(window + period - t))


def peek(key: str, period: int, *, now: float | None = None) -> tuple[int, int]:
    """Hits on `key` in the current window, without counting one."""
    t = _now() if now is None else now
    window = int(t // period) * period
    row = ThrottleBucket.objects.filter(key=key[:200], window_start=window).values_list("hits", flat=True).first()
    return row or 0, max(1, int(window + period - t))


def _phone(request) -> str | None:
    """The mobile number a form or JSON body carries (digits only), for per-phone rules."""
    values = {}
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
            values = body if isinstance(body, dict) else {}
        except (ValueError, UnicodeDecodeError):
            values = {}
    else:
        values = request.POST
    for f in PHONE_FIELDS:
        raw = values.get(f)
        if isinstance(raw, str):
            digits = "".join(ch for ch in raw if ch.isdigit())[-11:]
            if len(digits) == 11:
                return digits
    return None


def key_for(rule: Rule, request) -> str | None:
    if rule.key == "ip":
        return f"{rule.name}:ip:{client_ip(request) or 'unknown'}"
    if rule.key == "phone":
        phone = _phone(request)
        return f"{rule.name}:phone:{phone}" if phone else None
    raise ValueError(f"throttle rule {rule.name}: unknown key {rule.key!r}")


def _refuse(request, retry_after: int):
    message = _("Too many requests. Please wait %(minutes)s minutes and try again.") % {
        "minutes": max(1, (retry_after + 59) // 60)
    }
    if request.path.startswith("/api/") or request.path.startswith("/open311/"):
        response = JsonResponse(error_body(ErrorCode.THROTTLED, message), status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class ThrottleMiddleware:
    """Refuse a request over its rules' limits before the view runs (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Failed logins are counted after the view, outside any transaction it rolled back.
        if getattr(request, "_leifeng_login_failed", False):
            for key, period in getattr(request, "_leifeng_failure_keys", []):
                hit(key, period)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(settings, "THROTTLE_ENABLED", True):
            return None
        match = getattr(request, "resolver_match", None)
        name = match.view_name if match is not None else ""
        for rule in rules():
            if request.method not in rule.methods:
                continue
            if name not in rule.views and not any(p.match(request.path_info) for p in rule.paths):
                continue
            key = key_for(rule, request)
            if key is None:
                continue
            if rule.count == "failures":
                hits, left = peek(key, rule.period)
                if hits >= rule.limit:
                    return _refuse(request, left)
                request._leifeng_failure_keys = [*getattr(request, "_leifeng_failure_keys", []), (key, rule.period)]
            # Only now is the session read: a request no rule guards keeps its `Vary` (no Cookie added).
            elif not getattr(getattr(request, "user", None), "is_authenticated", False):
                hits, left = hit(key, rule.period)
                if hits > rule.limit:
                    return _refuse(request, left)
        return None


def note_failed_login(sender, credentials=None, request=None, **kwargs):
    """`user_login_failed` receiver: mark the request; the middleware counts it once the view has answered."""
    if request is not None:
        request._leifeng_login_failed = True
