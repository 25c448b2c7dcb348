"""Writes about campaigns, activities, posts, sign-ups, groups and reports: keyword-only, atomic, audited.

Rules (DESIGN §4 rules 4–6):
  * campaigns and activities are created and changed by staff with Perm.CHANGE at their org;
  * an activity moves only along ACTIVITY_TRANSITIONS; a risky one publishes only with an insurance
    record covering every day of its posts; back to draft only while nobody holds a sign-up;
  * a volunteer signs up themselves (approved; 14–17 only where minors may join and with a recorded
    guardian consent), inside the recruitment window, for a post of a published activity they can see;
  * a post's quota is never exceeded: a place is claimed with a conditional UPDATE of `Post.filled`
    (filled < quota), which holds the post's row lock to the end of the transaction, else the row is
    locked and counted again (see _take_place); the volunteer row is locked first, so one person's
    concurrent sign-ups queue and the overlap check sees them all (lock order: volunteer → post);
  * nobody holds two active sign-ups (confirmed or waitlisted) whose windows overlap;
  * leaders assign their team members in bulk; each of them may decline later (条例 Art. 25), even after
    the withdrawal deadline, which binds only sign-ups people made themselves;
  * a freed place goes to the first person on the waitlist, audited as `signup.promote`.

Modules: `base` (field lists, the clock, `_for_change` — the one way to a row for a change, through
`activities.policy` —, telling people), `campaigns`, `activities` (and every status move, through
ACTIVITY_TRANSITIONS), `posts`, `signups`, `groups`, `reports`. Codes and audit actions: `activities.codes`."""

from leifeng.activities.services.activities import (
    _auto_move,
    _due_q,
    _set_teams,
    _simple_move,
    _validate_activity,
    activities_advance,
    activity_add_insurance,
    activity_cancel,
    activity_create,
    activity_delete,
    activity_finish,
    activity_publish,
    activity_start,
    activity_unpublish,
    activity_update,
    insurance_gap,
)
from leifeng.activities.services.base import (
    _POLICIES,
    ACTIVITY_FIELDS,
    ADULT_AGE,
    CAMPAIGN_FIELDS,
    HOT_POST_FIELDS,
    MAX_PHOTO_BYTES,
    MAX_PHOTO_SIDE,
    POST_FIELDS,
    _fmt,
    _for_change,
    _now,
    _org_for_change,
    _tell,
)
from leifeng.activities.services.campaigns import (
    CampaignInput,
    PhaseInput,
    _check_phases,
    _shift_dt,
    _validate_campaign,
    campaign_copy,
    campaign_create,
    campaign_delete,
    campaign_set_phases,
    campaign_update,
    default_phases,
    shift_year,
)
from leifeng.activities.services.groups import (
    _group_for_change,
    _leader_key,
    group_move,
    group_set_leader,
    groups_build,
)
from leifeng.activities.services.posts import _set_skills, _validate_post, post_create, post_delete, post_update
from leifeng.activities.services.reports import process_photo, report_add_photo, report_delete_photo, report_file
from leifeng.activities.services.signups import (
    AssignResult,
    _check_eligible,
    _check_overlap,
    _check_skills,
    _d,
    _dt,
    _end,
    _hot_read,
    _locked_post,
    _place,
    _post_for_signup,
    _promote,
    _still_open,
    _take_place,
    age_on,
    signup_assign_many,
    signup_create,
    signup_remove,
    signup_withdraw,
)

__all__ = [
    "CAMPAIGN_FIELDS",
    "ACTIVITY_FIELDS",
    "POST_FIELDS",
    "HOT_POST_FIELDS",
    "ADULT_AGE",
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_SIDE",
    "_now",
    "_org_for_change",
    "_fmt",
    "_POLICIES",
    "_for_change",
    "_tell",
    "CampaignInput",
    "PhaseInput",
    "default_phases",
    "_validate_campaign",
    "_check_phases",
    "campaign_create",
    "campaign_update",
    "campaign_set_phases",
    "campaign_delete",
    "shift_year",
    "_shift_dt",
    "campaign_copy",
    "_validate_activity",
    "_set_teams",
    "activity_create",
    "activity_update",
    "activity_delete",
    "insurance_gap",
    "activity_publish",
    "_simple_move",
    "activity_start",
    "activity_finish",
    "_due_q",
    "_auto_move",
    "activities_advance",
    "activity_unpublish",
    "activity_cancel",
    "activity_add_insurance",
    "_validate_post",
    "_set_skills",
    "post_create",
    "post_update",
    "post_delete",
    "age_on",
    "_check_eligible",
    "_check_skills",
    "_check_overlap",
    "_take_place",
    "_still_open",
    "_place",
    "_post_for_signup",
    "_locked_post",
    "signup_create",
    "_dt",
    "_d",
    "_hot_read",
    "AssignResult",
    "signup_assign_many",
    "_promote",
    "_end",
    "signup_withdraw",
    "signup_remove",
    "_leader_key",
    "groups_build",
    "_group_for_change",
    "group_move",
    "group_set_leader",
    "report_file",
    "process_photo",
    "report_add_photo",
    "report_delete_photo",
]
