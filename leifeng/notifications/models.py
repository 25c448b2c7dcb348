"""Notifications: the in-app inbox (`Notification`), one `Delivery` per outside channel, and relays (短信接力).

Every message lands in the inbox first; each channel (console, e-mail, SMS, WeChat) gets a `Delivery` row in the
same transaction, so a message acknowledged by `notify` is never lost: a failed channel stays `failed` with its
error and can be retried.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.core.transitions import Transitions


class Relay(models.Model):
    """A message relayed down the tree (短信接力): sent once to every role holder in the subtree of `org`."""

    org = models.ForeignKey("orgs.Org", verbose_name=_("node"), on_delete=models.PROTECT, related_name="relays")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sender"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("message"))
    roles = models.JSONField(_("roles"), default=list, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message relay")
        verbose_name_plural = _("message relays")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """One message in one person's inbox. `dedupe_key` makes a reminder go at most once per person."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    relay = models.ForeignKey(
        Relay, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("relay")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="notification_dedupe_per_recipient",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    SENDING = "sending", pgettext_lazy("delivery status", "Sending")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", pgettext_lazy("delivery status", "Failed")
    SKIPPED = "skipped", pgettext_lazy("delivery status", "Skipped")


# A sender claims a pending delivery (→ sending) with a conditional UPDATE (WHERE status IN the sources of
# `sending`), so two workers never both send it; a send ends sent, failed or skipped; a failed one is retried.
DELIVERY_TRANSITIONS = Transitions(
    DeliveryStatus,
    {
        DeliveryStatus.PENDING: {DeliveryStatus.SENDING},
        DeliveryStatus.SENDING: {DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED},
        DeliveryStatus.FAILED: {DeliveryStatus.PENDING},  # retry
        DeliveryStatus.SENT: set(),
        DeliveryStatus.SKIPPED: set(),
    },
    message=_("A delivery that is “%(from)s” cannot become “%(to)s”."),
)


class Delivery(models.Model):
    """One notification through one channel: what happened, how often we tried, and why it failed."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=100)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    address = models.CharField(_("sent to"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["notification", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.status}"

    @property
    def channel_label(self) -> str:
        from leifeng.notifications.texts import CHANNEL_LABELS

        return str(CHANNEL_LABELS.get(self.channel, self.channel))


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class FeedToken(models.Model):
    """The secret in a volunteer's "my shifts" calendar URL (calendar apps cannot log in). Reset = new token."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_token")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.user_id}"
