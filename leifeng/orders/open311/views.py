"""Open311 GeoReport v2 endpoints (see the package's docstring): JSON or XML, the specification's error list."""

from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from leifeng.core import rules
from leifeng.core.errors import ServiceError, field_errors
from leifeng.core.roles import Perm
from leifeng.orders import services
from leifeng.orders.models import Order, OrderChannel
from leifeng.orders.open311.selectors import (
    ATTRIBUTES,
    CHANGESET,
    DEFAULT_DAYS,
    MAX_IDS,
    MAX_REQUESTS,
    OTHER,
    PARAM_OF,
    SPEC,
    STATUS_MAP,
    Open311Error,
    _api_client,
    _count_volunteers,
    _jurisdiction,
    _menu,
    _menu_item,
    _order_id,
    _parse_dt,
    definition_of,
    in_client_reach,
    other_service,
    request_of,
    requests_visible,
    service_of,
)
from leifeng.orgs.models import OrgLevel
from leifeng.orgs.policy import org_policy
from leifeng.people.models import AvailableTime

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


# ------------------------------------------------------------------ views


@endpoint()
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    data = {
        "changeset": CHANGESET,
        "contact": _("Open311 integration: the practice center's office (see docs/open311.md)"),
        "key_service": _("Ask the platform administrator for an Open311 key (not an API token); send it as api_key."),
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
    client = _api_client(request, required=False)
    qs = requests_visible(client)
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
    data = [request_of(o, full=client is not None, base_url=base) for o in orders]
    return render(fmt, data, root="service_requests", item="request")


@endpoint()
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    client = _api_client(request, required=False)
    qs = requests_visible(client)
    pk = _order_id(request_id)
    order = qs.filter(pk=pk).first() if pk is not None else None
    if order is None:
        raise Open311Error(404, _("Unknown service_request_id: %(id)s") % {"id": request_id[:40]})
    _count_volunteers([order])
    base = request.build_absolute_uri("/").rstrip("/")
    return render(
        fmt, [request_of(order, full=client is not None, base_url=base)], root="service_requests", item="request"
    )


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests: form-encoded; the Open311 client behind api_key enters the order on the resident's behalf,
    as its account, at its node or below."""
    client = _api_client(request, required=True)
    user = client.user
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
    if not in_client_reach(client, org) or not org_policy.allows(user, Perm.CHANGE, org):
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
        idempotency_key=f"open311:c{client.pk}:{key}" if key else "",
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
