"""Live figures of a campaign and an activity's report, read from the hours ledger through the reverse
relation `Activity.service_records` (the ledger's app sits above this one: it is never imported here)."""

from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from leifeng.activities.models import (
    Activity,
    ActivityStatus,
    Campaign,
    Signup,
    SignupStatus,
)

# hours.models.RecordKind.VERIFIED (信用时数), named here because the ledger's app may not be imported;
# leifeng/activities/tests/test_policy.py checks the two agree.
VERIFIED_KIND = "verified"


def _ledger():
    """The hours ledger's model (hours.ServiceRecord), reached through its relation to Activity."""
    return Activity._meta.get_field("service_records").related_model


@dataclass
class Figures:
    activities: int
    people: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def campaign_figures(*, campaign: Campaign) -> Figures:
    """Live figures in one query: activities (not drafts or cancelled), distinct people confirmed, hours
    from the ledger (sum of minutes of every record of the campaign's activities, reversals included)."""
    live = Activity.objects.filter(campaign=OuterRef("pk")).exclude(
        status__in=(ActivityStatus.DRAFT, ActivityStatus.CANCELLED)
    )
    people = Signup.objects.filter(post__activity__campaign=OuterRef("pk"), status=SignupStatus.CONFIRMED)
    minutes = _ledger().objects.filter(activity__campaign=OuterRef("pk"))

    def one(qs, field: str, template: str = "%(function)s(%(expressions)s)", function: str = "SUM"):
        """A plain aggregate over the whole subquery (a Func, so Django adds no GROUP BY)."""
        agg = Func(F(field), function=function, template=template, output_field=IntegerField())
        return Coalesce(Subquery(qs.order_by().annotate(v=agg).values("v")[:1]), Value(0), output_field=IntegerField())

    row = (
        Campaign.objects.filter(pk=campaign.pk)
        .annotate(
            f_activities=one(live, "pk", function="COUNT"),
            f_people=one(people, "volunteer_id", "%(function)s(DISTINCT %(expressions)s)", "COUNT"),
            f_minutes=one(minutes, "minutes"),
        )
        .values("f_activities", "f_people", "f_minutes")
        .get()
    )
    return Figures(row["f_activities"], row["f_people"], row["f_minutes"])


@dataclass
class Attendance:
    confirmed: int
    people_served: int
    minutes: int
    verified_minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def activity_attendance(*, activity: Activity) -> Attendance:
    """Report figures: confirmed sign-ups, and from the ledger the people with hours and the hours."""
    records = _ledger().objects.filter(activity=activity)
    confirmed = Signup.objects.filter(post__activity=activity, status=SignupStatus.CONFIRMED).count()
    agg = records.aggregate(
        total=Coalesce(Sum("minutes"), 0),
        verified=Coalesce(Sum("minutes", filter=Q(kind=VERIFIED_KIND)), 0),
    )
    served = records.values("volunteer_id").annotate(m=Sum("minutes")).filter(m__gt=0).count()
    return Attendance(confirmed, served, agg["total"], agg["verified"])
