"""Pages of campaigns and activities: parse → authorize → one service or selector → render.

One module per part of the site: `volunteers` (find, the activity page, sign-up, withdraw, my shifts),
`activities` (the organizers' list, forms, posts, insurance, transitions), `rosters` (the roster, its changes,
assigning a team), `reports`, `campaigns`; `common` holds what they share. `urls.py` names them through here.
"""

from leifeng.activities.views.activities import (
    STATUS_ACTIONS,
    activity_create,
    activity_edit,
    activity_list,
    activity_transition,
    insurance_add,
    post_add,
    post_delete,
    post_edit,
)
from leifeng.activities.views.campaigns import (
    campaign_copy,
    campaign_create,
    campaign_detail,
    campaign_edit,
    campaign_list,
    campaign_phases,
)
from leifeng.activities.views.common import PER_PAGE, organizer_activity
from leifeng.activities.views.reports import report, report_photo
from leifeng.activities.views.rosters import (
    assign,
    group_leader,
    group_move,
    groups_build,
    roster,
    signup_remove,
)
from leifeng.activities.views.volunteers import activity_detail, find, my_shifts, signup, withdraw

__all__ = [
    "PER_PAGE",
    "STATUS_ACTIONS",
    "activity_create",
    "activity_detail",
    "activity_edit",
    "activity_list",
    "activity_transition",
    "assign",
    "campaign_copy",
    "campaign_create",
    "campaign_detail",
    "campaign_edit",
    "campaign_list",
    "campaign_phases",
    "find",
    "group_leader",
    "group_move",
    "groups_build",
    "insurance_add",
    "my_shifts",
    "organizer_activity",
    "post_add",
    "post_delete",
    "post_edit",
    "report",
    "report_photo",
    "roster",
    "signup",
    "signup_remove",
    "withdraw",
]
