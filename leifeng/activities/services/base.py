"""What every write of the app shares: the field lists, the clock, the one way to a row for a change, telling people."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leifeng.activities.models import (
    Activity,
    Campaign,
    Post,
)
from leifeng.activities.policy import activity_policy, campaign_policy
from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm
from leifeng.orgs.models import Org
from leifeng.orgs.policy import org_policy

CAMPAIGN_FIELDS = ["org", "title", "theme", "starts_on", "ends_on", "guidance", "requirements", "leading_group"]
ACTIVITY_FIELDS = [
    "org",
    "campaign",
    "title",
    "category",
    "description",
    "lead_unit",
    "address",
    "latitude",
    "longitude",
    "geofence_m",
    "minors_allowed",
    "risky",
    "supplies",
    "safety_notes",
    "contact_name",
    "contact_phone",
    "visibility",
    "signup_opens_at",
    "signup_closes_at",
    "withdraw_deadline",
    "group_size",
]
POST_FIELDS = ["title", "description", "starts_at", "ends_at", "quota"]
# What signup_create reads of a post, its activity and organizer (fewer columns on the hot path).
HOT_POST_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "quota",
    "filled",
    "activity__title",
    "activity__org_id",
    "activity__status",
    "activity__visibility",
    "activity__signup_opens_at",
    "activity__signup_closes_at",
    "activity__minors_allowed",
    "activity__org__path",
    "activity__org__name",
    "activity__org__depth",
)
ADULT_AGE = 18
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_SIDE = 1600


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _org_for_change(actor, org_id, field: str = "org") -> Org:
    org = Org.objects.filter(pk=org_id).first() if org_id is not None else None
    if org is None or not org_policy.allows(actor, Perm.CHANGE, org):
        raise ValidationError({field: [_("Choose an organization you manage.")]})
    return org


def _fmt(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return date_format(value, "SHORT_DATE_FORMAT")


# ---------------------------------------------------------------- the one way to a row for a change

_POLICIES = {Campaign: campaign_policy, Activity: activity_policy}


def _for_change[M: (Campaign, Activity, Post)](actor, model: type[M], pk) -> M:
    """The row of `model` locked for this transaction, once the actor's scope at its node is checked:
    NotFound when it is missing or out of sight (never a different answer), PermissionDenied when it is seen
    but not changeable. A post is checked and locked through its activity (lock order: activity → post), and
    comes back with that activity attached."""
    if model is Post:
        try:
            activity_id = Post.objects.filter(pk=pk).values_list("activity_id", flat=True).first() if pk else None
        except (ValueError, TypeError):
            activity_id = None
        if activity_id is None:
            raise NotFound()
        a = _for_change(actor, Activity, activity_id)
        p = Post.objects.select_for_update().get(pk=pk)
        p.activity = a
        return p  # type: ignore[return-value]
    try:
        obj = model.objects.select_for_update(of=("self",)).select_related("org").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    _POLICIES[model].check_change(actor, obj)
    return obj


def _tell(recipients, *, kind: str, title: str, body: str, activity: Activity, dedupe_key: str) -> None:
    """Inbox + channels, sent after the transaction commits (nothing is sent if it rolls back)."""
    from leifeng.notifications.services import notify

    notify(
        recipients=list(recipients),
        kind=kind,
        title=str(title),
        body=str(body),
        link=reverse("activities:activity_detail", args=[activity.pk]),
        dedupe_key=dedupe_key,
    )
