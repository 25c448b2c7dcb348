"""Reads about notifications: a person's own inbox (nobody else's), and relays, through the notifications policy."""

from django.db.models import Count, Prefetch, Q, QuerySet

from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification, Relay
from leifeng.notifications.policy import home_nodes, notification_policy, relay_policy

__all__ = [
    "home_nodes",
    "inbox_list",
    "notification_get",
    "relay_get",
    "relay_list",
    "relay_recipients_status",
    "unread_count",
]


def inbox_list(*, actor, unread_only: bool = False) -> QuerySet[Notification]:
    qs = notification_policy.own(actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return notification_policy.own(actor).filter(read_at__isnull=True).count()


def notification_get(*, actor, notification_id: int) -> Notification:
    n = notification_policy.own(actor).filter(pk=notification_id).first()
    if n is None:
        raise NotFound()
    return n


def relay_list(*, actor) -> QuerySet[Relay]:
    """Relays sent at nodes the actor may see, with sent/failed/pending counts per relay."""
    d = "notifications__deliveries__status"
    return (
        relay_policy.visible(actor, Perm.VIEW)
        .select_related("org", "sender")
        .annotate(
            sent_count=Count("notifications__deliveries", filter=Q(**{d: DeliveryStatus.SENT})),
            failed_count=Count("notifications__deliveries", filter=Q(**{d: DeliveryStatus.FAILED})),
            waiting_count=Count(
                "notifications__deliveries", filter=Q(**{f"{d}__in": [DeliveryStatus.PENDING, DeliveryStatus.SENDING]})
            ),
            read_count=Count("notifications", filter=Q(notifications__read_at__isnull=False), distinct=True),
        )
        .order_by("-created_at", "-id")
    )


def relay_get(*, actor, relay_id: int) -> Relay:
    return relay_policy.get(actor, Perm.VIEW, qs=Relay.objects.select_related("org", "sender"), pk=relay_id)


def relay_recipients_status(*, relay: Relay) -> QuerySet[Notification]:
    """One row per recipient with their deliveries: who got it, who not yet, who read it."""
    return (
        relay.notifications.select_related("recipient")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("channel")))
        .order_by("recipient__username")
    )
