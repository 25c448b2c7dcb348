"""Writes of service certificates (志愿服务记录证明): request, issue, refuse, revoke, the audited PDF download.

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

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, numbers
from leifeng.core.errors import Conflict, ServiceError
from leifeng.hours.certificates.selectors import certificate_get, hours_text, statement, verification_url
from leifeng.hours.codes import AuditAction, ErrorCode
from leifeng.hours.models import CERTIFICATE_TRANSITIONS, Certificate, CertificateStatus, ServiceRecord
from leifeng.hours.policy import certificate_policy
from leifeng.orgs.models import Org, Position, PositionTitle
from leifeng.people.models import Volunteer

CERTIFICATE_FIELDS = ["status", "number", "total_minutes", "person_in_charge", "handler", "contact_phone"]
REVOKE_FIELDS = ["status", "decision_note", "revoked_at", "revoked_by"]
HEAD_TITLES = (PositionTitle.DIRECTOR, PositionTitle.STATION_HEAD)  # 主任 / 站长 sign for the node


# ---------------------------------------------------------------- services


def _locked(actor, certificate_id: int) -> Certificate:
    """The certificate under a row lock, after checking the actor may see it (else NotFound)."""
    certificate_get(actor=actor, certificate_id=certificate_id)
    return Certificate.objects.select_for_update().select_related("volunteer", "org").get(pk=certificate_id)


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
        allowed = volunteer is not None and certificate_policy.may_request_for(
            actor,
            volunteer,
            org,
            recorded_there=lambda: ServiceRecord.objects.filter(volunteer=volunteer, org=org).exists(),
        )
        if not allowed:
            raise ValidationError({"volunteer_number": [_("No volunteer with this number in your scope.")]})
    else:
        volunteer = Volunteer.objects.select_related("org").filter(user=actor).first()
        if volunteer is None:
            raise ServiceError(_("Only registered volunteers can ask for a certificate."), code=ErrorCode.NOT_VOLUNTEER)

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
            raise Conflict(_("The same certificate is already waiting to be issued."), code=ErrorCode.DUPLICATE)
        cert = Certificate.objects.create(
            volunteer=volunteer,
            org=org,
            period_from=period_from,
            period_to=period_to,
            requested_by=actor,
        )
        audit.record(
            actor=actor,
            action=AuditAction.CERTIFICATE_REQUEST,
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
        certificate_policy.check_decider(actor, cert)
        before = audit.snapshot(cert, CERTIFICATE_FIELDS)
        CERTIFICATE_TRANSITIONS.move(cert, CertificateStatus.ISSUED)
        st = statement(
            volunteer_id=cert.volunteer_id, org_id=cert.org_id, period_from=cert.period_from, period_to=cert.period_to
        )
        if st.total_minutes <= 0:
            raise ServiceError(
                _("%(org)s recorded no service hours for %(name)s in this period: there is nothing to certify.")
                % {"org": cert.org.name, "name": cert.volunteer.name},
                code=ErrorCode.NO_HOURS,
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
        audit.record(actor=actor, action=AuditAction.CERTIFICATE_ISSUE, obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_refuse(*, actor, certificate_id: int, reason: str) -> Certificate:
    """Refuse a request, saying why (the volunteer sees the reason)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        cert = _locked(actor, certificate_id)
        certificate_policy.check_decider(actor, cert)
        if not reason:
            raise ValidationError({"reason": [_("Say why the request is refused.")]})
        before = audit.snapshot(cert, ["status", "decision_note"])
        CERTIFICATE_TRANSITIONS.move(cert, CertificateStatus.REFUSED)
        cert.decision_note = reason[:200]
        cert.handler = actor
        cert.save(update_fields=["status", "decision_note", "handler"])
        audit.record(actor=actor, action=AuditAction.CERTIFICATE_REFUSE, obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_revoke(*, actor, certificate_id: int, reason: str, now: datetime | None = None) -> Certificate:
    """Revoke an issued certificate; the verification page then says it is revoked, and since when."""
    reason = (reason or "").strip()
    with transaction.atomic():
        cert = _locked(actor, certificate_id)
        certificate_policy.check_decider(actor, cert)
        if not reason:
            raise ValidationError({"reason": [_("Say why the certificate is revoked.")]})
        before = audit.snapshot(cert, REVOKE_FIELDS)
        CERTIFICATE_TRANSITIONS.move(cert, CertificateStatus.REVOKED)
        cert.decision_note = reason[:200]
        cert.revoked_at = now or timezone.now()
        cert.revoked_by = actor
        cert.save(update_fields=["status", "decision_note", "revoked_at", "revoked_by"])
        audit.record(actor=actor, action=AuditAction.CERTIFICATE_REVOKE, obj=cert, changes=audit.diff(before, cert))
    return cert


def certificate_pdf(*, actor, certificate_id: int) -> tuple[Certificate, bytes]:
    """The PDF of an issued certificate, for its volunteer or staff in scope; every download is audited."""
    from leifeng.hours.certificates.pdf import render_pdf

    cert = certificate_get(actor=actor, certificate_id=certificate_id)
    if cert.status != CertificateStatus.ISSUED:
        raise Conflict(_("Only an issued certificate can be downloaded."), code=ErrorCode.NOT_ISSUED)
    pdf = render_pdf(cert)
    audit.record(actor=actor, action=AuditAction.CERTIFICATE_DOWNLOAD, obj=cert)
    return cert, pdf
