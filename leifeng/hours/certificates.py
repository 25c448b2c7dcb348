"""Service certificates (志愿服务记录证明): services and selectors in one module.

Rules (DESIGN §4 rules 8 and 13):
  * 谁组织谁记录、谁记录谁证明: a certificate is issued by one node and covers only the service
    records whose `org` is that very node (strict: not its descendants' records: each node certifies
    the activities it organized itself);
  * the volunteer (for themselves) or staff with Perm.CHANGE at the volunteer's station or at the
    issuing node may request one; only staff with Perm.CHANGE at the issuing node (or above) may
    issue, refuse or revoke it, and never for their own volunteer profile;
  * at issue the content is frozen (name, ID type, masked ID, volunteer number, period, rows, total
    net of reversals, issuing node, person in charge, handler, contact, number, date, verification
    URL): the PDF and the public verification page show exactly that;
  * zero hours cannot be certified; refusing and revoking need a reason;
  * certificates are free: no fee anywhere.

Certificate number: ZM{year}{node key}{seq:06d}. The node key is the node's administrative division
code when it has one, else "N" followed by its id (6 digits). The sequence is per number prefix, so
two nodes sharing a division code share a counter and numbers stay unique.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, numbers, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.models import AuditEvent
from leifeng.core.scope import Perm
from leifeng.hours.models import CERTIFICATE_TRANSITIONS, Certificate, CertificateStatus, RecordKind, ServiceRecord
from leifeng.orgs.models import Org, Position, PositionTitle
from leifeng.people.models import Volunteer

CERTIFICATE_FIELDS = ["status", "number", "total_minutes", "person_in_charge", "handler", "contact_phone"]
HEAD_TITLES = (PositionTitle.DIRECTOR, PositionTitle.STATION_HEAD)  # 主任 / 站长 sign for the node


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


def _visible_q(actor) -> Q:
    """Staff who see the issuing node or the volunteer's station, and the volunteer themselves."""
    q = scope.q(actor, Perm.VIEW, "org") | scope.q(actor, Perm.VIEW, "volunteer__org")
    if actor is not None and getattr(actor, "is_authenticated", False):
        q |= Q(volunteer__user=actor)
    return q


def _base() -> QuerySet[Certificate]:
    return Certificate.objects.select_related("volunteer", "org", "requested_by", "handler")


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
        qs = _base().filter(volunteer__user=actor) if getattr(actor, "is_authenticated", False) else _base().none()
    elif filters.to_decide:
        qs = scope.scoped(_base(), actor, Perm.CHANGE, "org")
    else:
        qs = _base().filter(_visible_q(actor))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.org_id:
        qs = qs.filter(org_id=filters.org_id)
    return qs.order_by("-requested_at", "-id")


def certificate_get(*, actor, certificate_id: int) -> Certificate:
    """One certificate, if the actor may see it; NotFound otherwise (same as a missing one)."""
    try:
        return _base().filter(_visible_q(actor)).get(pk=certificate_id)
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
    """When the certificate was revoked (from the audit trail: the model keeps no column for it)."""
    if cert.status != CertificateStatus.REVOKED:
        return None
    return (
        AuditEvent.objects.filter(action="certificate.revoke", object_type="hours.certificate", object_id=str(cert.pk))
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )


@dataclass
class Access:
    """What the actor may do with one certificate (the pages show only these buttons)."""

    decide: bool  # issue / refuse / revoke
    download: bool


def certificate_access(*, actor, cert: Certificate) -> Access:
    own = cert.volunteer.user_id is not None and cert.volunteer.user_id == getattr(actor, "pk", None)
    decide = not own and scope.allows(actor, Perm.CHANGE, cert.org)
    return Access(decide=decide, download=cert.status == CertificateStatus.ISSUED)


def verification_url(code: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("hours:certificate_verify", args=[code])


# ---------------------------------------------------------------- services


def _move(cert: Certificate, to: str) -> None:
    if to not in CERTIFICATE_TRANSITIONS[cert.status]:
        raise Conflict(
            _("This certificate is %(status)s; it cannot become %(to)s.")
            % {"status": cert.get_status_display(), "to": CertificateStatus(to).label},
            code="bad_status",
        )
    cert.status = to


def _locked(actor, certificate_id: int) -> Certificate:
    """The certificate under a row lock, after checking the actor may see it (else NotFound)."""
    certificate_get(actor=actor, certificate_id=certificate_id)
    return Certificate.objects.select_for_update().select_related("volunteer", "org").get(pk=certificate_id)


def _check_decider(actor, cert: Certificate) -> None:
    if cert.volunteer.user_id is not None and cert.volunteer.user_id == actor.pk:
        raise PermissionDenied(_("Nobody may certify their own hours."), code="own_certificate")
    if not scope.allows(actor, Perm.CHANGE, cert.org):
        raise PermissionDenied(
            _("Only the organization that organized the service (%(org)s) may certify it.") % {"org": cert.org.name},
            code="not_organizer",
        )


def certificate_request(
    *,
    actor,
    org_id: int | None,
    period_from: date | None,
    period_to: date | None,
    volunteer_number: str | None = None,
    today: date | None = None,
) -> Certificate:
    """Ask `org` for a certificate of the volunteer's hours it recorded in the period.

    Without `volunteer_number` the actor asks for themselves; with it, staff ask for a volunteer of
    their subtree (Perm.CHANGE at the volunteer's station or at the issuing node).
    """
    today = today or timezone.localdate()
    org = Org.objects.filter(pk=org_id).first() if org_id else None
    if volunteer_number:
        volunteer = Volunteer.objects.select_related("org").filter(number=volunteer_number.strip()).first()
        allowed = volunteer is not None and (
            volunteer.user_id == actor.pk
            or scope.allows(actor, Perm.CHANGE, volunteer.org)
            # staff of the issuing node, for someone that node recorded (says nothing about anyone else)
            or (
                org is not None
                and scope.allows(actor, Perm.CHANGE, org)
                and ServiceRecord.objects.filter(volunteer=volunteer, org=org).exists()
            )
        )
        if not allowed:
            raise ValidationError({"volunteer_number": [_("No volunteer with this number in your scope.")]})
    else:
        volunteer = Volunteer.objects.select_related("org").filter(user=actor).first()
        if volunteer is None:
            raise ServiceError(_("Only registered volunteers can ask for a certificate."), code="not_volunteer")

    errors: dict[str, list[str]] = {}
    if period_from is None:
        errors["period_from"] = [_("Give the first day of the period.")]
    if period_to is None:
        errors["period_to"] = [_("Give the last day of the period.")]
    elif period_to > today:
        errors["period_to"] = [_("The period cannot end in the future.")]
    if period_from and period_to and period_from > period_to:
        errors["period_to"] = [_("The end date is before the start date.")]
    if org is None or not ServiceRecord.objects.filter(volunteer=volunteer, org=org).exists():
        errors["org"] = [_("Choose an organization that recorded your service.")]
    if errors:
        raise ValidationError(errors)
    if (
        statement(volunteer_id=volunteer.pk, org_id=org.pk, period_from=period_from, period_to=period_to).total_minutes
        <= 0
    ):
        raise ValidationError(
            {"period_from": [_("%(org)s recorded no service hours in this period.") % {"org": org.name}]}
        )

    with transaction.atomic():
        Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()  # one open request at a time
        if Certificate.objects.filter(
            volunteer=volunteer,
            org=org,
            period_from=period_from,
            period_to=period_to,
            status=CertificateStatus.REQUESTED,
        ).exists():
            raise Conflict(_("The same certificate is already waiting to be issued."), code="duplicate")
        cert = Certificate.objects.create(
            volunteer=volunteer,
            org=org,
            period_from=period_from,
            period_to=period_to,
            requested_by=actor,
        )
        audit.record(
            actor=actor,
            action="certificate.request",
            obj=cert,
            changes={"volunteer": volunteer.number, "period": [str(period_from), str(period_to)]},
        )
    return cert


def _number_for(org: Org, year: int) -> str:
    key = org.division_code or f"N{org.pk:06d}"
    prefix = f"ZM{year}{key}"
    seq = numbers.allocate(f"certificate:{prefix}")[0]
    return f"{prefix}{seq:06d}"


def _head(org: Org) -> Position | None:
    heads = [p for p in Position.objects.filter(org=org, title__in=HEAD_TITLES) if p.person_name]
    heads.sort(key=lambda p: (HEAD_TITLES.index(p.title), p.pk))
    return heads[0] if heads else None


def certificate_issue(
    *,
    actor,
    certificate_id: int,
    person_in_charge: str = "",
    contact_phone: str = "",
    now: datetime | None = None,
) -> Certificate:
    """Issue: freeze the content, give it a number. Only the organizing node (or above), never oneself.

    The person in charge is the node's head (主任 / 站长 from its positions) when recorded, else the
    name given here, else the node's contact person; the contact phone is the one given, else the
    head's, else the node's.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cert = _locked(actor, certificate_id)
        _check_decider(actor, cert)
        before = audit.snapshot(cert, CERTIFICATE_FIELDS)
        _move(cert, CertificateStatus.ISSUED)
        st = statement(
            volunteer_id=cert.volunteer_id, org_id=cert.org_id, period_from=cert.period_from, period_to=cert.period_to
        )
        if st.total_minutes <= 0:
            raise ServiceError(
                _("%(org)s recorded no service hours for %(name)s in this period: there is nothing to certify.")
                % {"org": cert.org.name, "name": cert.volunteer.name},
                code="no_hours",
            )
        head = _head(cert.org)
        person = (head.person_name if head else "") or person_in_charge.strip() or cert.org.contact_name
        phone = contact_phone.strip() or (head.phone if head else "") or cert.org.contact_phone
        if not person:
            raise ValidationError({"person_in_charge": [_("Give the name of the organization's person in charge.")]})
        if not phone:
            raise ValidationError({"contact_phone": [_("Give a contact phone number.")]})
        issued_on = timezone.localdate(now)
        cert.number = _number_for(cert.org, issued_on.year)
        cert.total_minutes = st.total_minutes
        cert.person_in_charge = person[:50]
        cert.contact_phone = phone[:20]
        cert.handler = actor
        cert.issued_at = now
        v = cert.volunteer
        cert.content = {
            "name": v.name,
            "id_type": v.id_type,
            "id_masked": v.id_masked,
            "volunteer_number": v.number,
            "period_from": cert.period_from.isoformat(),
            "period_to": cert.period_to.isoformat(),
            "total_minutes": st.total_minutes,
            "total_hours": hours_text(st.total_minutes),
            "rows": [
                {
                    "date": r.date.isoformat(),
                    "activity": r.activity,
                    "content": r.content,
                    "minutes": r.minutes,
                    "hours": hours_text(r.minutes),
                    "kind": r.kind,
                }
                for r in st.rows
            ],
            "org_name": cert.org.name,
            "person_in_charge": cert.person_in_charge,
            "handler": str(actor),
            "contact_phone": cert.contact_phone,
            "number": cert.number,
            "issued_on": issued_on.isoformat(),
            "verification_url": verification_url(cert.verification_code),
        }
        cert.save()
        audit.record(actor=actor, action="certificate.issue", obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_refuse(*, actor, certificate_id: int, reason: str) -> Certificate:
    """Refuse a request, saying why (the volunteer sees the reason)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        cert = _locked(actor, certificate_id)
        _check_decider(actor, cert)
        if not reason:
            raise ValidationError({"reason": [_("Say why the request is refused.")]})
        before = audit.snapshot(cert, ["status", "decision_note"])
        _move(cert, CertificateStatus.REFUSED)
        cert.decision_note = reason[:200]
        cert.handler = actor
        cert.save(update_fields=["status", "decision_note", "handler"])
        audit.record(actor=actor, action="certificate.refuse", obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_revoke(*, actor, certificate_id: int, reason: str) -> Certificate:
    """Revoke an issued certificate; the verification page then says it is revoked."""
    reason = (reason or "").strip()
    with transaction.atomic():
        cert = _locked(actor, certificate_id)
        _check_decider(actor, cert)
        if not reason:
            raise ValidationError({"reason": [_("Say why the certificate is revoked.")]})
        before = audit.snapshot(cert, ["status", "decision_note"])
        _move(cert, CertificateStatus.REVOKED)
        cert.decision_note = reason[:200]
        cert.save(update_fields=["status", "decision_note"])
        audit.record(actor=actor, action="certificate.revoke", obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_pdf(*, actor, certificate_id: int) -> tuple[Certificate, bytes]:
    """The PDF of an issued certificate, for its volunteer or staff in scope; every download is audited."""
    from leifeng.hours.certificate_pdf import render_pdf

    cert = certificate_get(actor=actor, certificate_id=certificate_id)
    if cert.status != CertificateStatus.ISSUED:
        raise Conflict(_("Only an issued certificate can be downloaded."), code="not_issued")
    pdf = render_pdf(cert)
    audit.record(actor=actor, action="certificate.download", obj=cert)
    return cert, pdf


def minutes_by_kind(rows: list[dict]) -> dict[str, int]:
    """Verified and back-filled minutes of a frozen content's rows (shown apart on the certificate)."""
    out = {RecordKind.VERIFIED.value: 0, RecordKind.BACKFILLED.value: 0}
    for r in rows:
        out[r["kind"]] = out.get(r["kind"], 0) + int(r["minutes"])
    return out
