"""/api/v1/orders/: menus, orders, every transition, events, figures. Out of scope is 404.

A resident needs no account: POST /orders (with an `Idempotency-Key` header: a retry returns the first
order, status 200 instead of 201), then GET /track/{token}, POST /track/{token}/rate and /cancel.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.accounts.api_auth import SessionAuth, TokenAuth
from leifeng.core.errors import NotFound
from leifeng.core.pagination import Page
from leifeng.core.roles import Perm
from leifeng.core.schemas import Id
from leifeng.orders import excel, selectors, services
from leifeng.orders.models import AssignmentStatus, DispatchMode, OrderChannel, OrderStatus
from leifeng.orders.policy import order_policy
from leifeng.teams.models import TeamCategory

router = Router(tags=["orders"])


def _anyone(request: HttpRequest) -> bool:
    """Last of the auth chain for the resident's endpoints: an account is optional there."""
    return True


OPTIONAL_AUTH = [TokenAuth(), SessionAuth(), _anyone]
# What the document says of those endpoints: a token, a session, or nothing at all. Ninja lists the first two
# from OPTIONAL_AUTH and appends this extra: the empty requirement, OpenAPI's "anonymous calls are accepted".
OPTIONAL_SECURITY = {"security": [{}]}

# A database id: anything above PostgreSQL's bigint (or SQLite's integer) is no id at all, refused with a 422
# that names the field instead of reaching the database.
Minutes = Annotated[int, Field(ge=0, le=2**31 - 1)]


class MenuItemOut(Schema):
    id: int
    org_id: int
    org_name: str = Field(..., alias="org.name")
    title: str
    category: TeamCategory
    description: str
    service_area: str
    time_windows: str
    expected_minutes: int
    points: int
    active: bool


class MenuItemIn(Schema):
    org_id: Id
    title: str
    category: TeamCategory = TeamCategory.OTHER
    description: str = ""
    team_ids: list[Id] = []
    service_area: str = ""
    time_windows: str = ""
    expected_minutes: Minutes = 60
    points: Minutes = 0
    active: bool = True


class MenuItemPatch(Schema):
    """Every field optional (what is left out stays), none nullable: the columns are NOT NULL, so an explicit
    null is a 422 naming the field, not a database error."""

    title: str = None
    category: TeamCategory = None
    description: str = None
    team_ids: list[Id] = None
    service_area: str = None
    time_windows: str = None
    expected_minutes: Minutes = None
    points: Minutes = None
    active: bool = None


class OrderIn(Schema):
    org_id: Id = Field(..., description="the resident's station")
    resident_name: str
    resident_phone: str
    address: str = ""
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    description: str = ""
    menu_item_id: Id | None = None
    wanted_from: datetime | None = Field(None, description="期望服务时间 from (optional; not in the past)")
    wanted_until: datetime | None = Field(None, description="期望服务时间 until (optional; after wanted_from)")
    channel: OrderChannel = Field(OrderChannel.WEB, description="staff only; residents are always 'web'")


class EventOut(Schema):
    at: datetime
    actor: str | None
    actor_kind: str
    action: str
    from_status: str
    to_status: OrderStatus
    note: str

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class TrackOut(Schema):
    """What the resident sees through their link."""

    number: str
    token: str
    title: str
    status: OrderStatus
    org_name: str = Field(..., alias="org.name")
    reason: str
    team_name: str | None = None
    promised_by: datetime | None
    wanted_from: datetime | None
    wanted_until: datetime | None
    completion_notes: str
    rating: int | None
    rating_comment: str
    submitted_at: datetime

    @staticmethod
    def resolve_team_name(obj) -> str | None:
        return obj.team.name if obj.team_id else None


class OrderOut(Schema):
    id: int
    number: str
    title: str
    status: OrderStatus
    org_id: int
    origin_org_id: int
    menu_item_id: int | None
    category: str
    description: str
    resident_name: str
    resident_phone: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    wanted_from: datetime | None
    wanted_until: datetime | None
    channel: OrderChannel
    duplicate_of_id: int | None
    merged_into_id: int | None
    reason: str
    dispatch_mode: str
    team_id: int | None
    accept_by: datetime | None
    promised_by: datetime | None
    escalation_level: int
    submitted_at: datetime
    taken_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    completion_notes: str
    minutes_served: int | None
    rating: int | None
    rating_comment: str


class OrderCreated(OrderOut):
    token: str = Field(..., description="the key of the private tracking link /orders/t/{token}/")


class OrderQuery(Schema):
    status: OrderStatus | None = None
    q: str = ""
    org: Id | None = None
    overdue: bool = False
    duplicates: bool = False


class NoteIn(Schema):
    note: str = ""


class OrderReasonIn(Schema):
    reason: str = ""


class MergeIn(Schema):
    into_id: Id


class PushDownIn(Schema):
    org_id: Id
    note: str = ""


class DispatchIn(Schema):
    team_id: Id | None = None
    volunteer_ids: list[Id] = []
    promised_by: datetime | None = None
    note: str = ""


class GrabOpenIn(Schema):
    promised_by: datetime | None = None
    note: str = ""


class GrabIn(Schema):
    team_id: Id


class CompleteIn(Schema):
    notes: str
    minutes: Minutes
    volunteer_ids: list[Id] = []


class RateIn(Schema):
    rating: int
    comment: str = ""


class FollowUpIn(Schema):
    note: str
    redo: bool = False


class AssignmentOut(Schema):
    id: int
    team_id: int | None
    volunteer_id: int | None
    mode: DispatchMode
    status: AssignmentStatus
    reason: str
    created_at: datetime
    decided_at: datetime | None


class FiguresOut(Schema):
    label: str
    volume: int
    closed: int
    avg_accept_h: float | None
    median_accept_h: float | None
    avg_complete_h: float | None
    median_complete_h: float | None
    rated: int
    satisfaction: float | None
    low_ratings: int


class StatusCount(Schema):
    status: OrderStatus
    label: str
    count: int


class FiguresReport(Schema):
    org_id: int
    total: FiguresOut
    nodes: list[FiguresOut]
    teams: list[FiguresOut]
    statuses: list[StatusCount] = Field(
        ..., description="orders of the node's subtree per status, every status listed (the inbox tabs' counts)"
    )


# ---------------------------------------------------------------- menus


@router.get("/menu", response=list[MenuItemOut], auth=None, summary="The menu a station's residents see")
@paginate(Page)
def public_menu(request, station: Id):
    return selectors.menu_for(selectors.public_station(station))


@router.get("/menu-items", response=list[MenuItemOut], summary="Menu items of the nodes in scope")
@paginate(Page)
def list_menu_items(request, org: Id | None = None):
    return selectors.menu_list(actor=request.user, org_id=org)


@router.post("/menu-items", response={201: MenuItemOut}, summary="Add a service to a node's menu")
def create_menu_item(request, payload: MenuItemIn):
    return Status(201, services.menu_item_create(actor=request.user, data=services.MenuItemInput(**payload.dict())))


@router.patch("/menu-items/{item_id}", response=MenuItemOut, summary="Change a menu item")
def update_menu_item(request, item_id: Id, payload: MenuItemPatch):
    data = payload.dict(exclude_unset=True)
    team_ids = data.pop("team_ids", None)
    return services.menu_item_update(actor=request.user, item_id=item_id, team_ids=team_ids, **data)


# ---------------------------------------------------------------- the resident


@router.post(
    "",
    response={200: OrderCreated, 201: OrderCreated},
    auth=OPTIONAL_AUTH,
    openapi_extra=OPTIONAL_SECURITY,
    summary="Place an order",
)
def create_order(request, payload: OrderIn):
    actor = request.user if request.user.is_authenticated else None
    data = services.OrderInput(**payload.dict(), idempotency_key=request.headers.get("Idempotency-Key", ""))
    order, created = services.order_submit(actor=actor, data=data)
    return Status(201 if created else 200, order)


@router.get("/track/{token}", response=TrackOut, auth=None, summary="The resident's view of their order")
def track(request, token: str):
    return selectors.order_by_token(token)


@router.get("/track/{token}/events", response=list[EventOut], auth=None, summary="Public history of the order")
@paginate(Page)
def track_events(request, token: str):
    return selectors.order_events(order=selectors.order_by_token(token), public_only=True)


@router.post("/track/{token}/rate", response=TrackOut, auth=None, summary="Rate 1–5 (评单)")
def track_rate(request, token: str, payload: RateIn):
    return services.order_rate(token=token, rating=payload.rating, comment=payload.comment)


@router.post("/track/{token}/cancel", response=TrackOut, auth=None, summary="Withdraw the order")
def track_cancel(request, token: str, payload: OrderReasonIn):
    return services.order_cancel(token=token, reason=payload.reason)


# ---------------------------------------------------------------- staff and assignees


@router.get("", response=list[OrderOut], summary="Orders of the subtree (the inbox)")
@paginate(Page)
def list_orders(request, filters: Query[OrderQuery]):
    params = filters.dict(exclude_none=True)
    return selectors.order_list(actor=request.user, filters=selectors.OrderFilters.from_params(params))


@router.get("/mine", response=list[OrderOut], summary="Orders offered to me or my teams")
@paginate(Page)
def list_mine(request):
    return selectors.my_orders(actor=request.user)


@router.get("/grabbable", response=list[OrderOut], summary="Open orders my teams may grab")
@paginate(Page)
def list_grabbable(request):
    return selectors.grabbable(actor=request.user)


@router.get("/figures", response=FiguresReport, summary="Volume, time to accept and complete, satisfaction")
def figures(request, org: Id | None = None):
    data = selectors.figures(actor=request.user, org_id=org)
    return {
        "org_id": data["org"].pk,
        "total": data["total"].__dict__,
        "nodes": [f.__dict__ for f in data["nodes"]],
        "teams": [f.__dict__ for f in data["teams"]],
        "statuses": [{"status": value, "label": str(label), "count": n} for value, label, n in data["statuses"]],
    }


def _require_staff(request) -> None:
    """The exports are the staff pages' exports: whoever sees no order of any node gets the same 404."""
    if not order_policy.is_staff(request.user, Perm.VIEW):
        raise NotFound()


def _xlsx(result, name: str) -> FileResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        result.file, as_attachment=True, filename=f"{name}_{stamp}.xlsx", content_type=excel.XLSX_CONTENT_TYPE
    )


XLSX_DOC = {200: {"description": "an .xlsx workbook", "content": {excel.XLSX_CONTENT_TYPE: {}}}}


@router.get(
    "/export.xlsx",
    summary="The inbox list as Excel (same filters and scope as the inbox page's export; all pages)",
    openapi_extra={"responses": XLSX_DOC},
)
def export_orders(request, filters: Query[OrderQuery]):
    _require_staff(request)
    params = filters.dict(exclude_none=True)
    result = excel.orders_export(actor=request.user, filters=selectors.OrderFilters.from_params(params))
    return _xlsx(result, _("orders"))


@router.get(
    "/figures.xlsx",
    summary="The figures as Excel (same ?org= and content as the figures page's export)",
    openapi_extra={"responses": XLSX_DOC},
)
def export_figures(request, org: Id | None = None):
    _require_staff(request)
    return _xlsx(excel.figures_export(actor=request.user, org_id=org), _("order-figures"))


@router.get("/{order_id}", response=OrderOut, summary="One order")
def get_order(request, order_id: Id):
    return selectors.order_get(actor=request.user, order_id=order_id)


@router.get("/{order_id}/events", response=list[EventOut], summary="Every change of the order")
@paginate(Page)
def order_events(request, order_id: Id):
    return selectors.order_events(order=selectors.order_get(actor=request.user, order_id=order_id))


@router.get("/{order_id}/assignments", response=list[AssignmentOut], summary="Offers and their answers")
@paginate(Page)
def order_assignments(request, order_id: Id):
    return selectors.order_get(actor=request.user, order_id=order_id).assignments.all()


@router.post("/{order_id}/accept", response=OrderOut, summary="Review: accept (审单)")
def accept(request, order_id: Id, payload: NoteIn):
    return services.order_accept(actor=request.user, order_id=order_id, note=payload.note)


@router.post("/{order_id}/reject", response=OrderOut, summary="Review: reject with a reason the resident sees")
def reject(request, order_id: Id, payload: OrderReasonIn):
    return services.order_reject(actor=request.user, order_id=order_id, reason=payload.reason)


@router.post("/{order_id}/merge", response=OrderOut, summary="Merge a duplicate into another order")
def merge(request, order_id: Id, payload: MergeIn):
    return services.order_merge(actor=request.user, order_id=order_id, into_id=payload.into_id)


@router.post("/{order_id}/pass-up", response=OrderOut, summary="Pass up to the parent node")
def pass_up(request, order_id: Id, payload: NoteIn):
    return services.order_pass_up(actor=request.user, order_id=order_id, note=payload.note)


@router.post("/{order_id}/push-down", response=OrderOut, summary="Hand down to a node below (层层派单)")
def push_down(request, order_id: Id, payload: PushDownIn):
    return services.order_push_down(actor=request.user, order_id=order_id, org_id=payload.org_id, note=payload.note)


@router.post("/{order_id}/dispatch", response=OrderOut, summary="Dispatch to a team or named volunteers")
def dispatch(request, order_id: Id, payload: DispatchIn):
    return services.order_dispatch(actor=request.user, order_id=order_id, **payload.dict())


@router.post("/{order_id}/open", response=OrderOut, summary="Open for grabbing (抢单)")
def open_grab(request, order_id: Id, payload: GrabOpenIn):
    return services.order_open_grab(actor=request.user, order_id=order_id, **payload.dict())


@router.post("/{order_id}/grab", response=OrderOut, summary="Grab an open order for a team one leads")
def grab(request, order_id: Id, payload: GrabIn):
    return services.order_grab(actor=request.user, order_id=order_id, team_id=payload.team_id)


@router.post("/{order_id}/recall", response=OrderOut, summary="Take a dispatched order back")
def recall(request, order_id: Id, payload: OrderReasonIn):
    return services.order_recall(actor=request.user, order_id=order_id, reason=payload.reason)


@router.post("/{order_id}/take", response=OrderOut, summary="Accept an offer (接单)")
def take(request, order_id: Id):
    return services.order_take(actor=request.user, order_id=order_id)


@router.post("/{order_id}/decline", response=OrderOut, summary="Decline or give up, with a reason")
def decline(request, order_id: Id, payload: OrderReasonIn):
    return services.order_decline(actor=request.user, order_id=order_id, reason=payload.reason)


@router.post("/{order_id}/complete", response=OrderOut, summary="Done: notes and minutes (hours to the ledger)")
def complete(request, order_id: Id, payload: CompleteIn):
    data = services.CompletionInput(notes=payload.notes, minutes=payload.minutes, volunteer_ids=payload.volunteer_ids)
    return services.order_complete(actor=request.user, order_id=order_id, data=data)


@router.post("/{order_id}/follow-up", response=OrderOut, summary="Close a low rating's follow-up, or serve again")
def follow_up(request, order_id: Id, payload: FollowUpIn):
    return services.order_follow_up(actor=request.user, order_id=order_id, note=payload.note, redo=payload.redo)


@router.post("/{order_id}/cancel", response=OrderOut, summary="Cancel (staff)")
def cancel(request, order_id: Id, payload: OrderReasonIn):
    return services.order_cancel(actor=request.user, order_id=order_id, reason=payload.reason)
