"""/api/v1/activities/: campaigns, activities, posts, sign-ups, roster, groups, reports.

Schema in → service/selector → schema out; out of scope is 404; every list is paginated.
`POST /posts/{id}/signups` is on the hot path (load-tested at 64 clients): it runs the service and
answers from the row the service returns, with no further reads.
"""

from django.http import Http404
from ninja import File, Form, Query, Router, Status, UploadedFile
from ninja.pagination import paginate

from leifeng.activities import selectors, services
from leifeng.activities.api.schemas import (
    ActivityDetail,
    ActivityIn,
    ActivityOut,
    ActivityPatch,
    ActivityQuery,
    AssignIn,
    AssignOut,
    CampaignDetail,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CopyIn,
    GroupOut,
    Id,
    InsuranceIn,
    InsuranceOut,
    LeaderIn,
    MoveIn,
    MyShift,
    PhasesIn,
    PhotoOut,
    PostIn,
    PostPatch,
    PostWithSkillsOut,
    ReasonIn,
    ReportIn,
    ReportOut,
    RosterPostOut,
    SignupOut,
    SignupRow,
    Year,
)
from leifeng.activities.models import (
    ActivityReport,
    ActivityStatus,
    Signup,
    SignupGroup,
    SignupStatus,
)
from leifeng.activities.selectors import ActivityFilters
from leifeng.core.errors import NotFound
from leifeng.core.pagination import Page

router = Router(tags=["activities"])


# ---------------------------------------------------------------- helpers


def _group_out(g: SignupGroup, members: list[int]) -> dict:
    return {"id": g.pk, "post_id": g.post_id, "number": g.number, "leader_id": g.leader_id, "member_ids": members}


def _campaign_detail(request, campaign_id: int) -> dict:
    c = selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    f = selectors.campaign_figures(campaign=c)
    out = CampaignOut.from_orm(c).dict()
    out["phases"] = list(c.phases.values("name", "starts_on", "ends_on", "description"))
    out["unit_ids"] = list(c.units.values_list("pk", flat=True))
    out["figures"] = {"activities": f.activities, "people": f.people, "hours": f.hours}
    return out


def _activity_detail(request, activity_id: int):
    a = selectors.activity_get(actor=request.user, activity_id=activity_id)
    if a.status == ActivityStatus.DRAFT and not selectors.activity_access(actor=request.user, activity=a).view_roster:
        raise Http404
    a.posts_list = selectors.activity_posts(activity=a)
    return a


def _phases(items) -> list[services.PhaseInput] | None:
    if items is None:
        return None
    return [services.PhaseInput(p.name, p.starts_on, p.ends_on, p.description) for p in items]


# ---------------------------------------------------------------- campaigns


@router.get("/campaigns", response=list[CampaignOut], summary="List campaigns")
@paginate(Page)
def list_campaigns(request, q: str = "", year: Year | None = None):
    return selectors.campaign_list(actor=request.user, q=q, year=year)


@router.post("/campaigns", response={201: CampaignDetail}, summary="Create a campaign (default phases unless given)")
def create_campaign(request, payload: CampaignIn):
    data = payload.dict()
    phases = _phases(payload.phases)
    data.pop("phases")
    c = services.campaign_create(actor=request.user, data=services.CampaignInput(**data), phases=phases)
    return Status(201, _campaign_detail(request, c.pk))


@router.get("/campaigns/{campaign_id}", response=CampaignDetail, summary="One campaign with phases and figures")
def get_campaign(request, campaign_id: Id):
    return _campaign_detail(request, campaign_id)


@router.patch("/campaigns/{campaign_id}", response=CampaignDetail, summary="Change a campaign")
def update_campaign(request, campaign_id: Id, payload: CampaignPatch):
    selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    sent = payload.dict(exclude_unset=True)
    unit_ids = sent.pop("unit_ids", None)
    services.campaign_update(actor=request.user, campaign_id=campaign_id, unit_ids=unit_ids, **sent)
    return _campaign_detail(request, campaign_id)


@router.delete("/campaigns/{campaign_id}", response={204: None}, summary="Delete a campaign without activities")
def delete_campaign(request, campaign_id: Id):
    selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    services.campaign_delete(actor=request.user, campaign_id=campaign_id)
    return Status(204, None)


@router.put("/campaigns/{campaign_id}/phases", response=CampaignDetail, summary="Replace the phases")
def set_phases(request, campaign_id: Id, payload: PhasesIn):
    selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    services.campaign_set_phases(actor=request.user, campaign_id=campaign_id, phases=_phases(payload.phases))
    return _campaign_detail(request, campaign_id)


@router.post("/campaigns/{campaign_id}/copy", response={201: CampaignDetail}, summary="Copy to another year")
def copy_campaign(request, campaign_id: Id, payload: CopyIn):
    selectors.campaign_get(actor=request.user, campaign_id=campaign_id)
    c = services.campaign_copy(
        actor=request.user, campaign_id=campaign_id, year=payload.year, with_activities=payload.with_activities
    )
    return Status(201, _campaign_detail(request, c.pk))


# ---------------------------------------------------------------- activities


@router.get("", response=list[ActivityOut], summary="Activities of the actor's subtree (organizers)")
@paginate(Page)
def list_activities(request, filters: Query[ActivityQuery]):
    params = {k: v for k, v in filters.dict().items() if v not in (None, "", False)}
    return selectors.activity_list(actor=request.user, filters=ActivityFilters.from_params(params))


@router.get("/find", response=list[ActivityOut], summary="Open activities a volunteer may sign up for")
@paginate(Page)
def find_activities(request, filters: Query[ActivityQuery]):
    params = {k: v for k, v in filters.dict().items() if v not in (None, "", False)}
    if filters.near:
        params["near"] = "1"
    return selectors.activity_find(actor=request.user, filters=ActivityFilters.from_params(params))


@router.post("", response={201: ActivityDetail}, summary="Create a draft activity (with posts)")
def create_activity(request, payload: ActivityIn):
    data = payload.dict(exclude_unset=True)
    posts = data.pop("posts", [])
    team_ids = data.pop("team_ids", None)
    org_id = data.pop("org_id")
    a = services.activity_create(actor=request.user, org_id=org_id, team_ids=team_ids, **data)
    for p in posts:
        services.post_create(actor=request.user, activity_id=a.pk, **p)
    return Status(201, _activity_detail(request, a.pk))


@router.get("/{activity_id}", response=ActivityDetail, summary="One activity with its posts")
def get_activity(request, activity_id: Id):
    return _activity_detail(request, activity_id)


@router.patch("/{activity_id}", response=ActivityDetail, summary="Change an activity")
def update_activity(request, activity_id: Id, payload: ActivityPatch):
    _activity_detail(request, activity_id)
    sent = payload.dict(exclude_unset=True)
    team_ids = sent.pop("team_ids", None)
    services.activity_update(actor=request.user, activity_id=activity_id, team_ids=team_ids, **sent)
    return _activity_detail(request, activity_id)


@router.delete("/{activity_id}", response={204: None}, summary="Delete a draft nobody signed up for")
def delete_activity(request, activity_id: Id):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    services.activity_delete(actor=request.user, activity_id=activity_id)
    return Status(204, None)


def _transition(request, activity_id: int, fn, **kw):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    fn(actor=request.user, activity_id=activity_id, **kw)
    return _activity_detail(request, activity_id)


@router.post("/{activity_id}/publish", response=ActivityDetail, summary="Draft → published")
def publish(request, activity_id: Id):
    return _transition(request, activity_id, services.activity_publish)


@router.post("/{activity_id}/start", response=ActivityDetail, summary="Published → in progress")
def start(request, activity_id: Id):
    return _transition(request, activity_id, services.activity_start)


@router.post("/{activity_id}/finish", response=ActivityDetail, summary="In progress → finished")
def finish(request, activity_id: Id):
    return _transition(request, activity_id, services.activity_finish)


@router.post("/{activity_id}/unpublish", response=ActivityDetail, summary="Published → draft (nobody signed up)")
def unpublish(request, activity_id: Id):
    return _transition(request, activity_id, services.activity_unpublish)


@router.post("/{activity_id}/cancel", response=ActivityDetail, summary="Cancel, withdrawing every sign-up")
def cancel(request, activity_id: Id, payload: ReasonIn):
    return _transition(request, activity_id, services.activity_cancel, reason=payload.reason)


@router.post("/{activity_id}/insurance", response={201: InsuranceOut}, summary="Record an insurance policy")
def add_insurance(request, activity_id: Id, payload: InsuranceIn):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    ins = services.activity_add_insurance(actor=request.user, activity_id=activity_id, **payload.dict())
    return Status(201, ins)


# ---------------------------------------------------------------- posts


@router.get("/{activity_id}/posts", response=list[PostWithSkillsOut], summary="Posts of an activity")
@paginate(Page)
def list_posts(request, activity_id: Id):
    return _activity_detail(request, activity_id).posts_list


@router.post("/{activity_id}/posts", response={201: PostWithSkillsOut}, summary="Add a post")
def create_post(request, activity_id: Id, payload: PostIn):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    return Status(201, services.post_create(actor=request.user, activity_id=activity_id, **payload.dict()))


@router.patch("/posts/{post_id}", response=PostWithSkillsOut, summary="Change a post")
def update_post(request, post_id: Id, payload: PostPatch):
    return services.post_update(actor=request.user, post_id=post_id, **payload.dict(exclude_unset=True))


@router.delete("/posts/{post_id}", response={204: None}, summary="Delete a post nobody signed up for")
def delete_post(request, post_id: Id):
    services.post_delete(actor=request.user, post_id=post_id)
    return Status(204, None)


# ---------------------------------------------------------------- sign-ups


@router.post("/posts/{post_id}/signups", response={201: SignupOut}, summary="Sign myself up for a post")
def sign_up(request, post_id: Id):
    return Status(201, services.signup_create(actor=request.user, post=post_id))


@router.post("/posts/{post_id}/assign", response=list[AssignOut], summary="A leader signs up team members")
def assign(request, post_id: Id, payload: AssignIn):
    results = services.signup_assign_many(
        actor=request.user, post=post_id, team_id=payload.team_id, numbers=payload.numbers
    )
    return [{"volunteer": r.volunteer, "signup": r.signup, "reason": r.reason} for r in results]


@router.get("/signups/mine", response=list[MyShift], summary="My shifts (coming, or past with ?past=true)")
@paginate(Page)
def my_shifts(request, past: bool = False):
    return selectors.my_shifts(actor=request.user, past=past)


@router.post("/signups/{signup_id}/withdraw", response=SignupOut, summary="Withdraw my sign-up")
def withdraw(request, signup_id: Id):
    return services.signup_withdraw(actor=request.user, signup_id=signup_id)


@router.post("/signups/{signup_id}/remove", response=SignupOut, summary="Organizer removes a sign-up")
def remove(request, signup_id: Id, payload: ReasonIn):
    return services.signup_remove(actor=request.user, signup_id=signup_id, reason=payload.reason)


@router.get("/{activity_id}/roster", response=list[RosterPostOut], summary="Roster: posts, sign-ups, groups")
@paginate(Page)
def roster(request, activity_id: Id):
    a = selectors.activity_get(actor=request.user, activity_id=activity_id)
    out = []
    for entry in selectors.activity_roster(actor=request.user, activity=a):
        out.append(
            {
                "post": entry.post,
                "confirmed": entry.confirmed,
                "waitlisted": entry.waitlisted,
                "groups": [_group_out(g, [s.volunteer_id for s in g.member_list]) for g in entry.groups],
            }
        )
    return out


# ---------------------------------------------------------------- groups


@router.post("/posts/{post_id}/groups", response=list[GroupOut], summary="Build groups (re-run safe)")
def build_groups(request, post_id: Id):
    groups = services.groups_build(actor=request.user, post_id=post_id)
    members: dict[int, list[int]] = {g.pk: [] for g in groups}
    for gid, vid in Signup.objects.filter(group__in=groups, status=SignupStatus.CONFIRMED).values_list(
        "group_id", "volunteer_id"
    ):
        members[gid].append(vid)
    return [_group_out(g, members[g.pk]) for g in groups]


@router.post("/signups/{signup_id}/group", response=SignupRow, summary="Move someone to another group")
def move(request, signup_id: Id, payload: MoveIn):
    s = services.group_move(actor=request.user, signup_id=signup_id, group_id=payload.group_id)
    return s


@router.post("/groups/{group_id}/leader", response=GroupOut, summary="Choose a group's leader")
def set_leader(request, group_id: Id, payload: LeaderIn):
    g = services.group_set_leader(actor=request.user, group_id=group_id, volunteer_id=payload.volunteer_id)
    return _group_out(g, list(g.members.filter(status=SignupStatus.CONFIRMED).values_list("volunteer_id", flat=True)))


# ---------------------------------------------------------------- reports


def _report_out(request, activity_id: int) -> dict:
    a = selectors.activity_get(actor=request.user, activity_id=activity_id)
    report = ActivityReport.objects.filter(activity=a).prefetch_related("photos").first()
    if report is None:
        raise NotFound()
    att = selectors.activity_attendance(activity=a)
    return {
        "activity_id": a.pk,
        "summary": report.summary,
        "photos": [
            {"id": p.pk, "url": p.image.url, "caption": p.caption, "width": p.width, "height": p.height}
            for p in report.photos.all()
        ],
        "attendance": {
            "confirmed": att.confirmed,
            "people_served": att.people_served,
            "hours": att.hours,
            "verified_hours": round(att.verified_minutes / 60, 1),
        },
    }


@router.get("/{activity_id}/report", response=ReportOut, summary="The activity's report with ledger figures")
def get_report(request, activity_id: Id):
    return _report_out(request, activity_id)


@router.put("/{activity_id}/report", response=ReportOut, summary="File or rewrite the report")
def file_report(request, activity_id: Id, payload: ReportIn):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    services.report_file(actor=request.user, activity_id=activity_id, summary=payload.summary)
    return _report_out(request, activity_id)


@router.post("/{activity_id}/report/photos", response={201: PhotoOut}, summary="Add a photo (multipart)")
def add_photo(request, activity_id: Id, image: File[UploadedFile], caption: Form[str] = ""):
    selectors.activity_get(actor=request.user, activity_id=activity_id)
    p = services.report_add_photo(actor=request.user, activity_id=activity_id, upload=image, caption=caption)
    return Status(201, {"id": p.pk, "url": p.image.url, "caption": p.caption, "width": p.width, "height": p.height})
