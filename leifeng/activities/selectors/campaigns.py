"""Campaigns: which ones the actor sees, one campaign, its activities and reports."""

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from leifeng.activities.models import (
    Activity,
    ActivityReport,
    ActivityStatus,
    Campaign,
)
from leifeng.activities.policy import activity_policy, campaign_policy
from leifeng.activities.selectors.activities import _base, _with_counts


def campaign_list(*, actor, q: str = "", year: int | None = None) -> QuerySet[Campaign]:
    qs = Campaign.objects.filter(campaign_policy.visible_q(actor)).select_related("org")
    if q:
        qs = qs.filter(title__contains=q)
    if year:
        qs = qs.filter(starts_on__year=year)
    activities = (
        Activity.objects.filter(campaign=OuterRef("pk"))
        .exclude(status=ActivityStatus.DRAFT)
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(activity_count=Coalesce(Subquery(activities, output_field=IntegerField()), Value(0))).order_by(
        "-starts_on", "-pk"
    )


def campaign_get(*, actor, campaign_id) -> Campaign:
    try:
        return (
            Campaign.objects.filter(campaign_policy.visible_q(actor))
            .select_related("org", "leading_group", "copied_from")
            .get(pk=campaign_id)
        )
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def campaign_activities(*, actor, campaign: Campaign) -> QuerySet[Activity]:
    """The campaign's activities the actor may open: drafts only for staff."""
    return _with_counts(_base().filter(campaign=campaign).filter(activity_policy.visible_q(actor))).order_by(
        "first_start", "pk"
    )


def campaign_reports(*, actor, campaign: Campaign) -> list[ActivityReport]:
    acts = Activity.objects.filter(campaign=campaign).filter(activity_policy.visible_q(actor)).values("pk")
    return list(
        ActivityReport.objects.filter(activity__in=acts)
        .select_related("activity")
        .prefetch_related("photos")
        .order_by("-pk")
    )
