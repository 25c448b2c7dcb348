"""The service-record ledger (服务记录), hour claims, corrections and certificates (志愿服务记录证明).

The ledger is append-only: a `ServiceRecord` is never edited or deleted. A correction is a reversing
entry (negative minutes, `reverses` set) plus a new entry, with who and why (DESIGN §4 rule 11).
Totals per volunteer, team, node and period are sums over this table.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.core.transitions import Transitions
from leifeng.hours.codes import ErrorCode
from leifeng.teams.models import TeamCategory


class RecordKind(models.TextChoices):
    VERIFIED = "verified", _("Verified (from attendance)")  # 信用时数
    BACKFILLED = "backfilled", _("Back-filled (entered afterwards)")  # 荣誉时数 / 补录


class RecordSource(models.TextChoices):
    ATTENDANCE = "attendance", _("Check-in and check-out")
    DURATION_CODE = "duration_code", _("Duration code")
    BACKFILL = "backfill", _("Back-fill claim")
    ORDER = "order", _("Resident's order")
    CORRECTION = "correction", _("Correction")


class ServiceRecord(models.Model):
    """One ledger entry: minutes of service (negative for a reversal), owned by the organizing node."""

    volunteer = models.ForeignKey(
        "people.Volunteer", verbose_name=_("volunteer"), on_delete=models.PROTECT, related_name="service_records"
    )
    # 谁组织谁记录、谁记录谁证明: the organizing node owns the record and alone may certify it.
    org = models.ForeignKey("orgs.Org", verbose_name=_("organizer"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=RecordKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=RecordSource.choices)
    source_id = models.CharField(_("source reference"), max_length=40, blank=True)
    activity = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="service_records"
    )
    post = models.ForeignKey(
        "activities.Post", null=True, blank=True, on_delete=models.PROTECT, related_name="service_records"
    )
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("the team the person served with, for team totals"),
    )
    category = models.CharField(_("category"), max_length=32, choices=TeamCategory.choices, blank=True)
    content = models.CharField(_("service content"), max_length=200)
    service_date = models.DateField(_("service date"), db_index=True)
    started_at = models.DateTimeField(_("from"), null=True, blank=True)
    ended_at = models.DateTimeField(_("to"), null=True, blank=True)
    minutes = models.IntegerField(_("minutes"))
    # Only for an entry whose interval crosses local midnight: its minutes per local calendar day
    # ({"2026-11-21": 120, "2026-11-22": 120}), so the per-day cap of either day counts its own part.
    # NULL means "all on service_date". A reversal carries the negated split.
    day_minutes = models.JSONField(_("minutes per day"), null=True, blank=True)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-service_date", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "service_date"]),
            models.Index(fields=["org", "service_date"]),
            models.Index(fields=["team", "service_date"]),
        ]
        constraints = [
            # A reversal carries the negative of what it reverses; an ordinary entry is positive.
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, minutes__gt=0) | Q(reverses__isnull=False, minutes__lt=0),
                name="record_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.service_date} {self.minutes} min"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("claim status", "Pending")
    APPROVED = "approved", pgettext_lazy("claim status", "Approved")
    REJECTED = "rejected", pgettext_lazy("claim status", "Rejected")


# A decided claim is final (an approved one became a ledger entry; a correction of that is a reversal).
CLAIM_TRANSITIONS = Transitions(
    ClaimStatus,
    {ClaimStatus.PENDING: {ClaimStatus.APPROVED, ClaimStatus.REJECTED}},
    message=_("This claim has already been decided."),
    code=ErrorCode.ALREADY_DECIDED,
)


class HoursClaim(models.Model):
    """A back-fill (补录): hours entered after the fact, capped at the post's length, approved by someone else."""

    volunteer = models.ForeignKey("people.Volunteer", on_delete=models.PROTECT, related_name="hours_claims")
    post = models.ForeignKey("activities.Post", on_delete=models.PROTECT, related_name="hours_claims")
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"))
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("reason"), max_length=200, blank=True)
    record = models.OneToOneField(ServiceRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="claim")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("back-fill claim")
        verbose_name_plural = _("back-fill claims")
        ordering = ["-created_at", "-id"]


class CorrectionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("correction status", "Open")
    ACCEPTED = "accepted", pgettext_lazy("correction status", "Accepted")
    REJECTED = "rejected", pgettext_lazy("correction status", "Rejected")


CORRECTION_TRANSITIONS = Transitions(
    CorrectionStatus,
    {CorrectionStatus.OPEN: {CorrectionStatus.ACCEPTED, CorrectionStatus.REJECTED}},
    message=_("This request has already been answered."),
    code=ErrorCode.ALREADY_ANSWERED,
)


class CorrectionRequest(models.Model):
    """A volunteer asks the organizer to correct a record; the organizer must answer (accept or reject with why)."""

    record = models.ForeignKey(ServiceRecord, on_delete=models.PROTECT, related_name="correction_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_minutes = models.PositiveIntegerField(_("minutes asked for"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=16, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN, db_index=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-id"]


class CertificateStatus(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("certificate status", "Requested")
    ISSUED = "issued", pgettext_lazy("certificate status", "Issued")
    REFUSED = "refused", pgettext_lazy("certificate status", "Refused")
    REVOKED = "revoked", pgettext_lazy("certificate status", "Revoked")


CERTIFICATE_TRANSITIONS = Transitions(
    CertificateStatus,
    {
        CertificateStatus.REQUESTED: {CertificateStatus.ISSUED, CertificateStatus.REFUSED},
        CertificateStatus.ISSUED: {CertificateStatus.REVOKED},
    },
    message=_("This certificate is %(from)s; it cannot become %(to)s."),
    code=ErrorCode.BAD_STATUS,
)


def new_verification_code() -> str:
    return secrets.token_urlsafe(12)


class Certificate(models.Model):
    """志愿服务记录证明 for a period, issued by the node that organized (and so recorded) the hours.

    The content (name, masked ID, hours, rows of service) is frozen at issue in `content`, so the
    verification page shows exactly what was printed.
    """

    volunteer = models.ForeignKey("people.Volunteer", on_delete=models.PROTECT, related_name="certificates")
    org = models.ForeignKey("orgs.Org", verbose_name=_("issuing organization"), on_delete=models.PROTECT)
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    status = models.CharField(
        _("status"), max_length=16, choices=CertificateStatus.choices, default=CertificateStatus.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    number = models.CharField(_("certificate number"), max_length=32, unique=True, null=True, blank=True)
    verification_code = models.CharField(max_length=32, unique=True, default=new_verification_code, editable=False)
    total_minutes = models.PositiveIntegerField(_("minutes"), default=0)
    content = models.JSONField(_("content"), default=dict, blank=True)
    person_in_charge = models.CharField(_("person in charge"), max_length=50, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    decision_note = models.CharField(_("reason"), max_length=200, blank=True)  # why refused or revoked
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("service certificate")
        verbose_name_plural = _("service certificates")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_to__gte=models.F("period_from")), name="certificate_period_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"
