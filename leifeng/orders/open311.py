"""Open311 GeoReport v2 for orders, under /open311/v2/ (docs/open311.md).

Plain Django views, because the specification fixes the paths, the formats and the error shape:

  GET  discovery.{json,xml}
  GET  services.{json,xml}[?jurisdiction_id=]          menu items as services
  GET  services/{service_code}.{json,xml}              their attributes
  POST requests.{json,xml}                             form-encoded, api_key required → an Order
  GET  requests.{json,xml}[?service_request_id=&service_code=&start_date=&end_date=&status=]
  GET  requests/{service_request_id}.{json,xml}

Decisions:

* `service_code` is the menu item's id; `service_request_id` the order number (D000123).
* `jurisdiction_id` is a node's id or its administrative division code. POST needs it unless the
  menu item belongs to a station (then that station is the jurisdiction).
* `api_key` is one of the platform's API tokens (accounts.ApiToken, created on the account page). POST
  enters the order on the resident's behalf as the token's account, which needs Perm.CHANGE at the
  station (channel 平台, `entered_by` that account, audited like any order).
* GET requests without an api_key shows only what is not personal: ids, service, status and notes,
  the responsible team or node, the times. With an api_key it also shows the description, address,
  point and photo of the orders inside the account's scope. The resident's name, phone and e-mail are
  never shown (the schemas forbid any field beyond the specification's).
* Our statuses map onto open / closed (`STATUS_MAP`); `status_notes` says where the order stands.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt

from leifeng.accounts.models import ApiToken
from leifeng.core import rules, scope
from leifeng.core.errors import ServiceError, field_errors
from leifeng.core.scope import Perm
from leifeng.orders import services
from leifeng.orders.models import Assignment, AssignmentStatus, MenuItem, Order, OrderChannel, OrderStatus
from leifeng.orgs.models import Org, OrgLevel
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


# ------------------------------------------------------------------ rendering


def _xml_value(parent: ET.Element, name: str, value) -> None:
    el = ET.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif isinstance(value, list):
        child = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}[name]
        for item in value:
            _xml_value(el, child, item)
    else:
        el.text = str(value)


def to_xml(root: str, item: str | None, data) -> bytes:
    """The specification's XML: <root><item>…</item>…</root> for lists, <root>…</root> for one object."""
    top = ET.Element(root)
    if item is None:
        for k, v in data.items():
            _xml_value(top, k, v)
    else:
        for row in data:
            el = ET.SubElement(top, item)
            for k, v in row.items():
                _xml_value(el, k, v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def render(fmt: str, data, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root, item, data), status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(data, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render(fmt, [{"code": status, "description": description}], root="errors", item="error", status=status)


def endpoint(*, methods: tuple[str, ...] = ("GET",)):
    """Method check and Open311Error → the specification's error list, in the requested format."""

    def decorate(view):
        def wrapper(request: HttpRequest, fmt: str, **kw):
            if request.method not in methods:
                resp = error(fmt, 405, _("Method not allowed."))
                resp["Allow"] = ", ".join(methods)
                return resp
            try:
                return view(request, fmt, **kw)
            except Open311Error as exc:
                return error(fmt, exc.status, exc.description)

        wrapper.__name__ = view.__name__
        wrapper.__doc__ = view.__doc__
        return csrf_exempt(wrapper)

    return decorate


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# ------------------------------------------------------------------ lookups


def _api_user(request: HttpRequest, *, required: bool):
    """The account behind `api_key` (POST body or query), None when absent and not required; 403 when wrong."""
    raw = (request.POST.get("api_key") if request.method == "POST" else None) or request.GET.get("api_key")
    if not raw:
        if required:
            raise Open311Error(403, _("api_key is required."))
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        raise Open311Error(403, _("Invalid api_key."))
    return row.user


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


# ------------------------------------------------------------------ views


@endpoint()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    data = {
        "changeset": CHANGESET,
        "contact": _("Open311 integration: the practice center's office (see docs/open311.md)"),
        "key_service": _("Create an API token on your account page; send it as api_key."),
        "endpoints": [
            {
                "specification": SPEC,
                "url": url.rsplit("/", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return render(fmt, data, root="discovery", item=None)


@endpoint()
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    org = _jurisdiction(request.GET.get("jurisdiction_id"))
    rows = [service_of(i) for i in _menu(org)] + [other_service()]
    return render(fmt, rows, root="services", item="service")


@endpoint()
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    org = _jurisdiction(request.GET.get("jurisdiction_id"))
    item = None if code == OTHER else _menu_item(code, org)
    return render(fmt, definition_of(item), root="service_definition", item=None)


@endpoint(methods=("GET", "POST"))
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    user = _api_user(request, required=False)
    qs = Order.objects.select_related("org", "team", "menu_item")
    if user is not None:
        qs = scope.scoped(qs, user, Perm.VIEW)
    org = _jurisdiction(request.GET.get("jurisdiction_id"))
    if org is not None:
        qs = qs.filter(org__path__startswith=org.path)
    ids_raw = (request.GET.get("service_request_id") or "").strip()
    if ids_raw:
        # the specification: with service_request_id, the other filters are ignored
        ids = [_order_id(x) for x in ids_raw.split(",")[:MAX_IDS]]
        qs = qs.filter(pk__in=[i for i in ids if i is not None])
    else:
        code = (request.GET.get("service_code") or "").strip()
        if code == OTHER:
            qs = qs.filter(menu_item__isnull=True)
        elif code:
            qs = qs.filter(menu_item_id=int(code)) if code.isdigit() and len(code) < 10 else qs.none()
        start_raw, end_raw = request.GET.get("start_date"), request.GET.get("end_date")
        end = _parse_dt("end_date", end_raw) if end_raw else None
        start = _parse_dt("start_date", start_raw) if start_raw else None
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_DAYS)
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        status_raw = (request.GET.get("status") or "").strip()
        if status_raw:
            wanted = {s.strip().lower() for s in status_raw.split(",")}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, _("status must be open or closed."))
            qs = qs.filter(status__in=[k for k, v in STATUS_MAP.items() if v in wanted])
    orders = list(qs.order_by("-created_at", "-id")[:MAX_REQUESTS])
    _count_volunteers(orders)
    base = request.build_absolute_uri("/").rstrip("/")
    data = [request_of(o, full=user is not None, base_url=base) for o in orders]
    return render(fmt, data, root="service_requests", item="request")


@endpoint()
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    user = _api_user(request, required=False)
    qs = Order.objects.select_related("org", "team", "menu_item")
    if user is not None:
        qs = scope.scoped(qs, user, Perm.VIEW)
    pk = _order_id(request_id)
    order = qs.filter(pk=pk).first() if pk is not None else None
    if order is None:
        raise Open311Error(404, _("Unknown service_request_id: %(id)s") % {"id": request_id[:40]})
    _count_volunteers([order])
    base = request.build_absolute_uri("/").rstrip("/")
    return render(
        fmt, [request_of(order, full=user is not None, base_url=base)], root="service_requests", item="request"
    )


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


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests: form-encoded; the account behind api_key enters the order on the resident's behalf."""
    user = _api_user(request, required=True)
    p = request.POST
    code = (p.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    org = _jurisdiction(p.get("jurisdiction_id"))
    item = None if code == OTHER else _menu_item(code, org)
    if org is None:
        if item is None or item.org.level != OrgLevel.STATION:
            raise Open311Error(400, _("jurisdiction_id is required: name the station the resident belongs to."))
        org = item.org
    if not scope.allows(user, Perm.CHANGE, org):
        raise Open311Error(403, _("This api_key may not submit requests for %(org)s.") % {"org": org.name})
    has_point = bool(p.get("lat")) and bool(p.get("long"))
    if not has_point and not (p.get("address_string") or "").strip():
        raise Open311Error(400, _("Give lat and long, or address_string."))
    name = " ".join(x for x in ((p.get("last_name") or "").strip(), (p.get("first_name") or "").strip()) if x)
    if not name:
        raise Open311Error(400, _("first_name or last_name is required."))
    if not (p.get("phone") or "").strip():
        raise Open311Error(400, _("phone is required: the station calls the resident back."))
    lines = [(p.get("description") or "").strip()]
    attrs = _attributes(request)
    labels = dict(AvailableTime.choices)
    if attrs.get("time_slot"):
        lines.append(_("Usually available: %(slot)s") % {"slot": labels.get(attrs["time_slot"], attrs["time_slot"])})
    media = (p.get("media_url") or "").strip()
    if media:
        lines.append(_("Photo: %(url)s") % {"url": media[:300]})
    if (p.get("email") or "").strip():
        lines.append(_("E-mail: %(email)s") % {"email": p["email"].strip()[:100]})
    address = (p.get("address_string") or "").strip()
    if attrs.get("address_detail"):
        address = f"{address} {attrs['address_detail']}".strip()
    key = (p.get("idempotency_key") or request.headers.get("Idempotency-Key") or "").strip()
    data = services.OrderInput(
        org_id=org.pk,
        resident_name=name,
        resident_phone=(p.get("phone") or "").strip(),
        address=address[:200],
        latitude=p.get("lat") or None,
        longitude=p.get("long") or None,
        description="\n".join(x for x in lines if x),
        menu_item_id=item.pk if item else None,
        wanted_from=attrs.get("preferred_time") or None,
        wanted_until=attrs.get("preferred_time_end") or None,
        channel=OrderChannel.WEB,
        idempotency_key=f"open311:{user.pk}:{key}" if key else "",
    )
    try:
        order, _created = services.order_submit(actor=user, data=data)
    except ValidationError as exc:
        fields = field_errors(exc)
        name_, messages = next(iter(fields.items()))
        raise Open311Error(400, f"{PARAM_OF.get(name_, name_)}: {messages[0]}") from None
    except ServiceError as exc:
        raise Open311Error(exc.status if exc.status in (400, 403, 404) else 400, exc.message) from None
    notice = _("Received. The station reviews it within %(hours)d hours.") % {"hours": _accept_hours(order)}
    track = _track_url(request, order)
    if track:
        notice += " " + _("Tracking link for the resident: %(url)s") % {"url": track}
    row = {"service_request_id": order.number, "service_notice": notice, "account_id": None}
    return render(fmt, [row], root="service_requests", item="request")


def _attributes(request: HttpRequest) -> dict:
    """attribute[code]=value pairs of the form; unknown codes are ignored; the two times parsed (the order's
    wanted window, 期望服务时间)."""
    known = {a["code"] for a in ATTRIBUTES}
    out = {}
    for k, v in request.POST.items():
        if k.startswith("attribute[") and k.endswith("]") and k[10:-1] in known:
            out[k[10:-1]] = v.strip()[:100]
    for code in ("preferred_time", "preferred_time_end"):
        if out.get(code):
            out[code] = _parse_dt(f"attribute[{code}]", out[code])
    slots = next(a["values"] for a in ATTRIBUTES if a["code"] == "time_slot")
    if out.get("time_slot") and out["time_slot"] not in slots:
        raise Open311Error(400, _("attribute[time_slot] must be one of the listed keys."))
    return out


def _accept_hours(order: Order) -> int:
    return int(rules.rule(order.org, "order_accept_hours"))


def _track_url(request: HttpRequest, order: Order) -> str:
    try:
        return request.build_absolute_uri(reverse("orders:track", kwargs={"token": order.token}))
    except NoReverseMatch:
        return ""
