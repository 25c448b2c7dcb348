"""/api/v1/teams/: teams and memberships. Schema in → service/selector → schema out; out of scope is 404."""

from datetime import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from leifeng.core.errors import PermissionDenied
from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.teams import selectors, services
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamKind, TeamLevel
from leifeng.teams.policy import volunteer_of
from leifeng.teams.selectors import TeamFilters

router = Router(tags=["teams"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.
MaxMembers = Annotated[int, Field(ge=0, le=2**31 - 1)]


class TeamMemberBrief(Schema):
    number: str
    name: str


class TeamOut(Schema):
    id: int
    name: str
    org_id: int
    org_name: str
    parent_id: int | None
    level: TeamLevel
    category: TeamCategory
    kind: TeamKind
    description: str
    leader: TeamMemberBrief | None
    deputy: TeamMemberBrief | None
    max_members: int | None
    is_active: bool
    active_count: int = Field(0, description="Active members")
    pending_count: int = Field(0, description="Open join requests")

    @staticmethod
    def resolve_org_name(obj: Team) -> str:
        return obj.org.name


class TeamIn(Schema):
    org_id: Id
    name: str
    level: TeamLevel = TeamLevel.SQUADRON
    category: TeamCategory = TeamCategory.OTHER
    kind: TeamKind = TeamKind.OPTIONAL
    parent_id: Id | None = None
    description: str = ""
    max_members: MaxMembers | None = None


class TeamPatch(Schema):
    """Only the fields sent change. `leader` / `deputy` take a volunteer number, or null to clear."""

    org_id: Id | None = None
    name: str | None = None
    level: TeamLevel | None = None
    category: TeamCategory | None = None
    kind: TeamKind | None = None
    parent_id: Id | None = None
    description: str | None = None
    max_members: MaxMembers | None = None
    is_active: bool | None = None
    leader: str | None = None
    deputy: str | None = None


class TeamQuery(Schema):
    q: str = ""
    org: Id | None = None
    level: TeamLevel | None = None
    category: TeamCategory | None = None
    kind: TeamKind | None = None


class MembershipOut(Schema):
    id: int
    team_id: int
    volunteer: TeamMemberBrief
    status: MembershipStatus
    message: str
    reason: str
    created_at: datetime
    decided_at: datetime | None


class MembershipQuery(Schema):
    status: MembershipStatus = MembershipStatus.ACTIVE


class MembershipsIn(Schema):
    """Leader or staff: the volunteer numbers to add. A volunteer asking for themselves: no numbers
    (or only their own) and an optional message to the leader."""

    numbers: list[str] = []
    message: str = ""


class RejectIn(Schema):
    reason: str


class RemoveIn(Schema):
    reason: str = ""


def _team(request, team_id: int) -> Team:
    return selectors.team_get(actor=request.user, team_id=team_id)


@router.get("", response=list[TeamOut], summary="List teams")
@paginate(Page)
def list_teams(request, filters: Query[TeamQuery]):
    params = filters.model_dump(exclude_none=True)
    return selectors.team_list(actor=request.user, filters=TeamFilters.from_params(params))


@router.post("", response={201: TeamOut}, summary="Create a team")
def create_team(request, payload: TeamIn):
    team = services.team_create(actor=request.user, data=services.TeamInput(**payload.model_dump()))
    return Status(201, _team(request, team.pk))


@router.get("/{team_id}", response=TeamOut, summary="One team")
def get_team(request, team_id: Id):
    return _team(request, team_id)


@router.patch("/{team_id}", response=TeamOut, summary="Change a team, its leader or deputy")
def update_team(request, team_id: Id, payload: TeamPatch):
    _team(request, team_id)  # 404 first, before saying anything about the payload
    sent = payload.model_dump(exclude_unset=True)
    leaders = {k: sent.pop(k) for k in ("leader", "deputy") if k in sent}
    if sent:
        services.team_update(actor=request.user, team_id=team_id, **sent)
    if leaders:
        services.team_set_leaders(actor=request.user, team_id=team_id, **leaders)
    return _team(request, team_id)


@router.get("/{team_id}/memberships", response=list[MembershipOut], summary="Members (or requests) of a team")
@paginate(Page)
def list_memberships(request, team_id: Id, query: Query[MembershipQuery]):
    team = _team(request, team_id)
    access = selectors.team_access(actor=request.user, team=team)
    allowed = access.view_roster if query.status == MembershipStatus.ACTIVE else access.view_contacts
    if not allowed:
        raise PermissionDenied(_("Only the team's members, leaders and staff see its roster."))
    return selectors.team_memberships(actor=request.user, team=team, status=query.status)


@router.post("/{team_id}/memberships", response={201: list[MembershipOut]}, summary="Add members or ask to join")
def add_memberships(request, team_id: Id, payload: MembershipsIn):
    team = _team(request, team_id)
    access = selectors.team_access(actor=request.user, team=team)
    own = volunteer_of(request.user)
    for_self = own is not None and {n.strip().upper() for n in payload.numbers} <= {own.number}
    if access.decide and payload.numbers:
        return Status(201, services.membership_add(actor=request.user, team_id=team_id, numbers=payload.numbers))
    if for_self:
        return Status(201, [services.membership_request(actor=request.user, team_id=team_id, message=payload.message)])
    if access.decide:
        raise ValidationError({"numbers": [_("Give at least one volunteer number.")]})
    raise PermissionDenied(_("Only the team's leader, deputy or staff may add members."))


@router.post("/{team_id}/memberships/{membership_id}/approve", response=MembershipOut, summary="Approve a request")
def approve_membership(request, team_id: Id, membership_id: Id):
    return services.membership_approve(actor=request.user, team_id=team_id, membership_id=membership_id)


@router.post("/{team_id}/memberships/{membership_id}/reject", response=MembershipOut, summary="Decline a request")
def reject_membership(request, team_id: Id, membership_id: Id, payload: RejectIn):
    return services.membership_reject(
        actor=request.user, team_id=team_id, membership_id=membership_id, reason=payload.reason
    )


@router.post("/{team_id}/memberships/{membership_id}/remove", response=MembershipOut, summary="Remove a member")
def remove_membership(request, team_id: Id, membership_id: Id, payload: RemoveIn | None = None):
    return services.membership_remove(
        actor=request.user, team_id=team_id, membership_id=membership_id, reason=payload.reason if payload else ""
    )


@router.post("/{team_id}/leave", response=MembershipOut, summary="Leave a team or withdraw one's request")
def leave_team(request, team_id: Id):
    return services.membership_leave(actor=request.user, team_id=team_id)
