"""/api/v1/hours/: the service-record ledger; certificates under /api/v1/hours/certificates/ (certificates/api.py)."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.core.errors import NotFound
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.hours import selectors, services, stars
from leifeng.hours.certificates.api import router as certificate_router
from leifeng.hours.models import ClaimStatus, CorrectionStatus, RecordKind, RecordSource
from leifeng.hours.policy import record_policy
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer

router = Router(tags=["hours"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.
router.add_router("/certificates/", certificate_router)


class RecordOut(Schema):
    id: int
    volunteer_id: int
    volunteer_number: str
    volunteer_name: str
    org_id: int
    kind: RecordKind
    source: RecordSource
    activity_id: int | None
    post_id: int | None
    team_id: int | None
    content: str
    service_date: date
    started_at: datetime | None
    ended_at: datetime | None
    minutes: int = Field(..., description="negative for a reversing entry")
    day_minutes: dict[str, int] | None = Field(
        None,
        description="only when the interval crosses local midnight: the minutes per local day (YYYY-MM-DD), "
        "each counted toward that day's cap; null = all on service_date",
    )
    reverses_id: int | None
    reversed: bool = Field(False, description="true when a later entry reverses this one")
    reason: str
    created_at: datetime

    @staticmethod
    def resolve_volunteer_number(obj) -> str:
        return obj.volunteer.number

    @staticmethod
    def resolve_volunteer_name(obj) -> str:
        return obj.volunteer.name

    @staticmethod
    def resolve_reversed(obj) -> bool:
        return hasattr(obj, "reversed_by") and obj.reversed_by is not None


class RecordQuery(Schema):
    volunteer: str | None = Field(None, description="volunteer number")
    org: Id | None = Field(None, description="this node and its subtree")
    activity: Id | None = None
    team: Id | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: RecordKind | None = None


class TotalsOut(Schema):
    minutes: int
    verified_minutes: int
    backfilled_minutes: int


class StarOut(Schema):
    level: int
    verified_hours: Decimal
    next_threshold: int | None
    percent: int


class ClaimIn(Schema):
    post_id: Id
    volunteer_number: str | None = Field(None, description="staff entering for someone; empty = myself")
    started_at: datetime
    ended_at: datetime
    note: str = ""


class ClaimOut(Schema):
    id: int
    volunteer_id: int
    post_id: int
    started_at: datetime
    ended_at: datetime
    minutes: int
    note: str
    status: ClaimStatus
    entered_by_id: int
    decided_by_id: int | None
    decision_note: str
    record_id: int | None


class DecisionIn(Schema):
    approve: bool
    note: str = ""


class CorrectionIn(Schema):
    minutes: int | None = Field(None, ge=0, le=2**31 - 1, description="the minutes you think are right")
    reason: str


class CorrectionOut(Schema):
    id: int
    record_id: int
    requested_minutes: int | None
    reason: str
    status: CorrectionStatus
    answered_by_id: int | None
    answer: str
    created_at: datetime


class AnswerIn(Schema):
    accept: bool
    answer: str = ""
    minutes: int | None = Field(None, ge=0, le=2**31 - 1)


class CorrectIn(Schema):
    minutes: int = Field(..., ge=0, le=2**31 - 1, description="0 only reverses the record")
    reason: str


class CorrectOut(Schema):
    reversal: RecordOut
    new: RecordOut | None


class StatusQuery(Schema):
    activity: Id | None = None
    status: str | None = None


def _filters(request, q: RecordQuery) -> dict:
    out: dict = {"date_from": q.date_from, "date_to": q.date_to, "kind": q.kind}
    if q.volunteer:
        out["volunteer"] = Volunteer.objects.filter(number=q.volunteer).first() or -1
    if q.org is not None:
        org = Org.objects.filter(pk=q.org).first()
        if org is None:
            raise NotFound()
        out["org"] = org
    if q.activity is not None:
        out["activity"] = q.activity
    if q.team is not None:
        out["team"] = q.team
    return out


@router.get("/records", response=list[RecordOut], summary="Ledger entries I may see")
@paginate(Page)
def records(request, filters: Query[RecordQuery]):
    return selectors.record_list(actor=request.user, **_filters(request, filters))


@router.get("/totals", response=TotalsOut, summary="Net minutes for a volunteer, node, team, activity and period")
def totals(request, filters: Query[RecordQuery]):
    """Totals count only entries the caller may see; with no volunteer given, the caller's own volunteer profile
    is used unless a node, team or activity is given."""
    f = _filters(request, filters)
    kind = f.pop("kind", None)
    qs = selectors.record_list(actor=request.user, **f, kind=kind)
    if not any(k in f for k in ("volunteer", "org", "activity", "team")):
        qs = record_policy.own(request.user, qs)
    from django.db.models import Q, Sum
    from django.db.models.functions import Coalesce

    row = qs.order_by().aggregate(
        v=Coalesce(Sum("minutes", filter=Q(kind=RecordKind.VERIFIED)), 0),
        b=Coalesce(Sum("minutes", filter=Q(kind=RecordKind.BACKFILLED)), 0),
    )
    return {"minutes": row["v"] + row["b"], "verified_minutes": row["v"], "backfilled_minutes": row["b"]}


@router.get("/stars/me", response=StarOut, summary="My star level")
def my_star(request):
    volunteer = selectors.my_volunteer(request.user)
    if volunteer is None:
        raise NotFound()
    p = stars.progress(volunteer)
    return {"level": p["level"], "verified_hours": p["hours"], "next_threshold": p["next"], "percent": p["percent"]}


@router.post("/records/{record_id}/correct", response=CorrectOut, summary="Organizer: reverse and re-enter a record")
def correct(request, record_id: Id, payload: CorrectIn):
    reversal, new = services.record_correct(
        actor=request.user, record_id=record_id, minutes=payload.minutes, reason=payload.reason
    )
    return {"reversal": reversal, "new": new}


@router.post("/records/{record_id}/corrections", response={201: CorrectionOut}, summary="Ask for a correction")
def request_correction(request, record_id: Id, payload: CorrectionIn):
    req = services.correction_request(
        actor=request.user, record_id=record_id, minutes=payload.minutes, reason=payload.reason
    )
    return Status(201, req)


@router.get("/corrections", response=list[CorrectionOut], summary="Correction requests (mine, or to answer)")
@paginate(Page)
def corrections(request, filters: Query[StatusQuery]):
    return selectors.correction_list(actor=request.user, activity=filters.activity, status=filters.status)


@router.post("/corrections/{request_id}/answer", response=CorrectionOut, summary="Organizer: answer a request")
def answer(request, request_id: Id, payload: AnswerIn):
    return services.correction_answer(
        actor=request.user, request_id=request_id, accept=payload.accept, answer=payload.answer, minutes=payload.minutes
    )


@router.post("/claims", response={201: ClaimOut}, summary="Back-fill hours for a post")
def create_claim(request, payload: ClaimIn):
    volunteer_id = None
    if payload.volunteer_number:
        v = Volunteer.objects.filter(number=payload.volunteer_number).first()
        volunteer_id = v.pk if v else -1
    claim = services.claim_create(
        actor=request.user,
        post_id=payload.post_id,
        volunteer_id=volunteer_id,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        note=payload.note,
    )
    return Status(201, claim)


@router.get("/claims", response=list[ClaimOut], summary="Back-fill claims (mine, or to decide)")
@paginate(Page)
def claims(request, filters: Query[StatusQuery]):
    return selectors.claim_list(actor=request.user, activity=filters.activity, status=filters.status)


@router.post("/claims/{claim_id}/decision", response=ClaimOut, summary="Approve or reject a back-fill")
def decide(request, claim_id: Id, payload: DecisionIn):
    return services.claim_decide(actor=request.user, claim_id=claim_id, approve=payload.approve, note=payload.note)
