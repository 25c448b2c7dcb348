"""/api/v1/hours/certificates/: request, list, detail, issue, refuse, revoke, PDF, and the public check.

Schema in → service/selector → schema out. Out of scope is 404; seen but not allowed is 403.
`GET verify/{code}` needs no authentication and returns only the frozen, ID-masked content.
"""

from datetime import date, datetime

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.hours.certificates import selectors, services
from leifeng.hours.models import Certificate, CertificateStatus

router = Router(tags=["certificates"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


class CertificateOut(Schema):
    id: int
    volunteer_number: str
    volunteer_name: str
    org_id: int
    org_name: str
    period_from: date
    period_to: date
    status: CertificateStatus
    number: str | None
    total_minutes: int
    requested_at: datetime
    issued_at: datetime | None
    revoked_at: datetime | None
    decision_note: str
    verification_url: str | None
    content: dict | None

    @staticmethod
    def resolve_volunteer_number(obj: Certificate) -> str:
        return obj.volunteer.number

    @staticmethod
    def resolve_volunteer_name(obj: Certificate) -> str:
        return obj.volunteer.name

    @staticmethod
    def resolve_org_name(obj: Certificate) -> str:
        return obj.org.name

    @staticmethod
    def resolve_verification_url(obj: Certificate) -> str | None:
        return obj.content.get("verification_url") if obj.number else None

    @staticmethod
    def resolve_content(obj: Certificate) -> dict | None:
        return obj.content or None


class CertificateQuery(Schema):
    status: CertificateStatus | None = None
    org: Id | None = None
    mine: bool = False
    to_decide: bool = False


class RequestIn(Schema):
    """For oneself: no volunteer_number. Staff for a volunteer: their number."""

    org_id: Id
    period_from: date
    period_to: date
    volunteer_number: str | None = None


class IssueIn(Schema):
    person_in_charge: str = ""
    contact_phone: str = ""


class ReasonIn(Schema):
    reason: str


class VerifyOut(Schema):
    genuine: bool
    status: CertificateStatus
    number: str
    issued_on: date
    org_name: str
    revoked_at: datetime | None
    content: dict


def _out(request, certificate_id: int) -> Certificate:
    return selectors.certificate_get(actor=request.user, certificate_id=certificate_id)


@router.get("", response=list[CertificateOut], summary="List certificates (scoped)")
@paginate(Page)
def list_certificates(request, filters: Query[CertificateQuery]):
    return selectors.certificate_list(
        actor=request.user,
        filters=selectors.CertificateFilters(
            status=filters.status or "", org_id=filters.org, mine=filters.mine, to_decide=filters.to_decide
        ),
    )


@router.post("", response={201: CertificateOut}, summary="Ask for a certificate")
def request_certificate(request, payload: RequestIn):
    cert = services.certificate_request(actor=request.user, **payload.model_dump())
    return Status(201, _out(request, cert.pk))


@router.get("/verify/{code}", response=VerifyOut, auth=None, summary="Check a certificate (public)")
def verify_certificate(request, code: str):
    cert = selectors.certificate_verify(code=code)
    return {
        "genuine": cert.status == CertificateStatus.ISSUED,
        "status": cert.status,
        "number": cert.number,
        "issued_on": cert.content["issued_on"],
        "org_name": cert.content["org_name"],
        "revoked_at": selectors.revoked_at(cert),
        "content": cert.content,
    }


@router.get("/{certificate_id}", response=CertificateOut, summary="One certificate")
def get_certificate(request, certificate_id: Id):
    return _out(request, certificate_id)


@router.post("/{certificate_id}/issue", response=CertificateOut, summary="Issue (the organizing node only)")
def issue_certificate(request, certificate_id: Id, payload: IssueIn):
    services.certificate_issue(actor=request.user, certificate_id=certificate_id, **payload.model_dump())
    return _out(request, certificate_id)


@router.post("/{certificate_id}/refuse", response=CertificateOut, summary="Refuse a request, with a reason")
def refuse_certificate(request, certificate_id: Id, payload: ReasonIn):
    services.certificate_refuse(actor=request.user, certificate_id=certificate_id, reason=payload.reason)
    return _out(request, certificate_id)


@router.post("/{certificate_id}/revoke", response=CertificateOut, summary="Revoke an issued certificate")
def revoke_certificate(request, certificate_id: Id, payload: ReasonIn):
    services.certificate_revoke(actor=request.user, certificate_id=certificate_id, reason=payload.reason)
    return _out(request, certificate_id)


PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The A4 certificate",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get("/{certificate_id}/pdf", summary="The certificate as PDF", openapi_extra=PDF_RESPONSE)
def certificate_pdf(request, certificate_id: Id):
    cert, pdf = services.certificate_pdf(actor=request.user, certificate_id=certificate_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response
