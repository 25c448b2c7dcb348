"""点单: placing an order (residents on the public page, staff on somebody's behalf, Open311 clients)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, rules
from leifeng.core.idnumbers import InvalidId, normalize_phone
from leifeng.core.roles import Perm
from leifeng.orders.codes import AuditAction, EventAction
from leifeng.orders.models import (
    OPEN_STATUSES,
    MenuItem,
    Order,
    OrderChannel,
)
from leifeng.orders.policy import staff_of
from leifeng.orders.services.common import (
    RESIDENT,
    _event,
    _notify,
    _now,
    _order_link,
    clean_photo,
)
from leifeng.orgs.models import Org
from leifeng.orgs.policy import org_policy
from leifeng.teams.selectors import ancestor_paths

# ---------------------------------------------------------------- 点单: submission


@dataclass
class OrderInput:
    """What placing an order takes; the public page, the staff form and the API all build one."""

    org_id: int | None
    resident_name: str
    resident_phone: str
    address: str = ""
    latitude: str | float | Decimal | None = None
    longitude: str | float | Decimal | None = None
    description: str = ""
    menu_item_id: int | None = None
    channel: str = OrderChannel.WEB
    photo: object | None = None  # an UploadedFile
    idempotency_key: str = ""
    wanted_from: datetime | None = None  # 期望服务时间, either end optional
    wanted_until: datetime | None = None


def _coordinate(raw, low: int, high: int, name: str, errors: dict) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Enter a number.")]
        return None
    if not (low <= value <= high):
        errors[name] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
        return None
    return value


def _wanted_window(
    start: datetime | None, end: datetime | None, now: datetime, errors: dict
) -> tuple[datetime | None, datetime | None]:
    """期望服务时间: both ends optional (a time without a zone is local time); the end after the start; neither
    in the past (to the minute, so a resident who picks the current minute on a phone is not refused)."""
    start, end = (timezone.make_aware(v) if v is not None and timezone.is_naive(v) else v for v in (start, end))
    minute = now.replace(second=0, microsecond=0)
    if start is not None and start < minute:
        errors["wanted_from"] = [_("The wanted time has already passed.")]
    if end is not None and end <= now:
        errors["wanted_until"] = [_("The wanted time has already passed.")]
    elif start is not None and end is not None and end <= start:
        errors["wanted_until"] = [_("The end of the wanted time must be after its start.")]
    return start, end


def _find_duplicate(order: Order) -> Order | None:
    """An open order from the same phone for the same menu item (or the same free text)."""
    qs = Order.objects.filter(resident_phone=order.resident_phone, status__in=OPEN_STATUSES).exclude(pk=order.pk)
    if order.menu_item_id:
        qs = qs.filter(menu_item_id=order.menu_item_id)
    else:
        qs = qs.filter(menu_item__isnull=True, description=order.description)
    return qs.order_by("created_at", "id").first()


def order_submit(*, actor=None, data: OrderInput, now: datetime | None = None) -> tuple[Order, bool]:
    """Place an order. Returns (order, created): a retry with the same idempotency key returns the first order.

    `actor` None is a resident on the public page (channel 平台); staff and grid workers enter orders on
    somebody's behalf at a node where they hold Perm.CHANGE, with the channel they took it from.
    """
    key = (data.idempotency_key or "").strip()[:100]
    if key:
        existing = Order.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return _order_submit(actor=actor, data=data, key=key, now=_now(now)), True
    except IntegrityError:
        existing = Order.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing, False


def _order_submit(*, actor, data: OrderInput, key: str, now: datetime) -> Order:
    errors: dict[str, list[str]] = {}
    staff = actor is not None and getattr(actor, "is_authenticated", False)
    org = Org.objects.filter(pk=data.org_id).first() if data.org_id else None
    if org is None:
        errors["org"] = [_("Choose your station.")]
    elif staff and not org_policy.allows(actor, Perm.CHANGE, org):
        errors["org"] = [_("Choose an organization you manage.")]
    name = (data.resident_name or "").strip()
    if not name:
        errors["resident_name"] = [_("Tell us your name.")]
    elif len(name) > 50:
        errors["resident_name"] = [_("The name is longer than 50 characters.")]
    phone = ""
    try:
        phone = normalize_phone(data.resident_phone or "")
    except InvalidId as exc:
        errors["resident_phone"] = [str(exc)]
    address = (data.address or "").strip()
    if len(address) > 200:
        errors["address"] = [_("The address is longer than 200 characters.")]
    lat = _coordinate(data.latitude, -90, 90, "latitude", errors)
    lng = _coordinate(data.longitude, -180, 180, "longitude", errors)
    if (lat is None) != (lng is None) and "latitude" not in errors and "longitude" not in errors:
        errors["longitude" if lng is None else "latitude"] = [_("Give both latitude and longitude.")]
    if not address and (lat is None or lng is None) and "address" not in errors:
        errors.setdefault("address", [_("Give an address or a point on the map.")])
    description = (data.description or "").strip()
    if len(description) > 2000:
        errors["description"] = [_("The description is longer than 2000 characters.")]
    item = None
    if data.menu_item_id:
        item = MenuItem.objects.select_related("org").filter(pk=data.menu_item_id, active=True).first()
        if item is None or (org is not None and item.org.path not in ancestor_paths(org.path)):
            errors["menu_item"] = [_("Choose a service from the menu of your station or the nodes above it.")]
            item = None
    elif not description:
        errors["description"] = [_("Choose a service from the menu or describe what you need.")]
    wanted_from, wanted_until = _wanted_window(data.wanted_from, data.wanted_until, now, errors)
    channel = data.channel if staff else OrderChannel.WEB
    if channel not in OrderChannel.values:
        errors["channel"] = [_("Unknown channel.")]
    photo = None
    if data.photo:
        try:
            photo = clean_photo(data.photo)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    order = Order(
        org=org,
        origin_org=org,
        menu_item=item,
        category=item.category if item else "",
        description=description,
        resident_name=name,
        resident_phone=phone,
        address=address,
        latitude=lat,
        longitude=lng,
        wanted_from=wanted_from,
        wanted_until=wanted_until,
        channel=channel,
        entered_by=actor if staff else None,
        idempotency_key=key or None,
        submitted_at=now,
        accept_by=now + timedelta(hours=int(rules.rule(org, "order_accept_hours"))),
    )
    order.save()
    if photo is not None:
        order.photo.save(photo.name, photo, save=False)
    order.duplicate_of = _find_duplicate(order)
    order.save(update_fields=["photo", "duplicate_of"])
    note = ""
    if order.duplicate_of:
        note = _("Possible duplicate of %(number)s.") % {"number": order.duplicate_of.number}
    _event(
        order,
        actor=actor,
        action=EventAction.SUBMITTED,
        from_status="",
        now=now,
        note=note,
        actor_kind=None if staff else RESIDENT,
    )
    audit.record(actor=actor, action=AuditAction.ORDER_SUBMIT, obj=order, note=note)
    _notify(
        staff_of(org),
        kind="order.submitted",
        title=_("New order %(number)s: %(title)s") % {"number": order.number, "title": order.title},
        body=_("%(name)s asks for: %(title)s") % {"name": name, "title": order.title},
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-submitted",
    )
    return order
