"""Writes about orders (点单 → 审单 → 派单 → 接单 → 评单): keyword-only, atomic, validated, audited.

Rules:
  * every status move goes through ORDER_TRANSITIONS (`_move`) and writes an OrderEvent (who, when,
    from → to, note) that the order page and the resident's tracking page show;
  * a resident needs no account: the order's unguessable `token` is their key (track, rate, cancel);
  * submission is idempotent: the same idempotency key returns the first order;
  * the same phone with the same menu item (or the same free text) still open is flagged as a possible duplicate;
  * review, dispatch, push-down, pass-up and merge need Perm.CHANGE at the node owning the order;
  * a team answers through its leader or deputy, a named volunteer for themselves; anyone may decline
    (DESIGN §4 rule 5): when nobody is left on the order it returns to dispatch;
  * grabbing (抢单) locks the order row (SELECT … FOR UPDATE): the first leader wins, the others get a conflict;
  * deadlines: each stage before service has `accept_by` (rule `order_accept_hours`); the service itself has
    `promised_by`; `orders_escalate_overdue` reminds, escalates one level up per missed deadline and
    closes unrated orders after `order_autoclose_days`.
"""

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core import audit, rules, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.idnumbers import InvalidId, normalize_phone
from leifeng.core.scope import Perm
from leifeng.orders.models import (
    ASSIGNMENT_TRANSITIONS,
    OPEN_STATUSES,
    ORDER_TRANSITIONS,
    Assignment,
    AssignmentStatus,
    DispatchMode,
    MenuItem,
    Order,
    OrderChannel,
    OrderEvent,
    OrderPhoto,
    OrderServer,
    OrderStatus,
)
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamMembership
from leifeng.teams.selectors import ancestor_paths, volunteer_of

S = OrderStatus
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDE = 1600
MAX_COMPLETION_PHOTOS = 6
DEFAULT_PROMISE_HOURS = 72  # promised time when the dispatcher sets none
MENU_FIELDS = [
    "title",
    "category",
    "description",
    "service_area",
    "time_windows",
    "expected_minutes",
    "points",
    "active",
]
RESIDENT = "resident"
SYSTEM = "system"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# ---------------------------------------------------------------- adapters to other apps


def _notify(recipients, *, kind: str, title: str, body: str, link: str = "", dedupe_key: str | None = None) -> None:
    """Notifications through leifeng.notifications, after the transaction commits (never blocks a write)."""
    users = [u for u in recipients if u is not None]
    if not users:
        return
    try:
        from leifeng.notifications.services import notify
    except ImportError:  # pragma: no cover - the notifications app is optional for orders
        return

    def send():
        notify(recipients=users, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key)

    transaction.on_commit(send)


def _record_hours(*, actor, order: Order, volunteer: Volunteer, minutes: int, day) -> None:
    """Completed orders write verified hours to the ledger (谁组织谁记录: the order's node owns them)."""
    content = _("Order %(number)s: %(title)s") % {"number": order.number, "title": order.title}
    try:
        from leifeng.hours.services import service_record_add
    except ImportError:
        service_record_add = None
    if service_record_add is not None:
        service_record_add(
            actor=actor,
            volunteer=volunteer,
            org=order.org,
            kind="verified",
            source="order",
            source_id=str(order.pk),
            minutes=minutes,
            service_date=day,
            content=content[:200],
            category=order.category,
        )
        return
    from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord

    ServiceRecord.objects.create(
        volunteer=volunteer,
        org=order.org,
        kind=RecordKind.VERIFIED,
        source=RecordSource.ORDER,
        source_id=str(order.pk),
        team=order.team,
        category=order.category,
        content=content[:200],
        service_date=day,
        minutes=minutes,
        recorded_by=actor,
    )


def staff_of(org: Org) -> list:
    """Accounts that run a node's orders: its administrators and staff (held at the node itself)."""
    return [
        ra.user
        for ra in RoleAssignment.objects.filter(org=org, role__in=[Role.ORG_ADMIN, Role.ORG_STAFF]).select_related(
            "user"
        )
    ]


def _leader_users(team: Team | None) -> list:
    if team is None:
        return []
    ids = [v for v in (team.leader_id, team.deputy_id) if v]
    return [v.user for v in Volunteer.objects.filter(pk__in=ids, user__isnull=False).select_related("user")]


def _order_link(order: Order) -> str:
    return reverse("orders:order_detail", args=[order.pk])


# ---------------------------------------------------------------- shared helpers


def _event(
    order: Order,
    *,
    actor,
    action: str,
    from_status: str,
    now: datetime,
    note: str = "",
    actor_kind: str | None = None,
    public: bool = True,
) -> OrderEvent:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return OrderEvent.objects.create(
        order=order,
        at=now,
        actor=actor if is_user else None,
        actor_kind=actor_kind or ("user" if is_user else SYSTEM),
        action=action,
        from_status=from_status,
        to_status=order.status,
        org=order.org,
        note=(note or "")[:500],
        public=public,
    )


def _move(
    order: Order,
    to: str,
    *,
    actor,
    action: str,
    now: datetime,
    note: str = "",
    actor_kind: str | None = None,
    public: bool = True,
    fields: tuple[str, ...] = (),
) -> OrderEvent:
    """The one place a status changes: refuses moves outside ORDER_TRANSITIONS, saves, writes event and audit."""
    before = order.status
    if to not in ORDER_TRANSITIONS[before]:
        raise Conflict(
            _("An order that is “%(from)s” cannot become “%(to)s”.")
            % {"from": OrderStatus(before).label, "to": OrderStatus(to).label},
            code="invalid_transition",
        )
    order.status = to
    order.save(update_fields=["status", "updated_at", *fields])
    event = _event(
        order, actor=actor, action=action, from_status=before, now=now, note=note, actor_kind=actor_kind, public=public
    )
    audit.record(
        actor=actor,
        action=f"order.{action}",
        obj=order,
        changes={"status": [before, to]} if before != to else {},
        note=note,
    )
    return event


def _lock(order_id) -> Order:
    try:
        return Order.objects.select_for_update(of=("self",)).select_related("org", "team", "menu_item").get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _locked_for_change(actor, order_id) -> Order:
    """The order, locked, if the actor may run it (Perm.CHANGE at its node); 404 if not visible, 403 if only seen."""
    order = _lock(order_id)
    if not scope.allows(actor, Perm.CHANGE, order.org):
        if scope.allows(actor, Perm.VIEW, order.org) or scope.allows(actor, Perm.VIEW, order.origin_org):
            raise PermissionDenied(_("Only the staff of %(org)s may do this.") % {"org": order.org.name})
        raise NotFound()
    return order


def _required_reason(reason: str, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field_name: [_("Give a reason.")]})
    if len(reason) > 300:
        raise ValidationError({field_name: [_("The reason is longer than 300 characters.")]})
    return reason


def in_line(org_path: str, other_path: str) -> bool:
    """Is one node the other, an ancestor or a descendant of it (the same line of the tree)?"""
    return org_path.startswith(other_path) or other_path.startswith(org_path)


def team_may_serve(team: Team, order: Order) -> bool:
    """A team may serve an order when it is active and its node is the order's node, above it or below it."""
    return team.is_active and in_line(team.org.path, order.org.path)


def team_may_grab(team: Team, order: Order) -> bool:
    """Grab eligibility: may serve, and the category matches (an order without a category takes any team)."""
    return team_may_serve(team, order) and (not order.category or team.category == order.category)


def led_teams(actor) -> list[Team]:
    """Active teams the actor leads or deputizes (one query, cached on the actor)."""
    cached = getattr(actor, "_leifeng_led_teams", None)
    if cached is not None:
        return cached
    volunteer = volunteer_of(actor)
    teams = (
        list(Team.objects.filter(Q(leader=volunteer) | Q(deputy=volunteer), is_active=True).select_related("org"))
        if volunteer
        else []
    )
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor._leifeng_led_teams = teams
    return teams


# ---------------------------------------------------------------- photos


def clean_photo(upload, *, field_name: str = "photo") -> ContentFile:
    """Accept a picture only if Pillow can read it, ≤ 10 MB; shrink it to 1600 px and strip metadata (JPEG)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError({field_name: [_("The photo is larger than 10 MB.")]})
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as img:
            img = ImageOps.exif_transpose(img)
            img = img.convert("RGB")
            img.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {field_name: [_("This file is not a picture we can read (JPEG, PNG, WebP …).")]}
        ) from None
    return ContentFile(out.getvalue(), name="photo.jpg")


# ---------------------------------------------------------------- menus


@dataclass
class MenuItemInput:
    org_id: int
    title: str
    category: str = TeamCategory.OTHER
    description: str = ""
    team_ids: list[int] = field(default_factory=list)
    service_area: str = ""
    time_windows: str = ""
    expected_minutes: int = 60
    points: int = 0
    active: bool = True


def _validate_menu(item: MenuItem, team_ids: list[int]) -> list[Team]:
    errors: dict[str, list[str]] = {}
    item.title = (item.title or "").strip()
    if not item.title:
        errors["title"] = [_("Give the service a title.")]
    elif len(item.title) > 100:
        errors["title"] = [_("The title is longer than 100 characters.")]
    elif MenuItem.objects.filter(org=item.org, title=item.title).exclude(pk=item.pk).exists():
        errors["title"] = [_("This node's menu already has a service with this title.")]
    if item.category not in TeamCategory.values:
        errors["category"] = [_("Unknown category.")]
    if not (1 <= int(item.expected_minutes or 0) <= 24 * 60):
        errors["expected_minutes"] = [_("The expected duration must be between 1 and 1440 minutes.")]
    if int(item.points or 0) < 0:
        errors["points"] = [_("Points cannot be negative.")]
    teams = list(Team.objects.filter(pk__in=team_ids).select_related("org"))
    if len(teams) != len(set(team_ids)) or any(not in_line(t.org.path, item.org.path) for t in teams):
        errors["teams"] = [_("Choose teams of this node, above it or below it.")]
    if errors:
        raise ValidationError(errors)
    return teams


@transaction.atomic
def menu_item_create(*, actor, data: MenuItemInput) -> MenuItem:
    org = Org.objects.filter(pk=data.org_id).first()
    if org is None or not scope.allows(actor, Perm.CHANGE, org):
        raise ValidationError({"org": [_("Choose an organization you manage.")]})
    item = MenuItem(
        org=org,
        title=data.title,
        category=data.category,
        description=(data.description or "").strip(),
        service_area=(data.service_area or "").strip(),
        time_windows=(data.time_windows or "").strip(),
        expected_minutes=data.expected_minutes,
        points=data.points,
        active=data.active,
    )
    teams = _validate_menu(item, data.team_ids)
    item.save()
    item.teams.set(teams)
    audit.record(actor=actor, action="menu_item.create", obj=item)
    return item


@transaction.atomic
def menu_item_update(*, actor, item_id: int, team_ids: list[int] | None = None, **changes) -> MenuItem:
    item = MenuItem.objects.select_for_update().select_related("org").filter(pk=item_id).first()
    if item is None or not scope.allows(actor, Perm.VIEW, item.org):
        raise NotFound()
    if not scope.allows(actor, Perm.CHANGE, item.org):
        raise PermissionDenied()
    before = audit.snapshot(item, MENU_FIELDS)
    for name, value in changes.items():
        if name not in MENU_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    teams = _validate_menu(item, team_ids if team_ids is not None else list(item.teams.values_list("pk", flat=True)))
    item.save()
    if team_ids is not None:
        item.teams.set(teams)
    audit.record(actor=actor, action="menu_item.update", obj=item, changes=audit.diff(before, item))
    return item


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
    elif staff and not scope.allows(actor, Perm.CHANGE, org):
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
        action="submitted",
        from_status="",
        now=now,
        note=note,
        actor_kind=None if staff else RESIDENT,
    )
    audit.record(actor=actor, action="order.submit", obj=order, note=note)
    _notify(
        staff_of(org),
        kind="order.submitted",
        title=_("New order %(number)s: %(title)s") % {"number": order.number, "title": order.title},
        body=_("%(name)s asks for: %(title)s") % {"name": name, "title": order.title},
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-submitted",
    )
    return order


# ---------------------------------------------------------------- 审单: review


@transaction.atomic
def order_accept(*, actor, order_id: int, note: str = "", now: datetime | None = None) -> Order:
    """The station takes the order on: it now awaits dispatch, within the acceptance time limit."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.SUBMITTED:
        raise Conflict(_("Only an order awaiting review can be accepted."), code="invalid_transition")
    order.reviewed_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    _move(order, S.ACCEPTED, actor=actor, action="accepted", now=now, note=note, fields=("reviewed_at", "accept_by"))
    return order


@transaction.atomic
def order_reject(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """Refuse the order; the resident sees the reason on the tracking page."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _locked_for_change(actor, order_id)
    order.reason = reason
    order.reviewed_at = now
    order.closed_at = now
    order.accept_by = None
    _move(
        order,
        S.REJECTED,
        actor=actor,
        action="rejected",
        now=now,
        note=reason,
        fields=("reason", "reviewed_at", "closed_at", "accept_by"),
    )
    return order


@transaction.atomic
def order_merge(*, actor, order_id: int, into_id: int, now: datetime | None = None) -> Order:
    """Merge a duplicate into another open order; both keep an event pointing at each other."""
    now = _now(now)
    if str(order_id) == str(into_id):
        raise ValidationError({"into": [_("An order cannot be merged into itself.")]})
    order = _locked_for_change(actor, order_id)
    target = Order.objects.select_for_update().select_related("org").filter(pk=into_id).first()
    if target is None or not scope.allows(actor, Perm.VIEW, target.org):
        raise ValidationError({"into": [_("No such order.")]})
    if target.status not in OPEN_STATUSES:
        raise ValidationError({"into": [_("Merge only into an order that is still open.")]})
    order.merged_into = target
    order.closed_at = now
    order.accept_by = None
    note = _("Merged into %(number)s.") % {"number": target.number}
    _move(
        order,
        S.MERGED,
        actor=actor,
        action="merged",
        now=now,
        note=note,
        fields=("merged_into", "closed_at", "accept_by"),
    )
    _event(
        target,
        actor=actor,
        action="merged_in",
        from_status=target.status,
        now=now,
        note=_("%(number)s was merged into this order.") % {"number": order.number},
        public=False,
    )
    return order


@transaction.atomic
def order_pass_up(*, actor, order_id: int, note: str = "", now: datetime | None = None) -> Order:
    """Beyond this node's means: the order goes to the parent node, still awaiting review there."""
    now = _now(now)
    note = _required_reason(note, "note")
    order = _locked_for_change(actor, order_id)
    parent = Org.objects.get_parent(order.org)
    if parent is None:
        raise ServiceError(_("This node has no node above it."), code="no_parent")
    order.org = parent
    order.accept_by = now + timedelta(hours=int(rules.rule(parent, "order_accept_hours")))
    _move(order, S.SUBMITTED, actor=actor, action="passed_up", now=now, note=note, fields=("org", "accept_by"))
    _notify(
        staff_of(parent),
        kind="order.passed_up",
        title=_("Order %(number)s passed up to you") % {"number": order.number},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-up-{parent.pk}",
    )
    return order


@transaction.atomic
def order_cancel(
    *, actor=None, order_id: int | None = None, token: str = "", reason: str = "", now: datetime | None = None
) -> Order:
    """Withdraw an order: the resident through their link (`token`), or the staff of its node."""
    now = _now(now)
    if token:
        order = Order.objects.select_for_update().select_related("org").filter(token=token).first()
        if order is None:
            raise NotFound()
        kind = RESIDENT
        actor = None
    else:
        order = _locked_for_change(actor, order_id)
        reason = _required_reason(reason)
        kind = None
    if order.status not in (S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order can no longer be cancelled."), code="invalid_transition")
    if kind == RESIDENT and order.status == S.TAKEN:
        raise Conflict(_("A volunteer is already on the way; call the station to cancel."), code="invalid_transition")
    _withdraw_assignments(order, actor=actor, now=now, reason=reason)
    order.closed_at = now
    order.accept_by = None
    _move(
        order,
        S.CANCELLED,
        actor=actor,
        action="cancelled",
        now=now,
        note=reason,
        actor_kind=kind,
        fields=("closed_at", "accept_by"),
    )
    return order


# ---------------------------------------------------------------- 派单: dispatch


def _withdraw_assignments(order: Order, *, actor, now: datetime, reason: str = "") -> None:
    live = order.assignments.filter(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED])
    live.update(
        status=AssignmentStatus.WITHDRAWN,
        decided_at=now,
        decided_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        reason=reason[:300],
    )


def _promise(order: Order, promised_by: datetime | None, now: datetime) -> datetime:
    if promised_by is None:
        return now + timedelta(hours=DEFAULT_PROMISE_HOURS)
    if promised_by <= now:
        raise ValidationError({"promised_by": [_("The promised time must be in the future.")]})
    return promised_by


@transaction.atomic
def order_dispatch(
    *,
    actor,
    order_id: int,
    team_id: int | None = None,
    volunteer_ids: list[int] | None = None,
    promised_by: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Order:
    """Offer the order to one team (its leader answers) or to named volunteers (each answers for themselves)."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    volunteer_ids = [int(v) for v in (volunteer_ids or [])]
    if bool(team_id) == bool(volunteer_ids):
        raise ValidationError({"team": [_("Choose either one team or some volunteers.")]})
    if order.status != S.ACCEPTED:
        raise Conflict(_("Only an order awaiting dispatch can be dispatched."), code="invalid_transition")
    order.promised_by = _promise(order, promised_by, now)
    offers: list[Assignment] = []
    names: list[str] = []
    recipients: list = []
    if team_id:
        team = Team.objects.select_related("org").filter(pk=team_id).first()
        if team is None or not team_may_serve(team, order):
            raise ValidationError({"team": [_("Choose an active team of this node, above it or below it.")]})
        offers.append(Assignment(order=order, team=team, mode=DispatchMode.DIRECT, assigned_by=actor))
        names.append(team.name)
        recipients += _leader_users(team)
        order.team = team
    else:
        vols = list(
            Volunteer.objects.filter(pk__in=volunteer_ids, status=VolunteerStatus.APPROVED)
            .select_related("org", "user")
            .order_by("pk")
        )
        if len(vols) != len(set(volunteer_ids)) or any(not in_line(v.org.path, order.org.path) for v in vols):
            raise ValidationError(
                {"volunteers": [_("Choose registered volunteers of this node, above it or below it.")]}
            )
        for v in vols:
            offers.append(Assignment(order=order, volunteer=v, mode=DispatchMode.DIRECT, assigned_by=actor))
            names.append(v.name)
            recipients.append(v.user)
        order.team = None
    Assignment.objects.bulk_create(offers)
    order.dispatch_mode = order.dispatch_mode or DispatchMode.DIRECT
    if order.dispatch_mode == DispatchMode.GRAB:
        order.dispatch_mode = DispatchMode.DIRECT
    order.dispatched_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    order.reminded_at = None
    text = _("Dispatched to %(names)s.") % {"names": "、".join(names)}
    _move(
        order,
        S.DISPATCHED,
        actor=actor,
        action="dispatched",
        now=now,
        note=f"{text} {note}".strip(),
        fields=("team", "promised_by", "dispatch_mode", "dispatched_at", "accept_by", "reminded_at"),
    )
    _notify(
        recipients,
        kind="order.dispatched",
        title=_("New order for you: %(title)s") % {"title": order.title},
        body=_("Please accept or decline by %(time)s.")
        % {"time": f"{timezone.localtime(order.accept_by):%Y-%m-%d %H:%M}"},
        link=reverse("orders:my_orders"),
        dedupe_key=f"order-{order.pk}-dispatch-{now.timestamp()}",
    )
    return order


@transaction.atomic
def order_push_down(*, actor, order_id: int, org_id: int, note: str = "", now: datetime | None = None) -> Order:
    """层层派单: an upper node hands the order to a node below it, which then dispatches it."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.ACCEPTED:
        raise Conflict(_("Only an order awaiting dispatch can be handed down."), code="invalid_transition")
    target = Org.objects.filter(pk=org_id).first()
    if target is None or target.pk == order.org_id or not target.path.startswith(order.org.path):
        raise ValidationError({"org": [_("Choose a node below this one.")]})
    order.org = target
    order.dispatch_mode = DispatchMode.LEVEL_BY_LEVEL
    order.accept_by = now + timedelta(hours=int(rules.rule(target, "order_accept_hours")))
    _move(
        order,
        S.ACCEPTED,
        actor=actor,
        action="pushed_down",
        now=now,
        note=(_("Handed down to %(org)s.") % {"org": target.name} + " " + (note or "")).strip(),
        fields=("org", "dispatch_mode", "accept_by"),
    )
    _notify(
        staff_of(target),
        kind="order.pushed_down",
        title=_("Order %(number)s handed down to you") % {"number": order.number},
        body=order.title,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-down-{target.pk}",
    )
    return order


@transaction.atomic
def order_open_grab(
    *, actor, order_id: int, promised_by: datetime | None = None, note: str = "", now: datetime | None = None
) -> Order:
    """抢单: open the order to every eligible team; the first leader to grab it gets it."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.ACCEPTED:
        raise Conflict(_("Only an order awaiting dispatch can be opened for grabbing."), code="invalid_transition")
    order.promised_by = _promise(order, promised_by, now)
    order.dispatch_mode = DispatchMode.GRAB
    order.dispatched_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    order.reminded_at = None
    order.team = None
    _move(
        order,
        S.OPEN,
        actor=actor,
        action="opened",
        now=now,
        note=note,
        fields=("promised_by", "dispatch_mode", "dispatched_at", "accept_by", "reminded_at", "team"),
    )
    return order


def order_grab(*, actor, order_id: int, team_id: int, now: datetime | None = None) -> Order:
    """A team leader grabs an open order for their team. Race-safe: the order row is locked, first one wins."""
    now = _now(now)
    with transaction.atomic():
        order = _lock(order_id)
        team = next((t for t in led_teams(actor) if str(t.pk) == str(team_id)), None)
        if team is None:
            if order.status == S.OPEN and any(team_may_grab(t, order) for t in led_teams(actor)):
                raise ValidationError({"team": [_("Choose a team you lead.")]})
            raise NotFound()
        if not team_may_grab(team, order):
            raise NotFound()
        if order.status != S.OPEN:
            raise Conflict(_("Somebody else was quicker: this order is taken."), code="already_taken")
        Assignment.objects.create(
            order=order,
            team=team,
            mode=DispatchMode.GRAB,
            status=AssignmentStatus.ACCEPTED,
            decided_at=now,
            decided_by=actor,
        )
        order.team = team
        order.taken_at = now
        order.accept_by = None
        _move(
            order,
            S.TAKEN,
            actor=actor,
            action="grabbed",
            now=now,
            note=_("Grabbed by %(team)s.") % {"team": team.name},
            fields=("team", "taken_at", "accept_by"),
        )
    return order


@transaction.atomic
def order_recall(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """The station takes an order back from its assignees (or from grabbing) to dispatch it again."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _locked_for_change(actor, order_id)
    if order.status not in (S.OPEN, S.DISPATCHED, S.TAKEN):
        raise Conflict(_("Only a dispatched order can be recalled."), code="invalid_transition")
    _withdraw_assignments(order, actor=actor, now=now, reason=reason)
    _back_to_dispatch(order, actor=actor, action="recalled", now=now, note=reason)
    return order


def _back_to_dispatch(order: Order, *, actor, action: str, now: datetime, note: str) -> None:
    order.team = None
    order.taken_at = None
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    _move(order, S.ACCEPTED, actor=actor, action=action, now=now, note=note, fields=("team", "taken_at", "accept_by"))
    _notify(
        staff_of(order.org),
        kind=f"order.{action}",
        title=_("Order %(number)s needs dispatching again") % {"number": order.number},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-{action}-{now.timestamp()}",
    )


# ---------------------------------------------------------------- 接单: accept, decline, complete


def _answerable(order: Order, actor) -> list[Assignment]:
    """The actor's live assignments on the order: their teams' (as leader or deputy) and their own."""
    volunteer = volunteer_of(actor)
    team_ids = [t.pk for t in led_teams(actor)]
    if volunteer is None and not team_ids:
        return []
    return list(
        order.assignments.filter(
            Q(team_id__in=team_ids) | Q(volunteer=volunteer) if volunteer else Q(team_id__in=team_ids),
            status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED],
        ).select_related("team", "volunteer")
    )


def _set_assignment(a: Assignment, to: str, *, actor, now: datetime, reason: str = "") -> None:
    if to not in ASSIGNMENT_TRANSITIONS[a.status]:
        raise Conflict(_("This answer was already given."), code="invalid_transition")
    a.status = to
    a.decided_at = now
    a.decided_by = actor
    a.reason = reason[:300]
    a.save(update_fields=["status", "decided_at", "decided_by", "reason", "updated_at"])


@transaction.atomic
def order_take(*, actor, order_id: int, now: datetime | None = None) -> Order:
    """接单: the team's leader, or a named volunteer, accepts the offer."""
    now = _now(now)
    order = _lock(order_id)
    offers = [a for a in _answerable(order, actor) if a.status == AssignmentStatus.OFFERED]
    if not offers:
        raise NotFound()
    if order.status not in (S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order is no longer waiting for you."), code="invalid_transition")
    for a in offers:
        _set_assignment(a, AssignmentStatus.ACCEPTED, actor=actor, now=now)
    who = "、".join(str(a.team or a.volunteer.name) for a in offers)
    if order.status == S.DISPATCHED:
        order.taken_at = now
        order.accept_by = None
        _move(
            order,
            S.TAKEN,
            actor=actor,
            action="taken",
            now=now,
            note=_("Accepted by %(who)s.") % {"who": who},
            fields=("taken_at", "accept_by"),
        )
    else:
        _event(
            order,
            actor=actor,
            action="joined",
            from_status=order.status,
            now=now,
            note=_("Accepted by %(who)s.") % {"who": who},
        )
    return order


@transaction.atomic
def order_decline(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """Nobody is forced to serve: an offer may be declined and an accepted one given up, with a reason.
    When no assignee is left, the order returns to the station for dispatch."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _lock(order_id)
    mine = _answerable(order, actor)
    if not mine:
        raise NotFound()
    if order.status not in (S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order is no longer waiting for you."), code="invalid_transition")
    for a in mine:
        to = AssignmentStatus.DECLINED if a.status == AssignmentStatus.OFFERED else AssignmentStatus.WITHDRAWN
        _set_assignment(a, to, actor=actor, now=now, reason=reason)
    who = "、".join(str(a.team or a.volunteer.name) for a in mine)
    note = _("%(who)s declined: %(reason)s") % {"who": who, "reason": reason}
    left = order.assignments.filter(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED])
    if not left.exists():
        _back_to_dispatch(order, actor=actor, action="declined", now=now, note=note)
    else:
        if order.status == S.TAKEN and not left.filter(status=AssignmentStatus.ACCEPTED).exists():
            # the ones who accepted all gave up, others still hold an offer: wait for them again
            order.taken_at = None
            order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
            order.status = S.DISPATCHED
            order.save(update_fields=["status", "taken_at", "accept_by", "updated_at"])
            _event(order, actor=actor, action="declined", from_status=S.TAKEN, now=now, note=note)
        else:
            _event(order, actor=actor, action="declined", from_status=order.status, now=now, note=note)
        audit.record(actor=actor, action="order.declined", obj=order, note=note)
    return order


@dataclass
class CompletionInput:
    notes: str
    minutes: int  # minutes each serving volunteer served
    volunteer_ids: list[int] = field(default_factory=list)  # who served; default: the actor themself
    photos: list = field(default_factory=list)


@transaction.atomic
def order_complete(*, actor, order_id: int, data: CompletionInput, now: datetime | None = None) -> Order:
    """The service is done: notes, photos, minutes per serving volunteer, written to the hours ledger."""
    now = _now(now)
    order = _lock(order_id)
    mine = [a for a in _answerable(order, actor) if a.status == AssignmentStatus.ACCEPTED]
    if not mine:
        raise NotFound()
    if order.status != S.TAKEN:
        raise Conflict(_("Only an order in service can be completed."), code="invalid_transition")
    errors: dict[str, list[str]] = {}
    notes = (data.notes or "").strip()
    if not notes:
        errors["notes"] = [_("Say what was done.")]
    try:
        minutes = int(data.minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not (1 <= minutes <= int(rules.rule(order.org, "daily_hours_cap")) * 60):
        errors["minutes"] = [
            _("Minutes served must be between 1 and %(max)d.")
            % {"max": int(rules.rule(order.org, "daily_hours_cap")) * 60}
        ]
    if len(data.photos) > MAX_COMPLETION_PHOTOS:
        errors["photos"] = [_("At most %(n)d photos.") % {"n": MAX_COMPLETION_PHOTOS}]
    # who may be named as serving: members of the teams the actor answers for, the named volunteers who accepted
    team_ids = [a.team_id for a in mine if a.team_id]
    allowed = set(
        TeamMembership.objects.filter(team_id__in=team_ids, status=MembershipStatus.ACTIVE).values_list(
            "volunteer_id", flat=True
        )
    )
    allowed |= {t.leader_id for t in led_teams(actor) if t.pk in team_ids and t.leader_id}
    allowed |= set(
        order.assignments.filter(status=AssignmentStatus.ACCEPTED, volunteer__isnull=False).values_list(
            "volunteer_id", flat=True
        )
    )
    own = volunteer_of(actor)
    ids = [int(v) for v in data.volunteer_ids] or ([own.pk] if own else [])
    if not ids:
        errors["volunteers"] = [_("Name the volunteers who served.")]
    elif any(v not in allowed and not (own and v == own.pk) for v in ids):
        errors["volunteers"] = [_("Name only members of the team or the volunteers on this order.")]
    photos = []
    for upload in data.photos:
        try:
            photos.append(clean_photo(upload, field_name="photos"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    servers = list(Volunteer.objects.filter(pk__in=ids))
    for v in servers:
        OrderServer.objects.create(order=order, volunteer=v, minutes=minutes)
        _record_hours(actor=actor, order=order, volunteer=v, minutes=minutes, day=timezone.localdate(now))
    for p in photos:
        photo = OrderPhoto(order=order, uploaded_by=actor)
        photo.image.save(p.name, p, save=True)
    order.assignments.filter(status=AssignmentStatus.ACCEPTED).update(status=AssignmentStatus.DONE)
    order.completion_notes = notes
    order.minutes_served = minutes * len(servers)
    order.completed_at = now
    _move(
        order,
        S.COMPLETED,
        actor=actor,
        action="completed",
        now=now,
        note=notes,
        fields=("completion_notes", "minutes_served", "completed_at"),
    )
    return order


# ---------------------------------------------------------------- 评单: rating and follow-up


@transaction.atomic
def order_rate(*, token: str, rating: int, comment: str = "", now: datetime | None = None) -> Order:
    """The resident rates through their link; 1–2 stars open a follow-up for the station."""
    now = _now(now)
    order = Order.objects.select_for_update().select_related("org").filter(token=token).first() if token else None
    if order is None:
        raise NotFound()
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Give 1 to 5 stars.")]})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": [_("The comment is longer than 500 characters.")]})
    if order.status != S.COMPLETED:
        raise Conflict(_("Only a completed order can be rated, once."), code="invalid_transition")
    order.rating = rating
    order.rating_comment = comment
    order.rated_at = now
    note = f"{'★' * rating}{'☆' * (5 - rating)} {comment}".strip()
    if rating <= 2:
        _move(
            order,
            S.FOLLOW_UP,
            actor=None,
            action="rated",
            now=now,
            note=note,
            actor_kind=RESIDENT,
            fields=("rating", "rating_comment", "rated_at"),
        )
        _notify(
            staff_of(order.org),
            kind="order.follow_up",
            title=_("Low rating on order %(number)s: please follow up") % {"number": order.number},
            body=note,
            link=_order_link(order),
            dedupe_key=f"order-{order.pk}-follow-up",
        )
    else:
        order.closed_at = now
        _move(
            order,
            S.CLOSED,
            actor=None,
            action="rated",
            now=now,
            note=note,
            actor_kind=RESIDENT,
            fields=("rating", "rating_comment", "rated_at", "closed_at"),
        )
    return order


@transaction.atomic
def order_follow_up(*, actor, order_id: int, note: str, redo: bool = False, now: datetime | None = None) -> Order:
    """After a low rating the station calls the resident back: close with what was found, or serve again."""
    now = _now(now)
    note = _required_reason(note, "note")
    order = _locked_for_change(actor, order_id)
    if order.status != S.FOLLOW_UP:
        raise Conflict(_("This order has no open follow-up."), code="invalid_transition")
    if redo:
        order.team = None
        order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        _move(order, S.ACCEPTED, actor=actor, action="redo", now=now, note=note, fields=("team", "accept_by"))
    else:
        order.closed_at = now
        _move(order, S.CLOSED, actor=actor, action="followed_up", now=now, note=note, fields=("closed_at",))
    return order


# ---------------------------------------------------------------- deadlines: reminders, escalation, auto-close


def _escalation_target(order: Order) -> Org:
    """One level further up per missed deadline; the root node gets everything beyond it."""
    paths = ancestor_paths(order.org.path)[:-1]  # ancestors, root first
    if not paths:
        return order.org
    index = max(0, len(paths) - order.escalation_level)
    return Org.objects.get(path=paths[index]) if index < len(paths) else order.org


def _escalate(order: Order, *, now: datetime, reason: str) -> None:
    order.escalation_level += 1
    order.escalated_at = now
    target = _escalation_target(order)
    fields = ["escalation_level", "escalated_at", "updated_at"]
    if order.status == S.TAKEN:
        # a new deadline for the next escalation: the same time again
        order.promised_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        fields.append("promised_by")
    else:
        order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        fields.append("accept_by")
    order.save(update_fields=fields)
    note = _("%(reason)s Escalated to %(org)s.") % {"reason": reason, "org": target.name}
    _event(order, actor=None, action="escalated", from_status=order.status, now=now, note=note, public=False)
    audit.record(actor=None, action="order.escalated", obj=order, note=note)
    _notify(
        staff_of(target) + staff_of(order.org),
        kind="order.escalated",
        title=_("Overdue order %(number)s: %(title)s") % {"number": order.number, "title": order.title},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-escalated-{order.escalation_level}",
    )


def orders_escalate_overdue(*, now: datetime | None = None) -> dict[str, int]:
    """Run by `manage.py escalate_orders` and the periodic task: reminders at half time, escalation on a
    missed deadline (one level up each time), and closing of completed orders left unrated."""
    now = _now(now)
    counts = {"reminded": 0, "escalated": 0, "closed": 0}
    waiting = [S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED]
    # reminders: offers still unanswered after half of the time to accept
    for order in Order.objects.filter(
        status=S.DISPATCHED, reminded_at__isnull=True, accept_by__gt=now, dispatched_at__isnull=False
    ).select_related("org"):
        if now < order.dispatched_at + (order.accept_by - order.dispatched_at) / 2:
            continue
        with transaction.atomic():
            order = _lock(order.pk)
            if order.status != S.DISPATCHED or order.reminded_at is not None:
                continue
            order.reminded_at = now
            order.save(update_fields=["reminded_at", "updated_at"])
            recipients = []
            for a in order.assignments.filter(status=AssignmentStatus.OFFERED).select_related(
                "team", "volunteer__user"
            ):
                recipients += _leader_users(a.team) if a.team else [a.volunteer.user]
            _event(order, actor=None, action="reminded", from_status=order.status, now=now, public=False)
            _notify(
                recipients,
                kind="order.reminder",
                title=_("Reminder: order %(number)s waits for your answer") % {"number": order.number},
                body=order.title,
                link=reverse("orders:my_orders"),
                dedupe_key=f"order-{order.pk}-reminder-{order.dispatched_at.timestamp()}",
            )
            counts["reminded"] += 1
    overdue = Order.objects.filter(
        Q(status__in=waiting, accept_by__lt=now) | Q(status=S.TAKEN, promised_by__lt=now)
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        with transaction.atomic():
            order = _lock(pk)
            if order.status in waiting and order.accept_by and order.accept_by < now:
                _escalate(
                    order, now=now, reason=_("No answer in time (%(status)s).") % {"status": order.get_status_display()}
                )
                counts["escalated"] += 1
            elif order.status == S.TAKEN and order.promised_by and order.promised_by < now:
                _escalate(order, now=now, reason=_("Not finished by the promised time."))
                counts["escalated"] += 1
    days_by_org: dict[int, int] = {}
    for order in Order.objects.filter(status=S.COMPLETED, completed_at__lt=now).select_related("org"):
        days = days_by_org.setdefault(order.org_id, int(rules.rule(order.org, "order_autoclose_days")))
        if order.completed_at + timedelta(days=days) > now:
            continue
        with transaction.atomic():
            order = _lock(order.pk)
            if order.status != S.COMPLETED:
                continue
            order.closed_at = now
            _move(
                order,
                S.CLOSED,
                actor=None,
                action="auto_closed",
                now=now,
                note=_("Not rated within %(days)d days.") % {"days": days},
                fields=("closed_at",),
            )
            counts["closed"] += 1
    return counts
