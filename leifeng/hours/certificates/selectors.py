"""Reads of certificates (志愿服务记录证明): the statement of hours a node may certify, lists, the public check.

Who sees a certificate is `hours.policy.certificate_policy` (staff who see the issuing node or the volunteer's
station, and the volunteer); the statement counts only the records of the very node that issues
(谁组织谁记录、谁记录谁证明), net of reversals.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _

from leifeng.core.errors import NotFound
from leifeng.hours.models import Certificate, CertificateStatus, RecordKind, ServiceRecord
from leifeng.hours.policy import certificate_policy
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer

# ---------------------------------------------------------------- hours from the ledger


@dataclass
class Row:
    """One line of service on a certificate: an original record net of its reversal."""

    date: date
    activity: str
    content: str
    minutes: int
    kind: str


@dataclass
class Statement:
    rows: list[Row] = field(default_factory=list)

    @property
    def total_minutes(self) -> int:
        return sum(r.minutes for r in self.rows)


def hours_text(minutes: int) -> str:
    """Minutes as hours the way a certificate prints them: 90 → "1.5", 100 → "1.67", 120 → "2"."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def statement(*, volunteer_id: int, org_id: int, period_from: date, period_to: date) -> Statement:
    """The volunteer's service recorded by this very node in the period, net of reversals (one query).

    A correction is a reversing entry plus a new one: the original nets to zero and drops out, the new
    entry (a positive record) appears as its own row. Rows are by the original's service date.
    """
    qs = (
        ServiceRecord.objects.filter(
            volunteer_id=volunteer_id,
            org_id=org_id,
            reverses__isnull=True,
            service_date__gte=period_from,
            service_date__lte=period_to,
        )
        .annotate(net=F("minutes") + Coalesce(F("reversed_by__minutes"), Value(0)))
        .select_related("activity")
        .order_by("service_date", "started_at", "id")
    )
    rows = [
        Row(
            date=r.service_date,
            activity=r.activity.title if r.activity_id else "",
            content=r.content,
            minutes=r.net,
            kind=r.kind,
        )
        for r in qs
        if r.net > 0
    ]
    return Statement(rows=rows)


def certifying_orgs(*, volunteer: Volunteer) -> QuerySet[Org]:
    """The nodes that recorded service for this volunteer: the only ones that can certify it."""
    org_ids = ServiceRecord.objects.filter(volunteer=volunteer).values("org_id")
    return Org.objects.filter(pk__in=org_ids).order_by("path")


# ---------------------------------------------------------------- selectors


def _base() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("volunteer", "org", "requested_by", "handler", "revoked_by")


@dataclass
class CertificateFilters:
    status: str = ""
    mine: bool = False  # only the actor's own certificates (the volunteer's page)
    to_decide: bool = False  # only those the actor may issue (Perm.CHANGE at the issuing node)
    org_id: int | None = None

    @classmethod
    def from_params(cls, params) -> "CertificateFilters":
        status = str(params.get("status") or "").strip()
        org_raw = str(params.get("org") or "").strip()
        return cls(
            status=status if status in CertificateStatus.values else "",
            org_id=int(org_raw) if org_raw.isdigit() else None,
        )


def certificate_list(*, actor, filters: CertificateFilters | None = None) -> QuerySet[Certificate]:
    """Certificates the actor may see, newest request first (one query, whatever the page size)."""
    filters = filters or CertificateFilters()
    if filters.mine:
        qs = certificate_policy.own(actor, _base())
    elif filters.to_decide:
        qs = certificate_policy.to_decide(actor, _base())
    else:
        qs = certificate_policy.seen(actor, _base())
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.org_id:
        qs = qs.filter(org_id=filters.org_id)
    return qs.order_by("-requested_at", "-id")


def certificate_get(*, actor, certificate_id: int) -> Certificate:
    """One certificate, if the actor may see it; NotFound otherwise (same as a missing one)."""
    try:
        return certificate_policy.seen(actor, _base()).get(pk=certificate_id)
    except (Certificate.DoesNotExist, ValueError, TypeError):
        raise NotFound from None


def certificate_verify(*, code: str) -> Certificate:
    """The public check: an issued or revoked certificate by its code; anything else is NotFound."""
    cert = (
        Certificate.objects.select_related("org")
        .filter(
            verification_code=str(code)[:32],
            status__in=[CertificateStatus.ISSUED, CertificateStatus.REVOKED],
        )
        .first()
    )
    if cert is None:
        raise NotFound(_("No such certificate."))
    return cert


def revoked_at(cert: Certificate) -> datetime | None:
    """When the certificate was revoked (set by `certificate_revoke`; None while it is not revoked)."""
    return cert.revoked_at if cert.status == CertificateStatus.REVOKED else None


@dataclass
class Access:
    """What the actor may do with one certificate (the pages show only these buttons)."""

    decide: bool  # issue / refuse / revoke
    download: bool


def certificate_access(*, actor, cert: Certificate) -> Access:
    return Access(decide=certificate_policy.may_decide(actor, cert), download=cert.status == CertificateStatus.ISSUED)


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("hours:certificate_verify", args=[code])


def minutes_by_kind(rows: list[dict]) -> dict[str, int]:
    """Verified and back-filled minutes of a frozen content's rows (shown apart on the certificate)."""
    out = {RecordKind.VERIFIED.value: 0, RecordKind.BACKFILLED.value: 0}
    for r in rows:
        out[r["kind"]] = out.get(r["kind"], 0) + int(r["minutes"])
    return out
