"""Open311 lookups and shapes: what the endpoints read and how a menu item or an order looks to a client."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leifeng.accounts.models import ApiToken
from leifeng.core.roles import Perm
from leifeng.orders.models import Assignment, AssignmentStatus, MenuItem, Open311Client, Order, OrderStatus
from leifeng.orders.policy import order_policy
from leifeng.orgs.models import Org
from leifeng.people.models import AvailableTime
from leifeng.teams.models import TeamCategory

S = OrderStatus
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00+08:00"  # when this interface last changed
DEFAULT_DAYS = 90  # GET requests without dates: the last 90 days (as the specification suggests)
MAX_REQUESTS = 1000
MAX_IDS = 200
OTHER = "other"  # the service of free-text orders (no menu item): 其他需求

STATUS_MAP: dict[str, str] = {
    S.SUBMITTED: "open",
    S.ACCEPTED: "open",
    S.OPEN: "open",
    S.DISPATCHED: "open",
    S.TAKEN: "open",
    S.FOLLOW_UP: "open",
    S.COMPLETED: "closed",  # served, waiting for the resident's rating
    S.CLOSED: "closed",
    S.REJECTED: "closed",
    S.MERGED: "closed",
    S.CANCELLED: "closed",
}

# Field names of order_submit's errors → the Open311 parameter the client sent.
PARAM_OF = {
    "org": "jurisdiction_id",
    "menu_item": "service_code",
    "resident_name": "first_name",
    "resident_phone": "phone",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "description": "description",
    "photo": "media_url",
    "wanted_from": "attribute[preferred_time]",
    "wanted_until": "attribute[preferred_time_end]",
}

ATTRIBUTES = [
    {
        "code": "preferred_time",
        "datatype": "datetime",
        "description": gettext_noop("Preferred time of service"),
        "datatype_description": "ISO 8601, e.g. 2026-11-25T09:30:00+08:00",
    },
    {
        "code": "preferred_time_end",
        "datatype": "datetime",
        "description": gettext_noop("Preferred time of service: until"),
        "datatype_description": "ISO 8601, e.g. 2026-11-25T11:30:00+08:00",
    },
    {
        "code": "time_slot",
        "datatype": "singlevaluelist",
        "description": gettext_noop("Usually available"),
        "datatype_description": None,
        "values": [AvailableTime.WEEKDAY_DAYTIME, AvailableTime.WEEKDAY_EVENING, AvailableTime.WEEKEND],
    },
    {
        "code": "address_detail",
        "datatype": "string",
        "description": gettext_noop("Building, unit and door number"),
        "datatype_description": None,
    },
]


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# ------------------------------------------------------------------ lookups


def _api_client(request: HttpRequest, *, required: bool) -> Open311Client | None:
    """The Open311 client behind `api_key` (POST body or query), None when absent and not required; 403 when wrong.
    Only Open311 keys are accepted: a full API token (which would then sit in URLs and logs) is refused by name."""
    raw = (request.POST.get("api_key") if request.method == "POST" else None) or request.GET.get("api_key")
    if not raw:
        if required:
            raise Open311Error(403, _("api_key is required."))
        return None
    client = (
        Open311Client.objects.select_related("user", "org")
        .filter(key_hash=Open311Client.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if client is not None:
        return client
    if raw.startswith("lf_") or ApiToken.objects.filter(key_hash=ApiToken.hash(raw)).exists():
        raise Open311Error(
            403,
            _(
                "api_key: a platform API token is not accepted by Open311 (it would travel in URLs); "
                "ask the platform administrator for an Open311 key, and revoke this token if it was sent."
            ),
        )
    raise Open311Error(403, _("Invalid api_key."))


def in_client_reach(client: Open311Client, org: Org) -> bool:
    """An Open311 key works at its node and below."""
    return org.path.startswith(client.org.path)


def _jurisdiction(raw: str | None) -> Org | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    org = Org.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 10 else None
    if org is None:
        org = Org.objects.filter(division_code=raw).order_by("depth").first()
    if org is None:
        raise Open311Error(404, _("Unknown jurisdiction_id: %(id)s") % {"id": raw[:40]})
    return org


def _ancestor_paths(org: Org) -> list[str]:
    return [org.path[:i] for i in range(org.steplen, len(org.path) + 1, org.steplen)]


def _menu(org: Org | None):
    qs = MenuItem.objects.filter(active=True).select_related("org").order_by("org__path", "category", "title")
    if org is not None:
        qs = qs.filter(org__path__in=_ancestor_paths(org))
    return qs


def _menu_item(code: str, org: Org | None = None) -> MenuItem:
    code = (code or "").strip()
    item = _menu(org).filter(pk=int(code)).first() if code.isdigit() and len(code) < 10 else None
    if item is None:
        raise Open311Error(404, _("Unknown service_code: %(code)s") % {"code": code[:40]})
    return item


# ------------------------------------------------------------------ shapes


def service_of(item: MenuItem) -> dict:
    keywords = [TeamCategory(item.category).label, item.org.name]
    if item.service_area:
        keywords.append(item.service_area)
    return {
        "service_code": str(item.pk),
        "service_name": item.title,
        "description": item.description or None,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(str(k) for k in keywords),
        "group": str(TeamCategory(item.category).label),
    }


def other_service() -> dict:
    return {
        "service_code": OTHER,
        "service_name": str(_("Other needs")),
        "description": str(_("Anything not on the menu: describe what you need.")),
        "metadata": True,
        "type": "realtime",
        "keywords": None,
        "group": None,
    }


def definition_of(item: MenuItem | None) -> dict:
    labels = dict(AvailableTime.choices)
    attrs = []
    for n, a in enumerate(ATTRIBUTES, start=1):
        row = {
            "variable": True,
            "code": a["code"],
            "datatype": a["datatype"],
            "required": False,
            "datatype_description": a["datatype_description"],
            "order": n,
            "description": _(a["description"]),
        }
        if "values" in a:
            row["values"] = [{"key": v, "name": str(labels[v])} for v in a["values"]]
        attrs.append(row)
    return {"service_code": str(item.pk) if item else OTHER, "attributes": attrs}


def status_notes(order: Order) -> str:
    label = str(OrderStatus(order.status).label)
    if order.status == S.REJECTED and order.reason:
        return f"{label}: {order.reason}"
    if order.status == S.MERGED and order.merged_into_id:
        return _("%(status)s into %(number)s") % {"status": label, "number": f"D{order.merged_into_id:06d}"}
    if order.status in (S.DISPATCHED, S.TAKEN, S.COMPLETED):
        if order.team_id:
            return _("%(status)s: %(team)s") % {"status": label, "team": order.team.name}
        n = getattr(order, "volunteer_count", None)
        if n:
            return _("%(status)s: %(count)d volunteers") % {"status": label, "count": n}
    return label


def request_of(order: Order, *, full: bool, base_url: str = "") -> dict:
    """One request as GET shows it; `full` adds the description, address, point and photo (never a name/phone)."""
    item = order.menu_item
    row = {
        "service_request_id": order.number,
        "status": STATUS_MAP[order.status],
        "status_notes": status_notes(order),
        "service_name": item.title if item else None,
        "service_code": str(item.pk) if item else OTHER,
        "agency_responsible": order.team.name if order.team_id else order.org.name,
        "service_notice": None,
        "requested_datetime": _iso(order.created_at),
        "updated_datetime": _iso(order.updated_at),
        "expected_datetime": _iso(order.promised_by),
    }
    if full:
        row.update(
            {
                "description": (order.description or "")[:4000] or None,
                "address": order.address or None,
                "address_id": None,
                "zipcode": None,
                "lat": float(order.latitude) if order.latitude is not None else None,
                "long": float(order.longitude) if order.longitude is not None else None,
                "media_url": base_url + order.photo.url if order.photo else None,
            }
        )
    return row


def _parse_dt(name: str, raw: str) -> datetime:
    value = parse_datetime(raw.strip().replace(" ", "+")) if raw else None  # '+' arrives as ' ' when unescaped
    if value is None:
        raise Open311Error(400, _("%(name)s is not a W3C date-time: %(value)s") % {"name": name, "value": raw[:40]})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _order_id(raw: str) -> int | None:
    raw = (raw or "").strip().upper()
    digits = raw[1:] if raw.startswith("D") else raw
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


def _count_volunteers(orders: list[Order]) -> None:
    """How many named volunteers each order was dispatched to (one query), for the status notes."""
    ids = [o.pk for o in orders if not o.team_id and o.status in (S.DISPATCHED, S.TAKEN, S.COMPLETED)]
    counts = {}
    if ids:
        counts = dict(
            Assignment.objects.filter(
                order_id__in=ids,
                volunteer__isnull=False,
                status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED, AssignmentStatus.DONE],
            )
            .values_list("order_id")
            .annotate(Count("id"))
        )
    for o in orders:
        o.volunteer_count = counts.get(o.pk, 0)


def requests_visible(client: Open311Client | None) -> QuerySet[Order]:
    """The orders GET requests may list: all of them (shown without personal details) without an api_key; with
    one, those whose owning node lies in the key's reach (its node and below) and in its account's scope."""
    qs = Order.objects.select_related("org", "team", "menu_item")
    if client is None:
        return qs
    return order_policy.owned(client.user, Perm.VIEW, qs).filter(org__path__startswith=client.org.path)
