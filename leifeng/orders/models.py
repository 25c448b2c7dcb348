"""Residents' orders: service menus and the closed loop 点单 → 审单 → 派单 → 接单 → 评单.

An order always belongs to one node (`org`): the node that owns it *now*. Passing an order up
(to the parent node) or pushing it down (to a child node) changes `org` and keeps the status,
so the inbox of a node is simply "orders whose org is in my subtree".
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.core.models import TimeStampedModel
from leifeng.core.transitions import Transitions
from leifeng.teams.models import TeamCategory


class MenuItem(TimeStampedModel):
    """One service a node offers (服务菜单): residents order from the menus of their station and above."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("organization"), on_delete=models.PROTECT, related_name="menu_items"
    )
    title = models.CharField(_("title"), max_length=100)
    category = models.CharField(_("category"), max_length=32, choices=TeamCategory.choices)
    description = models.TextField(_("description"), blank=True)
    teams = models.ManyToManyField(
        "teams.Team", verbose_name=_("providing teams"), blank=True, related_name="menu_items"
    )
    service_area = models.CharField(_("service area"), max_length=200, blank=True)
    time_windows = models.CharField(
        _("time windows"), max_length=200, blank=True, help_text=_("e.g. weekdays 9:00–17:00")
    )
    expected_minutes = models.PositiveIntegerField(_("expected duration (minutes)"), default=60)
    points = models.PositiveIntegerField(_("points"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        ordering = ["org", "category", "title"]
        constraints = [models.UniqueConstraint(fields=["org", "title"], name="menu_item_title_unique_per_org")]

    def __str__(self) -> str:
        return self.title


class OrderChannel(models.TextChoices):
    WEB = "web", _("Platform")  # 平台
    PHONE = "phone", _("Phone call")  # 电话
    VISIT = "visit", _("Home visit")  # 走访
    WECHAT = "wechat", _("WeChat group")  # 微信群
    DESK = "desk", _("Service desk")  # 窗口


class OrderStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("order status", "Awaiting review")  # 待审单
    ACCEPTED = "accepted", pgettext_lazy("order status", "Awaiting dispatch")  # 已受理, 待派单
    OPEN = "open", pgettext_lazy("order status", "Open for grabbing")  # 抢单中
    DISPATCHED = "dispatched", pgettext_lazy("order status", "Awaiting acceptance")  # 已派单, 待接单
    TAKEN = "taken", pgettext_lazy("order status", "In service")  # 已接单
    COMPLETED = "completed", pgettext_lazy("order status", "Awaiting rating")  # 已完成, 待评单
    FOLLOW_UP = "follow_up", pgettext_lazy("order status", "Follow-up")  # 差评回访
    CLOSED = "closed", pgettext_lazy("order status", "Closed")  # 已办结
    REJECTED = "rejected", pgettext_lazy("order status", "Rejected")  # 不予受理
    MERGED = "merged", pgettext_lazy("order status", "Merged")  # 已合并
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")  # 已撤销


S = OrderStatus

# The only moves an order may make; services refuse anything else.
# A move to the same status is a move between nodes: SUBMITTED → SUBMITTED passes the order up to the
# parent node (beyond the station's means); ACCEPTED → ACCEPTED pushes it down to a child node (层层派单).
# Every way out of OPEN / DISPATCHED / TAKEN back to ACCEPTED is a decline or a recall: nobody is forced
# to serve (DESIGN §4 rule 5). TAKEN → DISPATCHED: of several named volunteers, the ones who accepted all gave
# up while others still hold an offer: the order waits for those again.
ORDER_TRANSITIONS = Transitions(
    OrderStatus,
    {
        S.SUBMITTED: {S.SUBMITTED, S.ACCEPTED, S.REJECTED, S.MERGED, S.CANCELLED},
        S.ACCEPTED: {S.ACCEPTED, S.OPEN, S.DISPATCHED, S.MERGED, S.CANCELLED},
        S.OPEN: {S.TAKEN, S.ACCEPTED, S.CANCELLED},
        S.DISPATCHED: {S.TAKEN, S.ACCEPTED, S.CANCELLED},
        S.TAKEN: {S.COMPLETED, S.DISPATCHED, S.ACCEPTED, S.CANCELLED},
        S.COMPLETED: {S.CLOSED, S.FOLLOW_UP},
        S.FOLLOW_UP: {S.CLOSED, S.ACCEPTED},
        S.CLOSED: set(),
        S.REJECTED: set(),
        S.MERGED: set(),
        S.CANCELLED: set(),
    },
    message=_("An order that is “%(from)s” cannot become “%(to)s”."),
)

# Still needs somebody's action (duplicates are looked for among these).
OPEN_STATUSES = frozenset({S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN, S.FOLLOW_UP})
FINAL_STATUSES = frozenset({S.CLOSED, S.REJECTED, S.MERGED, S.CANCELLED})


class DispatchMode(models.TextChoices):
    DIRECT = "direct", _("Direct to a team or volunteers")  # 直接派单
    LEVEL_BY_LEVEL = "level_by_level", _("Level by level")  # 层层派单
    GRAB = "grab", _("Open for grabbing")  # 抢单


def wanted_text(start, end) -> str:
    """A wanted window in local time: both ends, one end ("from …" / "by …"), or "" when neither is set."""

    def fmt(dt, with_day: bool = True) -> str:
        return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M" if with_day else "%H:%M")

    if start and end:
        same_day = timezone.localtime(start).date() == timezone.localtime(end).date()
        return f"{fmt(start)}–{fmt(end, with_day=not same_day)}"
    if start:
        return str(_("from %(time)s")) % {"time": fmt(start)}
    if end:
        return str(_("by %(time)s")) % {"time": fmt(end)}
    return ""


def new_token() -> str:
    """Unguessable key of the resident's private tracking link (192 bits)."""
    return secrets.token_urlsafe(24)


class Order(TimeStampedModel):
    """A resident's request for a service (点单), from any channel, and everything that happens to it."""

    org = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("the node that owns the order now"),
    )
    origin_org = models.ForeignKey("orgs.Org", verbose_name=_("ordered at"), on_delete=models.PROTECT, related_name="+")
    menu_item = models.ForeignKey(
        MenuItem, verbose_name=_("menu item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    category = models.CharField(_("category"), max_length=32, choices=TeamCategory.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    resident_name = models.CharField(_("name"), max_length=50)
    resident_phone = models.CharField(_("mobile phone"), max_length=11, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    photo = models.ImageField(_("photo"), upload_to="orders/%Y/%m/", blank=True)
    # 期望服务时间: when the resident would like the service; either end may be left open
    wanted_from = models.DateTimeField(_("wanted from"), null=True, blank=True)
    wanted_until = models.DateTimeField(_("wanted until"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=OrderChannel.choices, default=OrderChannel.WEB)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("possible duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="possible_duplicates",
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.SUBMITTED)
    reason = models.CharField(
        _("reason"), max_length=300, blank=True, help_text=_("why it was rejected, shown to the resident")
    )
    dispatch_mode = models.CharField(_("dispatch mode"), max_length=16, choices=DispatchMode.choices, blank=True)
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        help_text=_("the team serving the order"),
    )
    # deadlines and escalation
    accept_by = models.DateTimeField(_("accept by"), null=True, blank=True)
    promised_by = models.DateTimeField(_("promised by"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # milestones (`submitted_at` is the resident's time of ordering, the clock every figure starts from)
    submitted_at = models.DateTimeField(_("ordered at"), default=timezone.now, db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    taken_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # completion
    completion_notes = models.TextField(_("completion notes"), blank=True)
    minutes_served = models.PositiveIntegerField(_("minutes served"), null=True, blank=True)
    # rating (评单)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="order_rating_1_5"
            ),
            models.CheckConstraint(
                condition=Q(wanted_from__isnull=True)
                | Q(wanted_until__isnull=True)
                | Q(wanted_until__gt=models.F("wanted_from")),
                name="order_wanted_until_after_from",
            ),
        ]
        indexes = [
            models.Index(fields=["org", "status"], name="order_org_status"),
            models.Index(fields=["status", "accept_by"], name="order_status_accept_by"),
            models.Index(fields=["resident_phone", "status"], name="order_phone_status"),
            models.Index(fields=["team", "status"], name="order_team_status"),
        ]

    @property
    def title(self) -> str:
        if self.menu_item_id:
            return self.menu_item.title
        return (self.description or "").strip().splitlines()[0][:40] if self.description else str(_("Order"))

    @property
    def number(self) -> str:
        return f"D{self.pk:06d}" if self.pk else ""

    @property
    def wanted_display(self) -> str:
        """The wanted window as people read it (local time): "11-25 09:30–11:30", "from …", "by …"; "" if none."""
        return wanted_text(self.wanted_from, self.wanted_until)

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class AssignmentStatus(models.TextChoices):
    OFFERED = "offered", pgettext_lazy("assignment", "Offered")
    ACCEPTED = "accepted", pgettext_lazy("assignment", "Accepted")
    DECLINED = "declined", pgettext_lazy("assignment", "Declined")
    WITHDRAWN = "withdrawn", pgettext_lazy("assignment", "Withdrawn")  # recalled by staff, or gave up after accepting
    DONE = "done", pgettext_lazy("assignment", "Done")


ASSIGNMENT_TRANSITIONS = Transitions(
    AssignmentStatus,
    {
        AssignmentStatus.OFFERED: {AssignmentStatus.ACCEPTED, AssignmentStatus.DECLINED, AssignmentStatus.WITHDRAWN},
        AssignmentStatus.ACCEPTED: {AssignmentStatus.DONE, AssignmentStatus.WITHDRAWN},
        AssignmentStatus.DECLINED: set(),
        AssignmentStatus.WITHDRAWN: set(),
        AssignmentStatus.DONE: set(),
    },
    message=_("This answer was already given."),
)


class Assignment(TimeStampedModel):
    """One offer of an order to a team (its leader answers) or to a named volunteer; either may decline."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="assignments")
    team = models.ForeignKey(
        "teams.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    volunteer = models.ForeignKey(
        "people.Volunteer",
        verbose_name=_("volunteer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="order_assignments",
    )
    mode = models.CharField(_("dispatch mode"), max_length=16, choices=DispatchMode.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.OFFERED
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(volunteer__isnull=False), name="assignment_has_assignee"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status"], name="assignment_team_status"),
            models.Index(fields=["volunteer", "status"], name="assignment_volunteer_status"),
        ]

    def __str__(self) -> str:
        who = self.team or self.volunteer
        return f"{self.order_id} → {who}"


class OrderServer(models.Model):
    """A volunteer who served on a completed order, with the minutes written to the hours ledger."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="servers")
    volunteer = models.ForeignKey("people.Volunteer", on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveIntegerField(_("minutes"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "volunteer"], name="order_server_unique")]


class OrderPhoto(models.Model):
    """Photos of the finished service (the resident's own photo is `Order.photo`)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="orders/done/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class OrderEvent(models.Model):
    """Every change of an order (who, when, from → to, note), shown on the order and the tracking page."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When there is no account behind the change: "resident" (through the tracking link) or "system".
    actor_kind = models.CharField(max_length=16, default="user")
    action = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from"), max_length=16, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=OrderStatus.choices)
    org = models.ForeignKey("orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    public = models.BooleanField(default=True, help_text=_("shown to the resident on the tracking page"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.action} {self.from_status}→{self.to_status}"


class Open311Client(models.Model):
    """A third-party system (12345 hotline, government app) allowed into Open311 only: its own key, never a full
    API token (which would travel in URLs as `api_key`). It submits and reads orders as `user`, and only at
    `org` and below. Only the key's hash is stored; the key is shown once on creation."""

    name = models.CharField(_("name"), max_length=100)
    org = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("node"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("the key works for this node and the nodes below it only"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("orders are entered as this account, within its rights"),
    )
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    KEY_PREFIX = "o311_"

    @classmethod
    def new_key(cls) -> str:
        return cls.KEY_PREFIX + secrets.token_urlsafe(32)

    @staticmethod
    def hash(raw: str) -> str:
        import hashlib

        return hashlib.sha256(raw.encode()).hexdigest()
