"""Reads about notifications: a person's own inbox (nobody else's), and relays through the scope module."""

from django.db.models import Count, Prefetch, Q, QuerySet

from leifeng.core import scope
from leifeng.core.errors import NotFound
from leifeng.core.scope import Perm
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification, Relay


def inbox_list(*, actor, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()


def notification_get(*, actor, notification_id: int) -> Notification:
    n = Notification.objects.filter(pk=notification_id, recipient_id=getattr(actor, "pk", None)).first()
    if n is None:
        raise NotFound()
    return n


def relay_list(*, actor) -> QuerySet[Relay]:
    """Relays sent at nodes the actor may see, with sent/failed/pending counts per relay."""
    d = "notifications__deliveries__status"
    return (
        scope.scoped(Relay.objects.all(), actor, Perm.VIEW)
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
    relay = scope.scoped(Relay.objects.select_related("org", "sender"), actor, Perm.VIEW).filter(pk=relay_id).first()
    if relay is None:
        raise NotFound()
    return relay


def relay_recipients_status(*, relay: Relay) -> QuerySet[Notification]:
    """One row per recipient with their deliveries: who got it, who not yet, who read it."""
    return (
        relay.notifications.select_related("recipient")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("channel")))
        .order_by("recipient__username")
    )
