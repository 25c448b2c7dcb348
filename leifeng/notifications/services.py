"""Writes about notifications.

`notify` is what every other app calls: inbox rows and one `Delivery` per channel are written in the caller's
transaction; the sending task is enqueued only after that transaction commits, so nothing is sent for a
change that rolled back and nothing acknowledged is lost (a crash leaves `pending` rows that `send_reminders`
picks up again).

Rules:
  * `dedupe_key` (e.g. ``signup:12:day_before``) is unique per recipient: the same reminder never goes twice to
    the same person, also when two drivers race (unique constraint + conflicts ignored);
  * every status change of a delivery goes through DELIVERY_TRANSITIONS: it is claimed pending → sending by a
    conditional UPDATE (WHERE status IN the table's sources of `sending`), so two workers never both send it;
  * failed deliveries are retried automatically up to MAX_ATTEMPTS (by `retry_due`), or by staff by hand;
  * a relay (短信接力) goes to every account holding one of `roles` in the subtree of `org`; the sender needs
    Perm.CHANGE at `org`; out of scope answers 404.
"""

import contextlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.models import Role
from leifeng.core import audit
from leifeng.core.errors import NotFound, PermissionDenied, ServiceError
from leifeng.core.roles import Perm
from leifeng.notifications import channels as channel_registry
from leifeng.notifications.codes import AuditAction, ErrorCode
from leifeng.notifications.models import (
    DELIVERY_TRANSITIONS,
    Delivery,
    DeliveryStatus,
    FeedToken,
    Notification,
    Relay,
    new_feed_token,
)
from leifeng.notifications.policy import delivery_policy, notification_policy, relay_policy, relay_recipients
from leifeng.orgs.policy import org_policy

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)  # times the number of attempts so far
STALE_SENDING = timedelta(minutes=15)  # a worker that died mid-send
TASK_BATCH = 200  # delivery ids per background task
RELAY_ROLES_DEFAULT = (Role.ORG_ADMIN, Role.ORG_STAFF, Role.TEAM_LEADER, Role.CARE_WORKER, Role.RECORDER)


def _user_ids(recipients: Iterable) -> list[int]:
    ids = []
    seen = set()
    for r in recipients:
        pk = r if isinstance(r, int) else r.pk
        if pk is not None and pk not in seen:
            seen.add(pk)
            ids.append(pk)
    return ids


def enqueue_send(delivery_ids: list[int]) -> None:
    """Run the sending task for these deliveries once the current transaction commits."""
    from leifeng.notifications.tasks import send_deliveries

    ids = list(delivery_ids)
    if not ids:
        return

    def go() -> None:
        for i in range(0, len(ids), TASK_BATCH):
            send_deliveries.enqueue(ids[i : i + TASK_BATCH])

    transaction.on_commit(go)


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    channels: list[str] | None = None,
    dedupe_key: str | None = None,
    relay: Relay | None = None,
) -> list[Notification]:
    """Put a message in each recipient's inbox and queue it on every channel. Returns the new inbox rows
    (recipients who already got `dedupe_key` are left out)."""
    user_ids = _user_ids(recipients)
    if not user_ids:
        return []
    names = list(channels if channels is not None else channel_registry.configured())
    title = str(title)[:200]
    with transaction.atomic():
        if dedupe_key:
            had = set(
                Notification.objects.filter(dedupe_key=dedupe_key, recipient_id__in=user_ids).values_list(
                    "recipient_id", flat=True
                )
            )
            todo = [u for u in user_ids if u not in had]
            if not todo:
                return []
            rows = [
                Notification(
                    recipient_id=u, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key, relay=relay
                )
                for u in todo
            ]
            # A racing driver may have written some of them since: those are skipped, not duplicated.
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            created = list(
                Notification.objects.filter(dedupe_key=dedupe_key, recipient_id__in=todo, deliveries__isnull=True)
            )
        else:
            rows = [
                Notification(recipient_id=u, kind=kind, title=title, body=body, link=link, relay=relay)
                for u in user_ids
            ]
            created = Notification.objects.bulk_create(rows)
        if names and created:
            rows = [Delivery(notification_id=n.pk, channel=c) for n in created for c in names]
            if dedupe_key:
                # Another driver may be writing the same notifications' deliveries: skip, then read back.
                Delivery.objects.bulk_create(rows, ignore_conflicts=True)
                ids = list(
                    Delivery.objects.filter(
                        notification_id__in=[n.pk for n in created], status=DeliveryStatus.PENDING
                    ).values_list("pk", flat=True)
                )
            else:
                ids = [d.pk for d in Delivery.objects.bulk_create(rows, batch_size=2000)]
            enqueue_send(ids)
    return created


def _deliver(delivery: Delivery) -> None:
    """Run the channel and record the outcome on the (unsaved, claimed) delivery."""
    DELIVERY_TRANSITIONS.check(delivery.status, DeliveryStatus.SENT)  # only a claimed (sending) one is sent
    try:
        address = channel_registry.get(delivery.channel).send(delivery)
    except channel_registry.Skip as exc:
        DELIVERY_TRANSITIONS.move(delivery, DeliveryStatus.SKIPPED)
        delivery.error = str(exc)[:500]
    except Exception as exc:
        DELIVERY_TRANSITIONS.move(delivery, DeliveryStatus.FAILED)
        delivery.error = f"{type(exc).__name__}: {exc}"[:500]
    else:
        DELIVERY_TRANSITIONS.move(delivery, DeliveryStatus.SENT)
        delivery.error, delivery.sent_at = "", timezone.now()
        delivery.address = str(address or "")[:200]


RESULT_FIELDS = ["status", "error", "sent_at", "address"]
SEND_CHUNK = 50  # outcomes are written every this many sends, so a crash repeats at most this many


def send_deliveries(delivery_ids: list[int], *, now: datetime | None = None) -> dict[str, int]:
    """Claim the pending ones among `delivery_ids` (pending → sending, in one statement, skipping rows another
    worker holds), send them, and write the outcomes in chunks. Returns how many ended in each status."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk__in=delivery_ids, status__in=DELIVERY_TRANSITIONS.sources(DeliveryStatus.SENDING))
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
        )
    counts: dict[str, int] = {}
    batch = list(
        Delivery.objects.select_related("notification__recipient__volunteer").filter(pk__in=claimed).order_by("pk")
    )
    by_channel: dict[str, list[Delivery]] = {}
    for delivery in batch:
        by_channel.setdefault(delivery.channel, []).append(delivery)
    for name, deliveries in by_channel.items():
        try:
            channel = channel_registry.get(name)
        except Exception:  # an unknown channel: each delivery fails on its own below, with the reason
            channel = None
        try:
            with channel.batch() if channel is not None else contextlib.nullcontext():
                _deliver_chunks(deliveries, counts)
        except Exception as exc:  # the batch could not even start (e.g. SMTP server down)
            rest = [d for d in deliveries if d.status == DeliveryStatus.SENDING]
            for d in rest:
                DELIVERY_TRANSITIONS.move(d, DeliveryStatus.FAILED)
                d.error = f"{type(exc).__name__}: {exc}"[:500]
                counts[d.status] = counts.get(d.status, 0) + 1
            Delivery.objects.bulk_update(rest, RESULT_FIELDS)
    return counts


def _deliver_chunks(deliveries: list[Delivery], counts: dict[str, int]) -> None:
    for i in range(0, len(deliveries), SEND_CHUNK):
        chunk = deliveries[i : i + SEND_CHUNK]
        for delivery in chunk:
            _deliver(delivery)
            counts[delivery.status] = counts.get(delivery.status, 0) + 1
        Delivery.objects.bulk_update(chunk, RESULT_FIELDS)


def send_delivery(delivery_id: int, *, now: datetime | None = None) -> str | None:
    """Send one pending delivery; returns its new status, or None if it was not pending (someone else has it)."""
    counts = send_deliveries([delivery_id], now=now)
    return next(iter(counts), None)


def retry_due(*, now: datetime | None = None) -> int:
    """Put failed deliveries whose back-off has passed (and sends a dead worker left behind) back to pending,
    and queue them. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        # sends a dead worker left behind: failed (what may fail is what is being sent)
        Delivery.objects.filter(
            status__in=DELIVERY_TRANSITIONS.sources(DeliveryStatus.FAILED), last_attempt_at__lt=now - STALE_SENDING
        ).update(status=DeliveryStatus.FAILED, error="worker stopped while sending")
        due = [
            d.pk
            for d in Delivery.objects.filter(status=DeliveryStatus.FAILED, attempts__lt=MAX_ATTEMPTS).only(
                "pk", "attempts", "last_attempt_at"
            )
            if d.last_attempt_at is None or d.last_attempt_at <= now - RETRY_AFTER * d.attempts
        ]
        # Pending ones nobody picked up (the queue was down when they were written).
        due += list(
            Delivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=now - RETRY_AFTER).values_list(
                "pk", flat=True
            )
        )
        Delivery.objects.filter(pk__in=due, status__in=DELIVERY_TRANSITIONS.sources(DeliveryStatus.PENDING)).update(
            status=DeliveryStatus.PENDING
        )
        enqueue_send(due)
    return len(due)


def _delivery_for_staff(*, actor, delivery_id: int, perm: Perm) -> Delivery:
    """A delivery of a relay the actor may see (relays are the deliveries staff look after)."""
    delivery = delivery_policy.get(
        actor, Perm.VIEW, qs=delivery_policy.queryset().select_related("notification__relay__org"), pk=delivery_id
    )
    if not delivery_policy.allows(actor, perm, delivery):
        raise PermissionDenied()
    return delivery


def delivery_retry(*, actor, delivery_id: int) -> Delivery:
    """Staff retries a failed delivery of a relay by hand (e.g. after fixing the SMS gateway)."""
    with transaction.atomic():
        delivery = _delivery_for_staff(actor=actor, delivery_id=delivery_id, perm=Perm.CHANGE)
        before = DELIVERY_TRANSITIONS.move(
            delivery,
            DeliveryStatus.PENDING,
            message=_("Only a failed delivery can be retried."),
            code=ErrorCode.NOT_FAILED,
        )
        delivery.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action=AuditAction.DELIVERY_RETRY,
            obj=delivery,
            org=delivery.notification.relay.org,
            changes={"status": [before, DeliveryStatus.PENDING]},
        )
        enqueue_send([delivery.pk])
    return delivery


def relay_retry_failed(*, actor, relay_id: int) -> int:
    """Retry every failed delivery of one relay."""
    with transaction.atomic():
        relay = Relay.objects.select_related("org").filter(pk=relay_id).first()
        if relay is None or not relay_policy.allows(actor, Perm.VIEW, relay):
            raise NotFound()
        if not relay_policy.allows(actor, Perm.CHANGE, relay):
            raise PermissionDenied()
        retry_from = DELIVERY_TRANSITIONS.sources(DeliveryStatus.PENDING)  # failed ones
        ids = list(
            Delivery.objects.filter(notification__relay=relay, status__in=retry_from).values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=ids, status__in=retry_from).update(status=DeliveryStatus.PENDING)
        audit.record(actor=actor, action=AuditAction.RELAY_RETRY, obj=relay, changes={"deliveries": len(ids)})
        enqueue_send(ids)
    return len(ids)


def notification_mark_read(*, actor, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of the actor's own notifications read; anyone else's is 404."""
    n = notification_policy.own(actor).filter(pk=notification_id).first()
    if n is None:
        raise NotFound()
    if n.read_at is None:
        n.read_at = now or timezone.now()
        n.save(update_fields=["read_at"])
    return n


def notification_mark_all_read(*, actor, now: datetime | None = None) -> int:
    return notification_policy.own(actor).filter(read_at__isnull=True).update(read_at=now or timezone.now())


def relay_send(
    *,
    actor,
    org,
    title: str,
    body: str,
    roles: Iterable[str] | None = None,
    channels: list[str] | None = None,
    link: str = "",
) -> Relay:
    """短信接力: one message to every role holder in the subtree of `org`, with a delivery row per person."""
    if not org_policy.allows(actor, Perm.VIEW, org):
        raise NotFound()
    if not org_policy.allows(actor, Perm.CHANGE, org):
        raise PermissionDenied()
    roles = [str(r) for r in (roles or RELAY_ROLES_DEFAULT)]
    valid = set(Role.values) - {Role.PLATFORM_ADMIN}
    if not roles or any(r not in valid for r in roles):
        raise ServiceError(_("Choose the roles to send to."), code=ErrorCode.INVALID_ROLES, field="roles")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise ServiceError(
            _("A relay needs a title and a message."), code=ErrorCode.EMPTY, field="title" if not title else "body"
        )
    with transaction.atomic():
        relay = Relay.objects.create(org=org, sender=actor, title=title[:120], body=body, roles=roles)
        ids = list(relay_recipients(org=org, roles=roles).values_list("pk", flat=True))
        created = notify(
            recipients=ids,
            kind="relay",
            title=title,
            body=body,
            link=link or reverse("notifications:inbox"),
            channels=channels,
            relay=relay,
        )
        relay.recipient_count = len(created)
        relay.save(update_fields=["recipient_count"])
        audit.record(
            actor=actor, action=AuditAction.RELAY_SEND, obj=relay, changes={"roles": roles, "recipients": len(created)}
        )
    return relay


__all__ = [
    "notify",
    "send_delivery",
    "retry_due",
    "delivery_retry",
    "relay_retry_failed",
    "relay_send",
    "relay_recipients",
    "notification_mark_read",
    "notification_mark_all_read",
]


def feed_token_for(*, user) -> FeedToken:
    """The person's calendar token, made on first use."""
    token, _created = FeedToken.objects.get_or_create(user=user)
    return token


def feed_token_reset(*, actor) -> FeedToken:
    """A new secret for the "my shifts" URL; the old URL answers 404 from now on."""
    with transaction.atomic():
        token, _created = FeedToken.objects.select_for_update().get_or_create(user=actor)
        token.token = new_feed_token()
        token.save(update_fields=["token", "created_at"])
        audit.record(
            actor=actor,
            action=AuditAction.FEED_TOKEN_RESET,
            obj=token,
            object_repr=str(actor),
        )
    return token
