"""/api/v1/attendance/: check-in/out (with an idempotency key), roll call, duration codes, kiosk tokens.

The check-in endpoint is the hot path of Lei Feng Day (everyone checks in within the same hours): it
runs one service call of a handful of queries; see bench/bench_checkin.py and docs/BENCHMARKS.md.
"""

from datetime import datetime

from django.urls import reverse
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.attendance import selectors, services
from leifeng.attendance.models import Attendance, AttendanceStatus, RollMark
from leifeng.core.errors import NotFound
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.people.models import Volunteer

router = Router(tags=["attendance"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.
# The request key is required: in the body or in the header (OpenAPI cannot say "one of the two", so both say so).
KEY_DOC = (
    "Required request key (idempotency), 1–80 characters: here or in the Idempotency-Key header; "
    "without either the request is refused (400, field `key`)."
)
KEY_HEADER = Header(None, alias="Idempotency-Key", description=KEY_DOC)


class AttendanceOut(Schema):
    id: int
    activity_id: int
    post_id: int
    volunteer_id: int
    volunteer_number: str = ""
    volunteer_name: str = ""
    status: AttendanceStatus
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    method_in: str
    method_out: str
    late: bool
    auto_closed: bool
    minutes: int | None = Field(None, description="Minutes credited in the ledger when the presence closed")

    @staticmethod
    def resolve_minutes(obj: Attendance) -> int | None:
        return obj.record.minutes if obj.record_id else None

    @staticmethod
    def resolve_volunteer_number(obj: Attendance) -> str:
        return obj.volunteer.number if "volunteer" in obj._state.fields_cache else ""

    @staticmethod
    def resolve_volunteer_name(obj: Attendance) -> str:
        return obj.volunteer.name if "volunteer" in obj._state.fields_cache else ""


class CheckIn(Schema):
    token: str = Field(..., description="The token of the kiosk QR code (the `t` parameter of its URL)")
    key: str | None = Field(None, min_length=1, max_length=80, description=KEY_DOC)
    lat: float | None = Field(None, ge=-90, le=90, description="latitude (a number; NaN and infinities are refused)")
    lng: float | None = Field(None, ge=-180, le=180, description="longitude")


class CheckOut(Schema):
    action: str = Field(..., description="in or out")
    replayed: bool = Field(..., description="true when this answers a retry of an earlier request with the same key")
    attendance: AttendanceOut


class CodeIn(Schema):
    code: str
    key: str | None = Field(None, min_length=1, max_length=80, description=KEY_DOC)


class KioskTokenOut(Schema):
    token: str
    url: str
    valid_seconds: int
    rotate_seconds: int


class DurationCodeIn(Schema):
    valid_minutes: int = services.CODE_VALID_MINUTES


class DurationCodeOut(Schema):
    code: str
    post_id: int
    expires_at: datetime


class RollCallIn(Schema):
    volunteer_number: str
    mark: RollMark
    at: datetime | None = Field(None, description="arrival time; default now")


class StaffCheckIn(Schema):
    volunteer_number: str
    at: datetime | None = Field(None, description="when the person really arrived or left; default now")
    reason: str = Field("", description="required when `at` is more than 5 minutes ago")
    key: str | None = Field(None, min_length=1, max_length=80, description=KEY_DOC)


class RosterRow(Schema):
    volunteer_id: int
    volunteer_number: str
    volunteer_name: str
    group: int | None
    mark: str | None
    presence: str | None
    checked_in_at: datetime | None = Field(None, description="when the open presence began (for 代签退)")


class AttendanceQuery(Schema):
    status: AttendanceStatus | None = None
    flagged: bool = False


def _result(r: services.CheckResult) -> dict:
    return {"action": r.action, "replayed": r.replayed, "attendance": r.attendance}


@router.post("/check", response=CheckOut, summary="Check in or out by the kiosk QR code")
def check(request, payload: CheckIn, idempotency_key: str | None = KEY_HEADER):
    """Checks in to the post running now, or out if already in. A retry with the same key returns the first answer."""
    result = services.check(
        actor=request.user,
        token=payload.token,
        key=payload.key or idempotency_key,
        lat=payload.lat,
        lng=payload.lng,
    )
    return _result(result)


@router.post("/duration-code", response=CheckOut, summary="Enter a duration code (时长码)")
def enter_code(request, payload: CodeIn, idempotency_key: str | None = KEY_HEADER):
    return _result(
        services.duration_code_enter(actor=request.user, code=payload.code, key=payload.key or idempotency_key)
    )


@router.get("/activities/{activity_id}/kiosk-token", response=KioskTokenOut, summary="Current kiosk QR token")
def kiosk_token(request, activity_id: Id):
    activity = selectors.activity_for_kiosk(actor=request.user, activity_id=activity_id)
    token = services.kiosk_token(activity)
    return {
        "token": token,
        "url": request.build_absolute_uri(reverse("attendance:scan") + f"?t={token}"),
        "valid_seconds": services.KIOSK_TOKEN_MAX_AGE,
        "rotate_seconds": services.KIOSK_ROTATE_SECONDS,
    }


@router.get("/activities/{activity_id}/attendance", response=list[AttendanceOut], summary="Presences and no-shows")
@paginate(Page)
def activity_attendance(request, activity_id: Id, filters: Query[AttendanceQuery]):
    activity = selectors.activity_for_review(actor=request.user, activity_id=activity_id)
    return selectors.attendance_list(
        actor=request.user, activity=activity, status=filters.status or "", flagged=filters.flagged
    )


@router.get("/mine", response=list[AttendanceOut], summary="My check-ins")
@paginate(Page)
def mine(request):
    return selectors.my_attendance(actor=request.user)


@router.post("/posts/{post_id}/duration-codes", response={201: DurationCodeOut}, summary="Generate a duration code")
def create_code(request, post_id: Id, payload: DurationCodeIn):
    dc = services.duration_code_create(actor=request.user, post_id=post_id, valid_minutes=payload.valid_minutes)
    return Status(201, {"code": dc.code, "post_id": dc.post_id, "expires_at": dc.expires_at})


@router.get("/posts/{post_id}/roll-call", response=list[RosterRow], summary="Roll call: members and their marks")
@paginate(Page)
def roll_call(request, post_id: Id):
    post, only = selectors.post_for_roll_call(actor=request.user, post_id=post_id)
    return [
        {
            "volunteer_id": s.volunteer_id,
            "volunteer_number": s.volunteer.number,
            "volunteer_name": s.volunteer.name,
            "group": s.group.number if s.group_id else None,
            "mark": s.mark,
            "presence": s.presence,
            "checked_in_at": s.checked_in_at,
        }
        for s in selectors.roll_call_roster(post=post, only=only)
    ]


@router.post("/posts/{post_id}/roll-call", response=RosterRow, summary="Mark one member present, late or absent")
def mark(request, post_id: Id, payload: RollCallIn):
    volunteer = Volunteer.objects.filter(number=payload.volunteer_number).first()
    if volunteer is None:
        raise NotFound()
    services.roll_call_mark(
        actor=request.user, post_id=post_id, volunteer_id=volunteer.pk, mark=payload.mark, at=payload.at
    )
    presence = Attendance.objects.filter(post_id=post_id, volunteer=volunteer).order_by("-id").first()
    return {
        "volunteer_id": volunteer.pk,
        "volunteer_number": volunteer.number,
        "volunteer_name": volunteer.name,
        "group": None,
        "mark": payload.mark,
        "presence": presence.status if presence else None,
    }


def _staff_check(request, post_id: int, payload: StaffCheckIn, key: str | None, action: str) -> dict:
    volunteer = Volunteer.objects.filter(number=payload.volunteer_number).first()
    if volunteer is None:
        raise NotFound()
    result = services.staff_check(
        actor=request.user,
        post_id=post_id,
        volunteer_id=volunteer.pk,
        action=action,
        key=payload.key or key,
        at=payload.at,
        reason=payload.reason,
    )
    return _result(result)


@router.post("/posts/{post_id}/staff-check-in", response=CheckOut, summary="Check a person in for them (代签到)")
def staff_check_in(request, post_id: int, payload: StaffCheckIn, idempotency_key: str | None = KEY_HEADER):
    """For someone without a phone: the organizer records their arrival time. A retry with the same key answers
    with the first result."""
    return _staff_check(request, post_id, payload, idempotency_key, "in")


@router.post("/posts/{post_id}/staff-check-out", response=CheckOut, summary="Check a person out for them (代签退)")
def staff_check_out(request, post_id: int, payload: StaffCheckIn, idempotency_key: str | None = KEY_HEADER):
    """Closes the person's presence at `at` and writes the verified service record, as a kiosk check-out does."""
    return _staff_check(request, post_id, payload, idempotency_key, "out")
