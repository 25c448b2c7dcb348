"""The schemas of /api/v1/activities/ (in and out)."""

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from leifeng.activities.models import (
    ActivityCategory,
    ActivityStatus,
    Post,
    Signup,
    SignupStatus,
    Visibility,
)
from leifeng.core.schemas import Id

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.
# A calendar year Python's dates can hold: a larger one is a 422 naming the field, not a crash in the query.
Year = Annotated[int, Field(ge=1, le=9999)]
# A count or size stored in an integer column.
Quota = Annotated[int, Field(ge=0, le=2**31 - 1)]


class PhaseSchema(Schema):
    name: str
    starts_on: date
    ends_on: date
    description: str = ""


class CampaignOut(Schema):
    id: int
    org_id: int
    title: str
    theme: str
    starts_on: date
    ends_on: date
    guidance: str
    requirements: str
    leading_group_id: int | None
    copied_from_id: int | None
    activity_count: int | None = None


class CampaignDetail(CampaignOut):
    phases: list[PhaseSchema]
    unit_ids: list[int]
    figures: dict


class CampaignIn(Schema):
    org_id: Id
    title: str
    starts_on: date
    ends_on: date
    theme: str = ""
    guidance: str = ""
    requirements: str = ""
    leading_group_id: Id | None = None
    unit_ids: list[Id] = []
    phases: list[PhaseSchema] | None = None


class CampaignPatch(Schema):
    """What is left out stays; the NOT NULL columns take no explicit null (a 422 naming the field)."""

    org_id: Id = None
    title: str = None
    theme: str = None
    starts_on: date = None
    ends_on: date = None
    guidance: str = None
    requirements: str = None
    leading_group_id: Id | None = None
    unit_ids: list[Id] | None = None


class PhasesIn(Schema):
    phases: list[PhaseSchema]


class CopyIn(Schema):
    year: Year
    with_activities: bool = True


class PostOut(Schema):
    id: int
    activity_id: int
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    quota: int
    filled: int
    places_left: int

    @staticmethod
    def resolve_places_left(obj: Post) -> int:
        return max(obj.quota - obj.filled, 0)


class SkillOut(Schema):
    id: int
    name: str


class PostWithSkillsOut(PostOut):
    """A post with the skills a volunteer needs to sign up (from the prefetch of selectors.activity_posts)."""

    skills: list[SkillOut]

    @staticmethod
    def resolve_skills(obj: Post) -> list:
        return list(obj.skills.all())


class PostIn(Schema):
    title: str
    starts_at: datetime
    ends_at: datetime
    quota: Quota
    description: str = ""
    skill_ids: list[Id] | None = None


class PostPatch(Schema):
    """What is left out stays; the NOT NULL columns take no explicit null (a 422 naming the field)."""

    title: str = None
    starts_at: datetime = None
    ends_at: datetime = None
    quota: Quota = None
    description: str = None
    skill_ids: list[Id] | None = None


class ActivityOut(Schema):
    id: int
    org_id: int
    campaign_id: int | None
    title: str
    category: ActivityCategory
    status: ActivityStatus
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    visibility: Visibility
    quota_total: int | None = None
    filled_total: int | None = None


class ActivityDetail(ActivityOut):
    description: str
    lead_unit_id: int | None
    geofence_m: int | None
    minors_allowed: bool
    risky: bool
    supplies: str
    safety_notes: str
    contact_name: str
    contact_phone: str
    signup_opens_at: datetime | None
    signup_closes_at: datetime | None
    withdraw_deadline: datetime | None
    group_size: int
    published_at: datetime | None
    cancel_reason: str
    posts: list[PostWithSkillsOut]

    @staticmethod
    def resolve_posts(obj) -> list:
        return obj.posts_list


class ActivityFields(Schema):
    """Only what is sent counts (left out = unchanged). A field typed without `| None` is a NOT NULL column: an
    explicit null is a 422 naming it; the `| None` ones the service refuses or clears itself."""

    campaign_id: Id | None = None
    title: str | None = None
    category: ActivityCategory | None = None
    description: str = None
    lead_unit_id: Id | None = None
    address: str | None = None
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)
    geofence_m: Quota | None = None
    minors_allowed: bool = None
    risky: bool = None
    supplies: str = None
    safety_notes: str = None
    contact_name: str = None
    contact_phone: str = None
    visibility: Visibility | None = None
    signup_opens_at: datetime | None = None
    signup_closes_at: datetime | None = None
    withdraw_deadline: datetime | None = None
    group_size: Quota | None = None
    team_ids: list[Id] | None = None


class ActivityIn(ActivityFields):
    org_id: Id
    title: str
    category: ActivityCategory
    address: str
    posts: list[PostIn] = []


class ActivityPatch(ActivityFields):
    org_id: Id | None = None


class ActivityQuery(Schema):
    q: str = ""
    category: ActivityCategory | None = None
    status: ActivityStatus | None = None
    date: dt.date | None = None
    campaign: Id | None = None
    near: bool = False


class ReasonIn(Schema):
    reason: str


class InsuranceIn(Schema):
    insurer: str
    policy_number: str
    covers_from: date
    covers_to: date
    insured_count: Quota | None = None


class InsuranceOut(Schema):
    id: int
    insurer: str
    policy_number: str
    covers_from: date
    covers_to: date


class SignupOut(Schema):
    id: int
    post_id: int
    status: SignupStatus
    starts_at: datetime
    ends_at: datetime


class VolunteerBrief(Schema):
    id: int
    number: str
    name: str


class SignupRow(Schema):
    id: int
    post_id: int
    status: SignupStatus
    volunteer: VolunteerBrief
    group_id: int | None
    assigned: bool
    note: str
    created_at: datetime

    @staticmethod
    def resolve_assigned(obj: Signup) -> bool:
        return obj.assigned_by_id is not None


class MyShift(Schema):
    id: int
    status: SignupStatus
    starts_at: datetime
    ends_at: datetime
    post_id: int
    post_title: str
    activity_id: int
    activity_title: str
    address: str
    group_number: int | None

    @staticmethod
    def resolve_post_title(obj: Signup) -> str:
        return obj.post.title

    @staticmethod
    def resolve_activity_id(obj: Signup) -> int:
        return obj.post.activity_id

    @staticmethod
    def resolve_activity_title(obj: Signup) -> str:
        return obj.post.activity.title

    @staticmethod
    def resolve_address(obj: Signup) -> str:
        return obj.post.activity.address

    @staticmethod
    def resolve_group_number(obj: Signup) -> int | None:
        return obj.group.number if obj.group else None


class AssignIn(Schema):
    team_id: Id
    numbers: list[str] | None = None


class AssignOut(Schema):
    volunteer: VolunteerBrief
    signup: SignupOut | None
    reason: str


class GroupOut(Schema):
    id: int
    post_id: int
    number: int
    leader_id: int | None
    member_ids: list[int]


class RosterPostOut(Schema):
    post: PostOut
    confirmed: list[SignupRow]
    waitlisted: list[SignupRow]
    groups: list[GroupOut]


class MoveIn(Schema):
    group_id: Id


class LeaderIn(Schema):
    volunteer_id: Id


class ReportIn(Schema):
    summary: str


class PhotoOut(Schema):
    id: int
    url: str
    caption: str
    width: int
    height: int


class ReportOut(Schema):
    activity_id: int
    summary: str
    photos: list[PhotoOut]
    attendance: dict
