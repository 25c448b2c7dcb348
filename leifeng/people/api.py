"""/api/v1/people/: schema in → service or selector → schema out. Errors: {"error": {"code", "message", "fields"}}."""

from datetime import date, datetime
from typing import Any

from ninja import Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from leifeng.core.idnumbers import IdType
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.people import selectors, services
from leifeng.people.models import PoliticalStatus, RegistrationChannel, Volunteer

router = Router(tags=["people"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


class CappedPage(Page):
    """core.pagination.Page whose `count` stops at selectors.COUNT_CAP (a million-row COUNT is not free).

    With `count_capped` true, `count` is a lower bound; pages go on as far as there are rows.
    """

    class Output(Schema):
        items: list[Any]
        count: int
        count_capped: bool = False

    def paginate_queryset(self, queryset, pagination, request, **params):
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        n = queryset.order_by()[: selectors.COUNT_CAP + 1].count()
        return {
            "items": queryset[offset : offset + page_size],
            "count": min(n, selectors.COUNT_CAP),
            "count_capped": n > selectors.COUNT_CAP,
        }


class VolunteerIn(Schema):
    """One registration (DESIGN §4 rules 1–4). Anything beyond the required record needs extra_info_consent."""

    org_id: Id
    name: str
    id_type: str = IdType.RIC
    id_number: str
    phone: str
    skills: list[str] = []
    available_times: list[str] = []
    political_status: str = PoliticalStatus.MASSES
    in_service_party_member: bool = False
    unit_id: Id | None = None
    consent: bool = False
    extra_info_consent: bool = False
    email: str = ""
    address: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""
    guardian_consent: bool = False
    birth_date: date | None = None  # only for documents other than the resident ID card
    gender: str = ""  # idem: "m" or "f"

    def to_input(self) -> services.VolunteerInput:
        return services.VolunteerInput(**self.model_dump(exclude={"password"}))


class RegisterIn(VolunteerIn):
    password: str


class RegisterOut(Schema):
    number: str
    status: str


class VolunteerOut(Schema):
    number: str
    name: str
    org_id: int
    org_name: str
    status: str
    id_type: str
    id_masked: str
    gender: str
    birth_date: date | None
    phone: str
    political_status: str
    in_service_party_member: bool
    created_at: datetime

    @staticmethod
    def resolve_org_name(obj: Volunteer) -> str:
        return obj.org.name


class VolunteerDetailOut(VolunteerOut):
    unit_id: int | None
    skills: list[str]
    available_times: list[str]
    email: str
    address: str
    rejection_reason: str
    channel: str
    consent_at: datetime
    extra_info_consent: bool
    guardian_name: str
    guardian_phone: str
    guardian_consent_at: datetime | None
    id_number: str | None = None  # only with ?reveal=true and Perm.VIEW_ID; every reveal is audited

    @staticmethod
    def resolve_skills(obj: Volunteer) -> list[str]:
        return [s.name for s in obj.skills.all()]


class ListQuery(Schema):
    """The list page's filters, with the same names and meaning."""

    q: str = ""
    status: str = ""
    org: Id | None = None
    political_status: str = ""
    in_service_party_member: bool | None = None
    skill: str = ""


class RejectIn(Schema):
    reason: str


class SkillOut(Schema):
    id: int
    name: str


def _detail(volunteer: Volunteer, id_number: str | None = None) -> VolunteerDetailOut:
    out = VolunteerDetailOut.model_validate(volunteer)
    out.id_number = id_number
    return out


@router.post("/volunteers/register", auth=None, response={201: RegisterOut})
def register(request, payload: RegisterIn):
    """Public self-registration: creates the account (log in with the phone number) and waits for approval."""
    data = payload.to_input()
    volunteer = services.volunteer_register(
        actor=request.user, data=data, channel=RegistrationChannel.SELF, password=payload.password
    )
    return Status(201, {"number": volunteer.number, "status": volunteer.status})


@router.post("/volunteers", response={201: VolunteerDetailOut})
def volunteer_create(request, payload: VolunteerIn):
    """Entry by staff into a station of their own subtree (Perm.CHANGE)."""
    volunteer = services.volunteer_register(actor=request.auth, data=payload.to_input())
    return Status(201, _detail(volunteer))


@router.get("/volunteers", response=list[VolunteerOut])
@paginate(CappedPage)
def volunteer_list(request, filters: Query[ListQuery]):
    """Volunteers in the caller's scope, newest first. `q` matches name, pinyin initials, number or phone."""
    params = filters.dict()
    isp = params.pop("in_service_party_member")
    params["in_service_party_member"] = "" if isp is None else str(isp).lower()
    return selectors.volunteer_list(actor=request.auth, filters=selectors.VolunteerFilters.from_params(params))


@router.get("/volunteers/{number}", response=VolunteerDetailOut)
def volunteer_detail(request, number: str, reveal: bool = False):
    """One volunteer; the ID number masked unless `reveal=true` and the caller's role may see it (audited)."""
    volunteer = selectors.volunteer_get(actor=request.auth, number=number)
    id_number = services.volunteer_reveal_id(actor=request.auth, volunteer=volunteer) if reveal else None
    return _detail(volunteer, id_number)


def _decide(request, number: str, action, **kwargs) -> VolunteerDetailOut:
    """404 out of scope, 403 without Perm.APPROVE (the service decides both)."""
    volunteer = selectors.volunteer_get(actor=request.auth, number=number)
    return _detail(action(actor=request.auth, volunteer_id=volunteer.pk, **kwargs))


@router.post("/volunteers/{number}/approve", response=VolunteerDetailOut)
def volunteer_approve(request, number: str):
    return _decide(request, number, services.volunteer_approve)


@router.post("/volunteers/{number}/reject", response=VolunteerDetailOut)
def volunteer_reject(request, number: str, payload: RejectIn):
    """Reject with a reason the applicant sees."""
    return _decide(request, number, services.volunteer_reject, reason=payload.reason)


@router.get("/skills", response=list[SkillOut])
@paginate(Page)
def skill_list(request):
    return selectors.skill_list()
