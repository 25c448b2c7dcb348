"""Activity lists (organizers' and volunteers'), one activity, its posts, a volunteer's shifts, and the
scoped reads pages make before a change."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, IntegerField, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    Activity,
    ActivityCategory,
    ActivityStatus,
    Post,
    Signup,
    SignupGroup,
    SignupStatus,
)
from leifeng.activities.policy import activity_policy, group_policy, post_policy, signup_policy
from leifeng.core.roles import Perm
from leifeng.people.models import Volunteer
from leifeng.teams.selectors import ancestor_paths, volunteer_of


@dataclass
class ActivityFilters:
    """Filters of the activity lists (pages and API alike); bad values are ignored, never an error page."""

    q: str = ""
    category: str = ""
    status: str = ""
    day: date | None = None  # activities with a post on this day
    campaign_id: int | None = None
    near: bool = False  # volunteers: at my station or the sub-center right above it

    @classmethod
    def from_params(cls, params) -> "ActivityFilters":
        category = str(params.get("category") or "").strip()
        status = str(params.get("status") or "").strip()
        raw_day = str(params.get("date") or params.get("day") or "").strip()
        try:
            day = date.fromisoformat(raw_day) if raw_day else None
        except ValueError:
            day = None
        camp = str(params.get("campaign") or "").strip()
        return cls(
            q=str(params.get("q") or "").strip(),
            category=category if category in ActivityCategory.values else "",
            status=status if status in ActivityStatus.values else "",
            day=day,
            campaign_id=int(camp) if camp.isdigit() else None,
            near=str(params.get("near") or "").lower() in ("1", "true", "on", "yes"),
        )


def _apply(qs: QuerySet[Activity], f: ActivityFilters, volunteer: Volunteer | None = None) -> QuerySet[Activity]:
    if f.q:
        qs = qs.filter(title__contains=f.q)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.campaign_id is not None:
        qs = qs.filter(campaign_id=f.campaign_id)
    if f.day is not None:
        start = timezone.make_aware(datetime.combine(f.day, time.min))
        qs = qs.filter(
            Exists(
                Post.objects.filter(activity=OuterRef("pk"), starts_at__lt=start + timedelta(days=1), ends_at__gt=start)
            )
        )
    if f.near and volunteer is not None:
        qs = qs.filter(org__path__in=ancestor_paths(volunteer.org.path)[-2:])
    return qs


def _with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    """Quota, confirmed and first post start per activity, as correlated subqueries (no GROUP BY on the row)."""

    def agg(expr, **filters):
        rows = Post.objects.filter(activity=OuterRef("pk"), **filters).order_by().values("activity")
        return Subquery(rows.annotate(v=expr).values("v"))

    return qs.annotate(
        quota_total=Coalesce(agg(Sum("quota")), Value(0), output_field=IntegerField()),
        filled_total=Coalesce(agg(Sum("filled")), Value(0), output_field=IntegerField()),
        first_start=agg(Min("starts_at")),
    )


def _base() -> QuerySet[Activity]:
    return Activity.objects.select_related("org", "campaign", "lead_unit")


def activity_list(*, actor, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    """Organizers: activities of the actor's subtree, newest first, with quota and sign-up totals."""
    f = filters or ActivityFilters()
    qs = _apply(activity_policy.visible(actor, Perm.VIEW, _base()), f)
    return _with_counts(qs).order_by("-id")


def activity_find(*, actor, filters: ActivityFilters | None = None, now: datetime | None = None):
    """Volunteers: published activities they may see with a post still to come, soonest first."""
    f = filters or ActivityFilters()
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Activity.objects.none()
    now = now or timezone.now()
    qs = _base().filter(activity_policy.open_to_volunteer_q(volunteer))
    qs = qs.filter(Exists(Post.objects.filter(activity=OuterRef("pk"), starts_at__gt=now)))
    qs = _apply(qs, ActivityFilters(**{**f.__dict__, "status": ""}), volunteer)
    return _with_counts(qs).order_by("first_start", "pk")


def activity_get(*, actor, activity_id) -> Activity:
    try:
        return _base().filter(activity_policy.visible_q(actor)).get(pk=activity_id)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class ActivityAccess:
    view_roster: bool
    change: bool
    volunteer: Volunteer | None


def activity_access(*, actor, activity: Activity) -> ActivityAccess:
    return ActivityAccess(
        view_roster=activity_policy.allows(actor, Perm.VIEW, activity),
        change=activity_policy.allows(actor, Perm.CHANGE, activity),
        volunteer=volunteer_of(actor),
    )


def my_skill_ids(*, volunteer: Volunteer) -> set[int]:
    """The skills on a volunteer's profile, to say on the activity page which required ones they lack."""
    return set(Volunteer.skills.through.objects.filter(volunteer_id=volunteer.pk).values_list("skill_id", flat=True))


def signup_for_organizer(*, actor, signup_id) -> Signup:
    """A sign-up at an activity of the actor's subtree (Perm.VIEW at its node), with its post; 404 otherwise,
    exactly like a sign-up that does not exist. The services check Perm.CHANGE themselves."""
    return signup_policy.get_or_404(actor, Perm.VIEW, Signup.objects.select_related("post"), pk=signup_id)


def group_for_organizer(*, actor, group_id) -> SignupGroup:
    """A group of a post at an activity of the actor's subtree, with its post; 404 otherwise."""
    return group_policy.get_or_404(actor, Perm.VIEW, SignupGroup.objects.select_related("post"), pk=group_id)


def _waitlist_count():
    rows = (
        Signup.objects.filter(post=OuterRef("pk"), status=SignupStatus.WAITLISTED)
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def activity_posts(*, activity: Activity) -> list[Post]:
    """Posts with their waitlist length and required skills: two queries."""
    return list(
        Post.objects.filter(activity=activity)
        .annotate(waitlisted=_waitlist_count())
        .prefetch_related("skills")
        .order_by("starts_at", "pk")
    )


def my_signups_by_post(*, actor, activity: Activity) -> dict[int, Signup]:
    """The actor's active sign-ups at this activity, by post id."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return {}
    return {
        s.post_id: s
        for s in Signup.objects.filter(volunteer=volunteer, post__activity=activity, status__in=ACTIVE_SIGNUP)
    }


def my_shifts(*, actor, past: bool = False, now: datetime | None = None) -> QuerySet[Signup]:
    """The volunteer's sign-ups: coming ones (active, soonest first) or past ones (newest first)."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Signup.objects.none()
    now = now or timezone.now()
    qs = Signup.objects.filter(volunteer=volunteer).select_related(
        "post", "post__activity", "post__activity__org", "group"
    )
    if past:
        return qs.filter(Q(ends_at__lte=now) | ~Q(status__in=ACTIVE_SIGNUP)).order_by("-starts_at", "-pk")
    return qs.filter(ends_at__gt=now, status__in=ACTIVE_SIGNUP).order_by("starts_at", "pk")


# ---------------------------------------------------------------- scoped reads before a change (pages)


def post_visible(*, actor, post_id) -> Post:
    """A post of an activity the actor may open (the same rule as `activity_get`: staff of its subtree, a
    volunteer who may see it, anyone who signed up for it), with its activity, node, campaign and lead unit;
    404 otherwise, exactly like a post that does not exist, before any service runs."""
    visible = Activity.objects.filter(activity_policy.visible_q(actor)).values("pk")
    try:
        return (
            Post.objects.select_related("activity__org", "activity__campaign", "activity__lead_unit")
            .filter(activity__in=visible)
            .get(pk=post_id)
        )
    except (Post.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def post_for_organizer(*, actor, post_id) -> Post:
    """A post at an activity of the actor's subtree (Perm.VIEW at its node); 404 otherwise, exactly like a post
    that does not exist. The services check Perm.CHANGE themselves."""
    return post_policy.get_or_404(actor, Perm.VIEW, pk=post_id)


def my_signup(*, actor, signup_id) -> Signup:
    """One of the actor's own sign-ups, with its post (only the volunteer withdraws it); 404 for anyone else's,
    exactly like a sign-up that does not exist."""
    try:
        return Signup.objects.select_related("post").get(pk=signup_id, volunteer__user_id=actor.pk)
    except (Signup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
