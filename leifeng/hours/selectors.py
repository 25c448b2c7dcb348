"""Reads of the ledger. Totals are one aggregate query over ServiceRecord (reversals included, so they net out).

Who sees a record, claim or correction request is `hours.policy` (staff with Perm.VIEW at the organizing node
or above it, and the volunteer it belongs to). Anything else answers 404, like a record that does not exist.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from leifeng.activities.models import Activity
from leifeng.core.errors import NotFound
from leifeng.hours.models import (
    ClaimStatus,
    CorrectionRequest,
    CorrectionStatus,
    HoursClaim,
    RecordKind,
    ServiceRecord,
)
from leifeng.hours.policy import claim_policy, correction_policy, may_review, record_policy, signed_in
from leifeng.people.models import Volunteer


def _filters(*, volunteer=None, org=None, team=None, activity=None, date_from=None, date_to=None, kind=None) -> Q:
    q = Q()
    if volunteer is not None:
        q &= Q(volunteer=volunteer)
    if org is not None:
        q &= Q(org__path__startswith=org.path)  # the node and its whole subtree
    if team is not None:
        q &= Q(team=team)
    if activity is not None:
        q &= Q(activity=activity)
    if date_from is not None:
        q &= Q(service_date__gte=date_from)
    if date_to is not None:
        q &= Q(service_date__lte=date_to)
    if kind:
        q &= Q(kind=kind)
    return q


def totals(
    *,
    volunteer=None,
    org=None,
    team=None,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: str | None = None,
    activity=None,
) -> int:
    """Net minutes in the ledger for the filters (org = that node's subtree). One query."""
    q = _filters(
        volunteer=volunteer, org=org, team=team, activity=activity, date_from=date_from, date_to=date_to, kind=kind
    )
    return ServiceRecord.objects.filter(q).aggregate(m=Coalesce(Sum("minutes"), 0))["m"]


@dataclass
class Totals:
    verified: int
    backfilled: int

    @property
    def total(self) -> int:
        return self.verified + self.backfilled


def totals_by_kind(**filters) -> Totals:
    """Verified and back-filled minutes in one query (for 'my hours' and review pages)."""
    q = _filters(**filters)
    row = ServiceRecord.objects.filter(q).aggregate(
        v=Coalesce(Sum("minutes", filter=Q(kind=RecordKind.VERIFIED)), 0),
        b=Coalesce(Sum("minutes", filter=Q(kind=RecordKind.BACKFILLED)), 0),
    )
    return Totals(verified=row["v"], backfilled=row["b"])


def record_list(
    *,
    actor,
    volunteer=None,
    org=None,
    team=None,
    activity=None,
    date_from: date | None = None,
    date_to: date | None = None,
    kind: str | None = None,
) -> QuerySet[ServiceRecord]:
    """Ledger entries the actor may see, newest first, with what the pages show joined in."""
    q = _filters(
        volunteer=volunteer, org=org, team=team, activity=activity, date_from=date_from, date_to=date_to, kind=kind
    )
    return (
        record_policy.seen(actor)
        .filter(q)
        .select_related("volunteer", "org", "reverses", "reversed_by")
        .order_by("-service_date", "-id")
    )


def record_get(*, actor, record_id) -> ServiceRecord:
    try:
        return record_list(actor=actor).get(pk=record_id)
    except (ServiceRecord.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def my_volunteer(actor) -> Volunteer | None:
    if not signed_in(actor):
        return None
    return Volunteer.objects.select_related("org").filter(user=actor).first()


def claim_list(*, actor, activity=None, status: str | None = None) -> QuerySet[HoursClaim]:
    """Claims on activities the actor may see (staff), or the actor's own."""
    qs = claim_policy.seen(actor)
    if activity is not None:
        qs = qs.filter(post__activity=activity)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("volunteer", "post__activity__org", "entered_by").order_by("-created_at", "-id")


def correction_list(*, actor, activity=None, status: str | None = None) -> QuerySet[CorrectionRequest]:
    """Correction requests of records the actor may see (staff), or the actor's own."""
    qs = correction_policy.seen(actor)
    if activity is not None:
        qs = qs.filter(record__activity=activity)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("record", "record__volunteer", "requested_by").order_by("-created_at", "-id")


def open_corrections(*, actor, activity=None) -> QuerySet[CorrectionRequest]:
    return correction_list(actor=actor, activity=activity, status=CorrectionStatus.OPEN)


def pending_claims(*, actor, activity=None) -> QuerySet[HoursClaim]:
    return claim_list(actor=actor, activity=activity, status=ClaimStatus.PENDING)


def activity_for_review(*, actor, activity_id) -> Activity:
    """The activity whose hours (and attendance) the actor may review; NotFound otherwise (same as missing)."""
    activity = Activity.objects.select_related("org").filter(pk=activity_id).first() if activity_id else None
    if activity is None or not may_review(actor, activity.org):
        raise NotFound()
    return activity
