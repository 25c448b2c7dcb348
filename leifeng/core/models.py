from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    """One row per write (and per unmasked read of personal data), never updated.

    `org` is the node the object belongs to, so the audit page can be scoped like anything else.
    """

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    org = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class NumberSequence(models.Model):
    """Counters for public identifiers (volunteer numbers), allocated in blocks under a row lock."""

    name = models.CharField(max_length=32, unique=True)
    last = models.BigIntegerField(default=0)


class ThrottleBucket(models.Model):
    """One fixed-window counter per throttle key (core.throttle): `hits` requests since `window_start`.

    Incremented with one INSERT … ON CONFLICT … RETURNING, so concurrent requests from every app server count
    exactly, on SQLite and PostgreSQL alike, without a cache server."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.BigIntegerField()
    hits = models.IntegerField()

    class Meta:
        verbose_name = _("throttle counter")
        verbose_name_plural = _("throttle counters")
