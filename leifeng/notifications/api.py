"""/api/v1/notifications/: one's own inbox, message relays (短信接力), and the personal calendar link."""

from datetime import datetime

from django.urls import reverse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.accounts.models import Role
from leifeng.core.errors import NotFound
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.notifications import selectors, services
from leifeng.notifications.models import DeliveryStatus
from leifeng.orgs.models import Org

router = Router(tags=["notifications"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class InboxQuery(Schema):
    unread: bool = False


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


@router.get("", response=list[NotificationOut], summary="My notifications, newest first")
@paginate(Page)
def list_notifications(request, query: Query[InboxQuery]):
    return selectors.inbox_list(actor=request.user, unread_only=query.unread)


@router.get("/unread-count", response=UnreadOut, summary="How many of my notifications are unread")
def unread_count(request):
    return {"unread": selectors.unread_count(actor=request.user)}


@router.post("/read-all", response=MarkedOut, summary="Mark all my notifications read")
def read_all(request):
    return {"marked": services.notification_mark_all_read(actor=request.user)}


# ---------------------------------------------------------------- relays


class RelayIn(Schema):
    org_id: Id
    title: str
    body: str
    roles: list[Role] | None = None


class RelayOut(Schema):
    id: int
    org_id: int
    title: str
    body: str
    roles: list[str]
    recipient_count: int
    created_at: datetime
    sent_count: int = 0
    failed_count: int = 0
    waiting_count: int = 0
    read_count: int = 0


class DeliveryOut(Schema):
    id: int
    channel: str
    status: DeliveryStatus
    attempts: int
    error: str
    sent_at: datetime | None


class RecipientOut(Schema):
    user_id: int
    name: str
    read_at: datetime | None
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_user_id(obj) -> int:
        return obj.recipient_id

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj.recipient)

    @staticmethod
    def resolve_deliveries(obj) -> list:
        return list(obj.deliveries.all())


class RetriedOut(Schema):
    retried: int


def _relay(request, relay_id: int):
    return selectors.relay_list(actor=request.user).get(
        pk=selectors.relay_get(actor=request.user, relay_id=relay_id).pk
    )


@router.get("/relays/", response=list[RelayOut], summary="Message relays at the nodes I may see")
@paginate(Page)
def list_relays(request):
    return selectors.relay_list(actor=request.user)


@router.post("/relays/", response={201: RelayOut}, summary="Relay a message down the tree (短信接力)")
def create_relay(request, payload: RelayIn):
    org = Org.objects.filter(pk=payload.org_id).first()
    if org is None:
        raise NotFound()
    relay = services.relay_send(
        actor=request.user, org=org, title=payload.title, body=payload.body, roles=payload.roles
    )
    return Status(201, _relay(request, relay.pk))


@router.get("/relays/{relay_id}", response=RelayOut, summary="One relay with its delivery figures")
def get_relay(request, relay_id: Id):
    return _relay(request, relay_id)


@router.get(
    "/relays/{relay_id}/recipients", response=list[RecipientOut], summary="Who got a relay, who not yet, who read it"
)
@paginate(Page)
def relay_recipients(request, relay_id: Id):
    return selectors.relay_recipients_status(relay=selectors.relay_get(actor=request.user, relay_id=relay_id))


@router.post("/relays/{relay_id}/retry", response=RetriedOut, summary="Retry the failed deliveries of a relay")
def retry_relay(request, relay_id: Id):
    return {"retried": services.relay_retry_failed(actor=request.user, relay_id=relay_id)}


@router.post("/deliveries/{delivery_id}/retry", response=DeliveryOut, summary="Retry one failed delivery")
def retry_delivery(request, delivery_id: Id):
    return services.delivery_retry(actor=request.user, delivery_id=delivery_id)


# ---------------------------------------------------------------- calendar


class FeedsOut(Schema):
    my_shifts: str
    nodes: list[str]


@router.get("/calendar", response=FeedsOut, summary="My personal calendar URL and my nodes' calendar URLs")
def calendar_links(request):
    absolute = request.build_absolute_uri

    token = services.feed_token_for(user=request.user)
    return {
        "my_shifts": absolute(reverse("activities:feed_mine", args=[token.token])),
        "nodes": [absolute(reverse("activities:feed_node", args=[o.pk])) for o in selectors.home_nodes(request.user)],
    }


@router.post("/calendar/reset", response=FeedsOut, summary="New personal calendar URL; the old one stops working")
def calendar_reset(request):
    services.feed_token_reset(actor=request.user)
    return calendar_links(request)


# Last, so the fixed paths above (relays/, calendar) are matched first.
@router.get("/{notification_id}", response=NotificationOut, summary="One of my notifications")
def get_notification(request, notification_id: Id):
    return selectors.notification_get(actor=request.user, notification_id=notification_id)


@router.post("/{notification_id}/read", response=NotificationOut, summary="Mark one of my notifications read")
def read_one(request, notification_id: Id):
    return services.notification_mark_read(actor=request.user, notification_id=notification_id)
