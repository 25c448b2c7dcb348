"""The activities app's error codes and audit actions (Saleor's `error_codes.py`).

Both are part of the API and of the audit log: clients branch on a code, reports filter on an action, so a value
never changes once published. Generic codes (invalid, not_found, invalid_transition, ...) live in
`leifeng.core.errors.ErrorCode`.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    # campaigns, activities, posts
    UNKNOWN_FIELD = "unknown_field"
    HAS_ACTIVITIES = "has_activities"
    NOT_DELETABLE = "not_deletable"
    NO_POSTS = "no_posts"
    INSURANCE_REQUIRED = "insurance_required"
    HAS_SIGNUPS = "has_signups"
    CLOSED = "closed"
    # sign-ups
    NOT_A_VOLUNTEER = "not_a_volunteer"
    NOT_APPROVED = "not_approved"
    NOT_PUBLISHED = "not_published"
    POST_STARTED = "post_started"
    SIGNUP_NOT_OPEN = "signup_not_open"
    SIGNUP_CLOSED = "signup_closed"
    TOO_YOUNG = "too_young"
    MINORS_NOT_ALLOWED = "minors_not_allowed"
    GUARDIAN_CONSENT_MISSING = "guardian_consent_missing"
    SKILLS_MISSING = "skills_missing"
    ALREADY_SIGNED_UP = "already_signed_up"
    OVERLAP = "overlap"
    TEAM_NOT_INVITED = "team_not_invited"
    NOT_ACTIVE = "not_active"
    WITHDRAW_CLOSED = "withdraw_closed"
    # groups
    NOT_CONFIRMED = "not_confirmed"
    GROUP_FULL = "group_full"
    # reports
    NOT_HELD = "not_held"
    NO_REPORT = "no_report"


class AuditAction(StrEnum):
    CAMPAIGN_CREATE = "campaign.create"
    CAMPAIGN_UPDATE = "campaign.update"
    CAMPAIGN_SET_PHASES = "campaign.set_phases"
    CAMPAIGN_DELETE = "campaign.delete"
    CAMPAIGN_COPY = "campaign.copy"
    ACTIVITY_CREATE = "activity.create"
    ACTIVITY_UPDATE = "activity.update"
    ACTIVITY_DELETE = "activity.delete"
    ACTIVITY_PUBLISH = "activity.publish"
    ACTIVITY_START = "activity.start"
    ACTIVITY_FINISH = "activity.finish"
    ACTIVITY_UNPUBLISH = "activity.unpublish"
    ACTIVITY_CANCEL = "activity.cancel"
    ACTIVITY_ADD_INSURANCE = "activity.add_insurance"
    POST_CREATE = "post.create"
    POST_UPDATE = "post.update"
    POST_DELETE = "post.delete"
    SIGNUP_CREATE = "signup.create"
    SIGNUP_ASSIGN = "signup.assign"
    SIGNUP_PROMOTE = "signup.promote"
    SIGNUP_WITHDRAW = "signup.withdraw"
    SIGNUP_REMOVE = "signup.remove"
    GROUPS_BUILD = "groups.build"
    GROUP_MOVE = "group.move"
    GROUP_SET_LEADER = "group.set_leader"
    REPORT_FILE = "report.file"
    REPORT_UPDATE = "report.update"
    REPORT_ADD_PHOTO = "report.add_photo"
    REPORT_DELETE_PHOTO = "report.delete_photo"
