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
"""

import calendar
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leifeng.accounts.models import User
from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    ACTIVITY_TRANSITIONS,
    DEFAULT_PHASES,
    SIGNUP_TRANSITIONS,
    Activity,
    ActivityCategory,
    ActivityReport,
    ActivityStatus,
    Campaign,
    CampaignPhase,
    Insurance,
    Post,
    ReportPhoto,
    Signup,
    SignupGroup,
    SignupStatus,
    Visibility,
)
from leifeng.core import audit, rules, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.scope import Perm
from leifeng.orgs.models import LeadingGroup, Org, Unit
from leifeng.people.models import PARTY_STATUSES, Skill, Volunteer, VolunteerStatus
from leifeng.teams import selectors as team_selectors
from leifeng.teams.models import MembershipStatus, Team, TeamMembership

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
    if org is None or not scope.allows(actor, Perm.CHANGE, org):
        raise ValidationError({field: [_("Choose an organization you manage.")]})
    return org


def _fmt(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return date_format(value, "SHORT_DATE_FORMAT")


# ---------------------------------------------------------------- the one way to a row for a change

_REFUSALS = {
    Campaign: gettext_lazy("Only staff of the organizing node may change this campaign."),
    Activity: gettext_lazy("Only staff of the organizing node may change this activity."),
}


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
    if not scope.allows(actor, Perm.VIEW, obj.org):
        raise NotFound()
    if not scope.allows(actor, Perm.CHANGE, obj.org):
        raise PermissionDenied(str(_REFUSALS[model]))
    return obj


# ---------------------------------------------------------------- campaigns


@dataclass
class CampaignInput:
    org_id: int
    title: str
    starts_on: date
    ends_on: date
    theme: str = ""
    guidance: str = ""
    requirements: str = ""
    leading_group_id: int | None = None
    unit_ids: list[int] = field(default_factory=list)


@dataclass
class PhaseInput:
    name: str
    starts_on: date
    ends_on: date
    description: str = ""


def default_phases(starts_on: date, ends_on: date) -> list[PhaseInput]:
    """宣传启动 / 组织实施 / 总结表彰 spread over the period in thirds (a one-day period: all on that day)."""
    days = (ends_on - starts_on).days + 1
    cuts = [starts_on + timedelta(days=days * i // 3) for i in range(4)]
    out = []
    for i, name in enumerate(DEFAULT_PHASES):
        start = min(cuts[i], ends_on)
        end = max(start, min(cuts[i + 1] - timedelta(days=1), ends_on))
        out.append(PhaseInput(name=str(name), starts_on=start, ends_on=end))
    return out


def _validate_campaign(c: Campaign, unit_ids: list[int] | None) -> list[Unit] | None:
    errors: dict[str, list[str]] = {}
    c.title = (c.title or "").strip()
    if not c.title:
        errors["title"] = [_("Give the campaign a title.")]
    if c.starts_on and c.ends_on and c.ends_on < c.starts_on:
        errors["ends_on"] = [_("The end date is before the start date.")]
    if c.leading_group_id is not None:
        lg = LeadingGroup.objects.select_related("org").filter(pk=c.leading_group_id).first()
        if lg is None or lg.org.path not in team_selectors.ancestor_paths(c.org.path):
            errors["leading_group"] = [_("Choose a leading group of this organization or one above it.")]
    units = None
    if unit_ids is not None:
        units = list(Unit.objects.filter(pk__in=set(unit_ids)))
        if len(units) != len(set(unit_ids)):
            errors["units"] = [_("Unknown unit.")]
    if errors:
        raise ValidationError(errors)
    return units


def _check_phases(phases: list[PhaseInput], starts_on: date, ends_on: date) -> None:
    errors = []
    for p in phases:
        if not (p.name or "").strip():
            errors.append(_("Every phase needs a name."))
        elif p.ends_on < p.starts_on:
            errors.append(_("Phase “%(name)s” ends before it starts.") % {"name": p.name})
        elif p.starts_on < starts_on or p.ends_on > ends_on:
            errors.append(_("Phase “%(name)s” lies outside the campaign's period.") % {"name": p.name})
    if errors:
        raise ValidationError({"phases": errors})


@transaction.atomic
def campaign_create(*, actor, data: CampaignInput, phases: list[PhaseInput] | None = None) -> Campaign:
    """A new campaign under a node the actor manages, with the default phases unless others are given."""
    org = _org_for_change(actor, data.org_id)
    c = Campaign(
        org=org,
        title=data.title,
        theme=(data.theme or "").strip(),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        guidance=(data.guidance or "").strip(),
        requirements=(data.requirements or "").strip(),
        leading_group_id=data.leading_group_id,
        created_by=actor,
    )
    units = _validate_campaign(c, data.unit_ids)
    phases = phases if phases is not None else default_phases(c.starts_on, c.ends_on)
    _check_phases(phases, c.starts_on, c.ends_on)
    c.save()
    if units:
        c.units.set(units)
    CampaignPhase.objects.bulk_create(
        CampaignPhase(campaign=c, order=i, name=p.name.strip(), starts_on=p.starts_on, ends_on=p.ends_on)
        for i, p in enumerate(phases)
    )
    audit.record(actor=actor, action="campaign.create", obj=c, changes=audit.snapshot(c, CAMPAIGN_FIELDS))
    return c


@transaction.atomic
def campaign_update(*, actor, campaign_id: int, unit_ids: list[int] | None = None, **changes) -> Campaign:
    """Change fields of a campaign (title, theme, starts_on, ends_on, guidance, requirements,
    leading_group_id, org_id) and, when given, its participating units."""
    c = _for_change(actor, Campaign, campaign_id)
    before = audit.snapshot(c, CAMPAIGN_FIELDS)
    allowed = {"title", "theme", "starts_on", "ends_on", "guidance", "requirements", "leading_group_id", "org_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code="unknown_field")
    if "org_id" in changes and changes["org_id"] != c.org_id:
        c.org = _org_for_change(actor, changes["org_id"])
    changes.pop("org_id", None)
    for name, value in changes.items():
        setattr(c, name, value.strip() if isinstance(value, str) else value)
    units = _validate_campaign(c, unit_ids)
    c.save()
    if units is not None:
        c.units.set(units)
    audit.record(actor=actor, action="campaign.update", obj=c, changes=audit.diff(before, c))
    return c


@transaction.atomic
def campaign_set_phases(*, actor, campaign_id: int, phases: list[PhaseInput]) -> list[CampaignPhase]:
    """Replace the phases of a campaign (names, dates, order as given)."""
    c = _for_change(actor, Campaign, campaign_id)
    _check_phases(phases, c.starts_on, c.ends_on)
    old = list(c.phases.values_list("name", "starts_on", "ends_on"))
    c.phases.all().delete()
    rows = CampaignPhase.objects.bulk_create(
        CampaignPhase(
            campaign=c,
            order=i,
            name=p.name.strip(),
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            description=(p.description or "").strip(),
        )
        for i, p in enumerate(phases)
    )
    audit.record(
        actor=actor,
        action="campaign.set_phases",
        obj=c,
        changes={"phases": [old, [(p.name, p.starts_on, p.ends_on) for p in phases]]},
    )
    return rows


@transaction.atomic
def campaign_delete(*, actor, campaign_id: int) -> None:
    """Delete a campaign that no activity belongs to (activities keep their history; detach them first)."""
    c = _for_change(actor, Campaign, campaign_id)
    if c.activities.exists():
        raise Conflict(_("Activities belong to this campaign; it cannot be deleted."), code="has_activities")
    audit.record(actor=actor, action="campaign.delete", obj=c, changes=audit.snapshot(c, CAMPAIGN_FIELDS))
    c.delete()


def shift_year(d: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    y = d.year + years
    return d.replace(year=y, day=min(d.day, calendar.monthrange(y, d.month)[1]))


def _shift_dt(dt: datetime | None, years: int) -> datetime | None:
    if dt is None:
        return None
    local = timezone.localtime(dt)
    return local.replace(
        year=local.year + years, day=min(local.day, calendar.monthrange(local.year + years, local.month)[1])
    )


@transaction.atomic
def campaign_copy(*, actor, campaign_id: int, year: int, with_activities: bool = True) -> Campaign:
    """Copy a campaign to another year: dates shifted, phases and units copied.

    Activities are copied as drafts (posts with shifted windows; no sign-ups, no insurance, nothing
    published): the March 5 squads recur every year with the same places and quotas, and a draft is
    invisible to volunteers until someone checks it and publishes it.
    """
    src = _for_change(actor, Campaign, campaign_id)
    years = int(year) - src.starts_on.year
    if years == 0:
        raise ValidationError({"year": [_("Choose a year other than the campaign's own.")]})
    c = Campaign.objects.create(
        org=src.org,
        title=src.title.replace(str(src.starts_on.year), str(year)),
        theme=src.theme,
        starts_on=shift_year(src.starts_on, years),
        ends_on=shift_year(src.ends_on, years),
        guidance=src.guidance,
        requirements=src.requirements,
        leading_group_id=src.leading_group_id,
        copied_from=src,
        created_by=actor,
    )
    c.units.set(src.units.all())
    CampaignPhase.objects.bulk_create(
        CampaignPhase(
            campaign=c,
            order=p.order,
            name=p.name,
            description=p.description,
            starts_on=shift_year(p.starts_on, years),
            ends_on=shift_year(p.ends_on, years),
        )
        for p in src.phases.all()
    )
    copied = 0
    if with_activities:
        for a in src.activities.exclude(status=ActivityStatus.CANCELLED).prefetch_related("posts", "teams"):
            posts = list(a.posts.all())
            teams = list(a.teams.all())
            a.pk = a.id = None
            a._state.adding = True
            a.campaign = c
            a.status = ActivityStatus.DRAFT
            a.published_at = None
            a.cancel_reason = ""
            a.created_by = actor
            for name in ("signup_opens_at", "signup_closes_at", "withdraw_deadline"):
                setattr(a, name, _shift_dt(getattr(a, name), years))
            a.kiosk_secret = Activity._meta.get_field("kiosk_secret").get_default()
            a.save()
            a.teams.set(teams)
            Post.objects.bulk_create(
                Post(
                    activity=a,
                    title=p.title,
                    description=p.description,
                    quota=p.quota,
                    starts_at=_shift_dt(p.starts_at, years),
                    ends_at=_shift_dt(p.ends_at, years),
                )
                for p in posts
            )
            copied += 1
    audit.record(
        actor=actor,
        action="campaign.copy",
        obj=c,
        changes={"copied_from": [None, src.pk], "year": [src.starts_on.year, year]},
        note=f"{copied} activities copied as drafts",
    )
    return c


# ---------------------------------------------------------------- activities


def _validate_activity(a: Activity) -> None:
    errors: dict[str, list[str]] = {}
    a.title = (a.title or "").strip()
    a.address = (a.address or "").strip()
    if not a.title:
        errors["title"] = [_("Give the activity a title.")]
    if not a.address:
        errors["address"] = [_("Say where the activity takes place.")]
    if a.category not in ActivityCategory.values:
        errors["category"] = [_("Unknown category.")]
    if a.visibility not in Visibility.values:
        errors["visibility"] = [_("Unknown visibility.")]
    if (a.latitude is None) != (a.longitude is None):
        errors["longitude"] = [_("Give both latitude and longitude, or neither.")]
    if a.latitude is not None and not (-90 <= float(a.latitude) <= 90):
        errors["latitude"] = [_("Latitude lies between -90 and 90.")]
    if a.longitude is not None and not (-180 <= float(a.longitude) <= 180):
        errors["longitude"] = [_("Longitude lies between -180 and 180.")]
    if a.geofence_m and a.latitude is None:
        errors["geofence_m"] = [_("A geofence needs the place's coordinates.")]
    if a.signup_opens_at and a.signup_closes_at and a.signup_closes_at <= a.signup_opens_at:
        errors["signup_closes_at"] = [_("Sign-up closes before it opens.")]
    if not a.group_size or a.group_size < 1:
        errors["group_size"] = [_("A group has at least one person.")]
    if a.campaign_id is not None:
        camp = Campaign.objects.select_related("org").filter(pk=a.campaign_id).first()
        if camp is None or camp.org.path not in team_selectors.ancestor_paths(a.org.path):
            errors["campaign"] = [_("Choose a campaign of this organization or one above it.")]
    if a.lead_unit_id is not None and not Unit.objects.filter(pk=a.lead_unit_id).exists():
        errors["lead_unit"] = [_("Unknown unit.")]
    if errors:
        raise ValidationError(errors)


def _set_teams(a: Activity, team_ids: list[int] | None) -> None:
    if team_ids is None:
        return
    teams = list(Team.objects.filter(pk__in=set(team_ids)))
    if len(teams) != len(set(team_ids)):
        raise ValidationError({"teams": [_("Unknown team.")]})
    a.teams.set(teams)


@transaction.atomic
def activity_create(*, actor, org_id: int, team_ids: list[int] | None = None, **fields) -> Activity:
    """A new draft activity under a node the actor manages. Fields: see ACTIVITY_FIELDS (ids for FKs)."""
    org = _org_for_change(actor, org_id)
    allowed = {f if f not in ("campaign", "lead_unit") else f + "_id" for f in ACTIVITY_FIELDS} - {"org"}
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code="unknown_field")
    a = Activity(org=org, created_by=actor, **fields)
    _validate_activity(a)
    a.save()
    _set_teams(a, team_ids)
    if a.visibility == Visibility.TEAMS and not a.teams.exists():
        raise ValidationError({"teams": [_("List the teams that may see the activity.")]})
    audit.record(actor=actor, action="activity.create", obj=a, changes=audit.snapshot(a, ACTIVITY_FIELDS))
    return a


@transaction.atomic
def activity_update(*, actor, activity_id: int, team_ids: list[int] | None = None, **changes) -> Activity:
    """Change fields of an activity that is not finished or cancelled."""
    a = _for_change(actor, Activity, activity_id)
    if a.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code="closed")
    before = audit.snapshot(a, ACTIVITY_FIELDS)
    allowed = {f if f not in ("org", "campaign", "lead_unit") else f + "_id" for f in ACTIVITY_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code="unknown_field")
    if "org_id" in changes and changes["org_id"] != a.org_id:
        a.org = _org_for_change(actor, changes["org_id"])
    changes.pop("org_id", None)
    for name, value in changes.items():
        setattr(a, name, value)
    _validate_activity(a)
    a.save()
    _set_teams(a, team_ids)
    if a.visibility == Visibility.TEAMS and not a.teams.exists():
        raise ValidationError({"teams": [_("List the teams that may see the activity.")]})
    audit.record(actor=actor, action="activity.update", obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_delete(*, actor, activity_id: int) -> None:
    """Delete a draft nobody ever signed up for; anything else is cancelled instead, so its history stays."""
    a = _for_change(actor, Activity, activity_id)
    if a.status != ActivityStatus.DRAFT or Signup.objects.filter(post__activity=a).exists():
        raise Conflict(_("Only a draft nobody signed up for can be deleted; cancel it instead."), code="not_deletable")
    audit.record(actor=actor, action="activity.delete", obj=a, changes=audit.snapshot(a, ["title", "status"]))
    a.delete()


def _move(a: Activity, to: str) -> None:
    """The one place an activity changes status: refuses any move the table does not allow."""
    if to not in ACTIVITY_TRANSITIONS.get(a.status, frozenset()):
        raise Conflict(
            _("An activity that is “%(old)s” cannot become “%(new)s”.")
            % {"old": ActivityStatus(a.status).label, "new": ActivityStatus(to).label},
            code="invalid_transition",
        )
    a.status = to


def insurance_gap(a: Activity) -> tuple[date, date] | None:
    """The days of the activity's posts (first, last) when no single insurance record covers them all."""
    window = a.posts.aggregate(first=Min("starts_at"), last=Max("ends_at"))
    if window["first"] is None:
        return None
    first = timezone.localtime(window["first"]).date()
    last = timezone.localtime(window["last"]).date()
    if a.insurances.filter(covers_from__lte=first, covers_to__gte=last).exists():
        return None
    return first, last


@transaction.atomic
def activity_publish(*, actor, activity_id: int, now: datetime | None = None) -> Activity:
    """Draft → published. Needs at least one post; a risky activity needs insurance for all its days."""
    a = _for_change(actor, Activity, activity_id)
    before = audit.snapshot(a, ["status"])
    _move(a, ActivityStatus.PUBLISHED)
    if not a.posts.exists():
        raise ServiceError(_("Add at least one post before publishing."), code="no_posts")
    if a.risky:
        gap = insurance_gap(a)
        if gap is not None:
            raise ServiceError(
                _(
                    "This activity is marked risky: record an insurance policy covering %(first)s to %(last)s "
                    "before publishing it."
                )
                % {"first": _fmt(gap[0]), "last": _fmt(gap[1])},
                code="insurance_required",
            )
    a.published_at = _now(now)
    a.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action="activity.publish", obj=a, changes=audit.diff(before, a))
    return a


def _simple_move(actor, activity_id: int, to: str, action: str) -> Activity:
    a = _for_change(actor, Activity, activity_id)
    before = audit.snapshot(a, ["status"])
    _move(a, to)
    a.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=action, obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_start(*, actor, activity_id: int) -> Activity:
    """Published → in progress (check-in opens)."""
    return _simple_move(actor, activity_id, ActivityStatus.IN_PROGRESS, "activity.start")


@transaction.atomic
def activity_finish(*, actor, activity_id: int) -> Activity:
    """In progress → finished (the report can be filed)."""
    return _simple_move(actor, activity_id, ActivityStatus.FINISHED, "activity.finish")


def _due_q(now: datetime) -> Q:
    """Activities the clock has moved on: published with a post that has started, or in progress with every
    post ended (an activity without posts never moves by itself)."""

    def posts(**lookups) -> Exists:
        return Exists(Post.objects.filter(activity=OuterRef("pk"), **lookups))

    return (Q(status=ActivityStatus.PUBLISHED) & posts(starts_at__lte=now)) | (
        Q(status=ActivityStatus.IN_PROGRESS) & posts() & ~posts(ends_at__gt=now)
    )


def _auto_move(a: Activity, to: str, action: str, note: str) -> None:
    """A move made by the clock: the same transition check and audit action as by hand, with no actor."""
    before = audit.snapshot(a, ["status"])
    _move(a, to)
    a.save(update_fields=["status", "updated_at"])
    audit.record(actor=None, action=action, obj=a, changes=audit.diff(before, a), note=note)


def activities_advance(*, now: datetime | None = None) -> dict[str, int]:
    """Start and finish activities by the clock, as the organizer would by hand (the system is the actor):
    published → in progress once its first post has started; in progress → finished once its last post has
    ended (both in one run when it comes after the end). Same transition table, same audit actions as
    activity_start / activity_finish. One activity per transaction, its row locked and its status read again,
    so a move made by hand in between wins; a second run changes nothing."""
    now = _now(now)
    done = {"started": 0, "finished": 0}
    due = sorted(Activity.objects.filter(_due_q(now)).values_list("pk", flat=True))
    for activity_id in due:
        with transaction.atomic():
            a = Activity.objects.select_for_update(of=("self",)).select_related("org").get(pk=activity_id)
            window = a.posts.aggregate(first=Min("starts_at"), last=Max("ends_at"))
            if window["first"] is None:
                continue
            if a.status == ActivityStatus.PUBLISHED and window["first"] <= now:
                _auto_move(
                    a,
                    ActivityStatus.IN_PROGRESS,
                    "activity.start",
                    f"automatic: first post started at {timezone.localtime(window['first']):%Y-%m-%d %H:%M}",
                )
                done["started"] += 1
            if a.status == ActivityStatus.IN_PROGRESS and window["last"] <= now:
                _auto_move(
                    a,
                    ActivityStatus.FINISHED,
                    "activity.finish",
                    f"automatic: last post ended at {timezone.localtime(window['last']):%Y-%m-%d %H:%M}",
                )
                done["finished"] += 1
    return done


@transaction.atomic
def activity_unpublish(*, actor, activity_id: int) -> Activity:
    """Published → draft, only while nobody holds a sign-up."""
    a = _for_change(actor, Activity, activity_id)
    if Signup.objects.filter(post__activity=a, status__in=ACTIVE_SIGNUP).exists():
        raise Conflict(
            _("People have signed up already: cancel the activity instead of taking it back to draft."),
            code="has_signups",
        )
    before = audit.snapshot(a, ["status"])
    _move(a, ActivityStatus.DRAFT)
    a.published_at = None
    a.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action="activity.unpublish", obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_cancel(*, actor, activity_id: int, reason: str, now: datetime | None = None) -> Activity:
    """Cancel with a reason; every active sign-up is withdrawn (no notifications sent yet)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the activity is cancelled.")]})
    a = _for_change(actor, Activity, activity_id)
    before = audit.snapshot(a, ["status", "cancel_reason"])
    _move(a, ActivityStatus.CANCELLED)
    a.cancel_reason = reason[:200]
    a.save(update_fields=["status", "cancel_reason", "updated_at"])
    posts = list(Post.objects.select_for_update().filter(activity=a).order_by("pk").values_list("pk", flat=True))
    affected = list(
        Signup.objects.filter(post_id__in=posts, status__in=ACTIVE_SIGNUP, volunteer__user__isnull=False)
        .values_list("volunteer__user_id", flat=True)
        .distinct()
    )
    withdrawn = Signup.objects.filter(post_id__in=posts, status__in=ACTIVE_SIGNUP).update(
        status=SignupStatus.WITHDRAWN, ended_at=_now(now), group=None, note=_("Activity cancelled")[:200]
    )
    Post.objects.filter(pk__in=posts).update(filled=0)
    audit.record(
        actor=actor,
        action="activity.cancel",
        obj=a,
        changes=audit.diff(before, a),
        note=f"{withdrawn} sign-ups withdrawn",
    )
    _tell(
        User.objects.filter(pk__in=affected),
        kind="activity.cancelled",
        title=_("Cancelled: %(activity)s") % {"activity": a.title},
        body=_("The activity you signed up for was cancelled. Reason: %(reason)s") % {"reason": a.cancel_reason},
        activity=a,
        dedupe_key=f"activity:{a.pk}:cancelled",
    )
    return a


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


@transaction.atomic
def activity_add_insurance(
    *,
    actor,
    activity_id: int,
    insurer: str,
    policy_number: str,
    covers_from: date,
    covers_to: date,
    insured_count: int | None = None,
) -> Insurance:
    """Record the insurance policy of an activity (条例 Art. 17)."""
    a = _for_change(actor, Activity, activity_id)
    errors: dict[str, list[str]] = {}
    if not (insurer or "").strip():
        errors["insurer"] = [_("Name the insurer.")]
    if not (policy_number or "").strip():
        errors["policy_number"] = [_("Give the policy number.")]
    if covers_to < covers_from:
        errors["covers_to"] = [_("The end date is before the start date.")]
    if errors:
        raise ValidationError(errors)
    ins = Insurance.objects.create(
        activity=a,
        insurer=insurer.strip(),
        policy_number=policy_number.strip(),
        covers_from=covers_from,
        covers_to=covers_to,
        insured_count=insured_count,
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action="activity.add_insurance",
        obj=ins,
        org=a.org,
        changes={"policy": [None, ins.policy_number], "covers": [None, [covers_from, covers_to]]},
    )
    return ins


# ---------------------------------------------------------------- posts


def _validate_post(p: Post) -> None:
    errors: dict[str, list[str]] = {}
    p.title = (p.title or "").strip()
    if not p.title:
        errors["title"] = [_("Give the post a name.")]
    if p.starts_at and p.ends_at and p.ends_at <= p.starts_at:
        errors["ends_at"] = [_("The post ends before it starts.")]
    if p.quota is None or p.quota < 1:
        errors["quota"] = [_("A post takes at least one person.")]
    if errors:
        raise ValidationError(errors)


def _set_skills(p: Post, skill_ids: list[int] | None) -> None:
    if skill_ids is None:
        return
    skills = list(Skill.objects.filter(pk__in=set(skill_ids)))
    if len(skills) != len(set(skill_ids)):
        raise ValidationError({"skills": [_("Unknown skill.")]})
    p.skills.set(skills)


@transaction.atomic
def post_create(
    *,
    actor,
    activity_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    quota: int,
    description: str = "",
    skill_ids: list[int] | None = None,
) -> Post:
    a = _for_change(actor, Activity, activity_id)
    if a.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code="closed")
    p = Post(activity=a, title=title, starts_at=starts_at, ends_at=ends_at, quota=quota, description=description)
    _validate_post(p)
    p.save()
    _set_skills(p, skill_ids)
    audit.record(actor=actor, action="post.create", obj=p, org=a.org, changes=audit.snapshot(p, POST_FIELDS))
    return p


@transaction.atomic
def post_update(*, actor, post_id: int, skill_ids: list[int] | None = None, **changes) -> Post:
    """Change a post. A lower quota may not drop below those confirmed; a higher one promotes the waitlist.
    A new time window is copied onto the sign-ups."""
    p = _for_change(actor, Post, post_id)
    if p.activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code="closed")
    unknown = set(changes) - set(POST_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code="unknown_field")
    before = audit.snapshot(p, POST_FIELDS)
    for name, value in changes.items():
        setattr(p, name, value)
    _validate_post(p)
    if p.quota < p.filled:
        raise ValidationError(
            {"quota": [_("%(n)d people are confirmed already; the quota cannot be lower.") % {"n": p.filled}]}
        )
    p.save()
    _set_skills(p, skill_ids)
    if "starts_at" in changes or "ends_at" in changes:
        Signup.objects.filter(post=p).update(starts_at=p.starts_at, ends_at=p.ends_at)
    audit.record(actor=actor, action="post.update", obj=p, org=p.activity.org, changes=audit.diff(before, p))
    _promote(actor, p)
    return p


@transaction.atomic
def post_delete(*, actor, post_id: int) -> None:
    """Delete a post nobody has signed up for."""
    p = _for_change(actor, Post, post_id)
    if Signup.objects.filter(post=p).exists():
        raise Conflict(_("People have signed up for this post; it cannot be deleted."), code="has_signups")
    audit.record(actor=actor, action="post.delete", obj=p, org=p.activity.org, changes=audit.snapshot(p, POST_FIELDS))
    p.delete()


# ---------------------------------------------------------------- sign-ups


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def can_see(volunteer: Volunteer, activity: Activity, team_ids: set[int] | None = None) -> bool:
    """Visibility rule for volunteers: the activity's node is the volunteer's station or one above it
    (whole subtree), or — for team-only activities — the volunteer is an active member of a listed team."""
    if activity.visibility == Visibility.TEAMS:
        if team_ids is None:
            return TeamMembership.objects.filter(
                team__in=activity.teams.all(), volunteer=volunteer, status=MembershipStatus.ACTIVE
            ).exists()
        return bool(team_ids)
    return volunteer.org.path.startswith(activity.org.path)


def _check_eligible(volunteer: Volunteer, post: Post, *, now: datetime, assigned: bool) -> None:
    """Everything but quota and overlap; raises ServiceError with a message for the person."""
    a = post.activity
    if volunteer.status != VolunteerStatus.APPROVED:
        raise ServiceError(_("%(name)s is not an approved volunteer.") % {"name": volunteer.name}, code="not_approved")
    if a.status not in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS):
        raise Conflict(_("This activity is not open for sign-up."), code="not_published")
    if post.starts_at <= now:
        raise Conflict(_("This post has already started."), code="post_started")
    if not assigned:
        if a.signup_opens_at and now < a.signup_opens_at:
            raise Conflict(_("Sign-up opens at %(when)s.") % {"when": _fmt(a.signup_opens_at)}, code="signup_not_open")
        if a.signup_closes_at and now > a.signup_closes_at:
            raise Conflict(_("Sign-up closed at %(when)s.") % {"when": _fmt(a.signup_closes_at)}, code="signup_closed")
    age = age_on(volunteer.birth_date, timezone.localtime(post.starts_at).date())
    if age is not None and age < ADULT_AGE:
        if age < rules.rule(Org.objects.get(pk=a.org_id), "min_volunteer_age"):  # rare: load the node's rules
            raise ServiceError(_("%(name)s is too young to serve.") % {"name": volunteer.name}, code="too_young")
        if not a.minors_allowed:
            raise ServiceError(_("This activity does not take volunteers under 18."), code="minors_not_allowed")
        if volunteer.guardian_consent_at is None:
            raise ServiceError(
                _("%(name)s is under 18: a guardian's consent must be recorded first.") % {"name": volunteer.name},
                code="guardian_consent_missing",
            )


def _check_skills(volunteer: Volunteer, post: Post) -> None:
    if getattr(post, "lacks_skills", None) is False:
        return
    missing = list(
        Skill.objects.filter(pk__in=Post.skills.through.objects.filter(post_id=post.pk).values("skill_id"))
        .exclude(pk__in=Volunteer.skills.through.objects.filter(volunteer_id=volunteer.pk).values("skill_id"))
        .values_list("name", flat=True)[:5]
    )
    if missing:
        raise ServiceError(
            _("This post needs these skills: %(skills)s.") % {"skills": "、".join(missing)}, code="skills_missing"
        )


def _check_overlap(volunteer: Volunteer, post: Post) -> None:
    """One query: an active sign-up of this person whose window overlaps (the same post overlaps itself).
    When the post was read with `clash_post_id` (the hot path), the query runs only to name the clash."""
    if hasattr(post, "clash_post_id") and post.clash_post_id is None:
        return
    clash = (
        Signup.objects.filter(
            volunteer=volunteer, status__in=ACTIVE_SIGNUP, starts_at__lt=post.ends_at, ends_at__gt=post.starts_at
        )
        .values_list("post_id", "post__title", "post__activity__title")
        .first()
    )
    if clash is None:
        return
    if clash[0] == post.pk:
        raise Conflict(
            _("%(name)s has already signed up for this post.") % {"name": volunteer.name}, code="already_signed_up"
        )
    raise Conflict(
        _("%(name)s already holds a post at that time: %(activity)s · %(post)s.")
        % {"name": volunteer.name, "activity": clash[2], "post": clash[1]},
        code="overlap",
    )


def _take_place(post: Post) -> bool:
    """Claim a confirmed place, or say there is none (→ waitlist).

    The fast path is one conditional UPDATE (filled < quota): it takes the post's row lock only when it
    succeeds, so the lock is held for the rest of the transaction (insert, audit, commit) and nothing
    more — the hot row of a popular post stays locked as briefly as possible. PostgreSQL re-checks
    `filled < quota` on the newest row version after waiting, so the quota holds under any concurrency
    (and the CHECK constraint `post_not_overbooked` backs it). When the post looks full, the row is locked
    and counted again, so a withdrawal committing in between never leaves a free place behind a
    waitlisted newcomer (the withdrawal waits for this transaction and then promotes them).
    """
    from django.db import connection

    pt = Post._meta.db_table
    with connection.cursor() as cur:  # plain SQL: the row stays locked from here to commit, keep the CPU out
        cur.execute(f"UPDATE {pt} SET filled = filled + 1 WHERE id = %s AND filled < quota", [post.pk])
        taken = cur.rowcount
    if taken:
        post.filled += 1
        return True
    filled, quota = Post.objects.select_for_update().filter(pk=post.pk).values_list("filled", "quota").get()
    if filled < quota:
        Post.objects.filter(pk=post.pk).update(filled=F("filled") + 1)
        post.filled = filled + 1
        return True
    post.filled = filled
    return False


def _still_open(post: Post) -> None:
    """Re-read the activity's status once the post row is locked: a cancellation that committed while we
    waited for the lock is seen here (a new statement sees it; the UPDATE's own re-check does not)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT status FROM {Activity._meta.db_table} WHERE id = %s", [post.activity_id])
        (status,) = cur.fetchone()
    if status not in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS):
        raise Conflict(_("This activity is not open for sign-up."), code="not_published")


def _place(actor, volunteer: Volunteer, post: Post, *, assigned_by=None, consent: bool = False) -> Signup:
    """Insert the sign-up: confirmed while there is room, else waitlisted (see _take_place)."""
    confirmed = _take_place(post)
    if assigned_by is None:
        _still_open(post)
    s = Signup(
        post=post,
        volunteer=volunteer,
        status=SignupStatus.CONFIRMED if confirmed else SignupStatus.WAITLISTED,
        starts_at=post.starts_at,
        ends_at=post.ends_at,
        assigned_by=assigned_by,
        guardian_consent=consent,
    )
    try:  # cannot clash while the volunteer row is locked; should it anyway, the whole transaction rolls back
        s.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _("%(name)s has already signed up for this post.") % {"name": volunteer.name}, code="already_signed_up"
        ) from None
    audit.record(
        actor=actor,
        action="signup.assign" if assigned_by else "signup.create",
        obj=s,
        org=post.activity.org,
        object_repr=f"{volunteer.name} @ {post.title}",
        changes={"status": [None, s.status]},
    )
    return s


def _post_for_signup(post_id, volunteer: Volunteer | None = None, *, lock: bool = False) -> Post:
    """The post with its activity and org (locked when asked); with `volunteer`, `lacks_skills` says whether
    the post requires a skill they do not have (in the same query, so the hot path skips a round trip)."""
    qs = Post.objects.select_related("activity", "activity__org")
    if lock:
        qs = qs.select_for_update(of=("self",))
    if volunteer is not None:
        # the hot path: only the columns the checks read, and the skills and overlap checks in the same query
        qs = qs.only(*HOT_POST_FIELDS)
        mine = Volunteer.skills.through.objects.filter(volunteer_id=volunteer.pk).values("skill_id")
        clash = Signup.objects.filter(
            volunteer_id=volunteer.pk,
            status__in=ACTIVE_SIGNUP,
            starts_at__lt=OuterRef("ends_at"),
            ends_at__gt=OuterRef("starts_at"),
        ).values("post_id")[:1]
        qs = qs.annotate(
            lacks_skills=Exists(Post.skills.through.objects.filter(post_id=OuterRef("pk")).exclude(skill_id__in=mine)),
            clash_post_id=Subquery(clash),
        )
    try:
        return qs.get(pk=post_id)
    except (Post.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _locked_post(post_id) -> Post:
    return _post_for_signup(post_id, lock=True)


@transaction.atomic
def signup_create(*, actor, post, volunteer: Volunteer | None = None, now: datetime | None = None) -> Signup:
    """The acting volunteer signs up for a post: confirmed while there is room, else on the waitlist.

    `post` is a Post or its id; `volunteer` defaults to the actor's own profile and must be it.
    """
    now = _now(now)
    post_id = post.pk if isinstance(post, Post) else post
    me, p = _hot_read(getattr(actor, "pk", None), post_id)
    if me is None:
        raise ServiceError(_("Only registered volunteers can sign up."), code="not_a_volunteer")
    if volunteer is not None and volunteer.pk != me.pk:
        raise PermissionDenied(_("Volunteers sign up themselves; leaders use “assign”."))
    if p is None:
        raise NotFound()
    if not can_see(me, p.activity):
        raise NotFound()
    _check_eligible(me, p, now=now, assigned=False)
    _check_overlap(me, p)
    _check_skills(me, p)
    return _place(actor, me, p, consent=me.guardian_consent_at is not None)


def _dt(value) -> datetime | None:
    """A datetime column read through a raw cursor: aware on PostgreSQL, naive UTC (or text) on SQLite."""
    if value is None or isinstance(value, datetime) and timezone.is_aware(value):
        return value
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


def _d(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _hot_read(user_id, post_id) -> tuple[Volunteer | None, Post | None]:
    """The sign-up hot path's reads in two raw statements (no ORM compile, no full model rows):

    1. the actor's volunteer row, locked (FOR UPDATE OF the volunteer: one person's sign-ups queue);
    2. the post with what the checks need of its activity and organizer, plus whether it requires a
       skill the volunteer lacks and the first of their active sign-ups that overlaps it (not locked).
    Returns light model instances carrying just those fields.
    """
    if user_id is None:
        return None, None
    from django.db import connection

    vt, ot = Volunteer._meta.db_table, Org._meta.db_table
    pt, at, st = Post._meta.db_table, Activity._meta.db_table, Signup._meta.db_table
    pst, vst = Post.skills.through._meta.db_table, Volunteer.skills.through._meta.db_table
    lock = " FOR UPDATE OF v" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT v.id, v.name, v.status, v.birth_date, v.guardian_consent_at, v.org_id, o.path "
            f"FROM {vt} v JOIN {ot} o ON o.id = v.org_id WHERE v.user_id = %s{lock}",
            [user_id],
        )
        row = cur.fetchone()
        if row is None:
            return None, None
        me = Volunteer(id=row[0], name=row[1], status=row[2], birth_date=_d(row[3]), user_id=user_id)
        me.guardian_consent_at = _dt(row[4])
        me.org = Org(id=row[5], path=row[6])
        try:
            post_id = int(post_id)
        except (TypeError, ValueError):
            return me, None
        cur.execute(
            f"SELECT p.id, p.title, p.starts_at, p.ends_at, p.quota, p.filled, "
            f"a.id, a.title, a.status, a.visibility, a.signup_opens_at, a.signup_closes_at, a.minors_allowed, "
            f"o.id, o.path, o.name, o.depth, "
            f"EXISTS (SELECT 1 FROM {pst} ps WHERE ps.post_id = p.id AND ps.skill_id NOT IN "
            f"(SELECT vs.skill_id FROM {vst} vs WHERE vs.volunteer_id = %s)), "
            f"(SELECT s.post_id FROM {st} s WHERE s.volunteer_id = %s AND s.status IN (%s, %s) "
            f"AND s.starts_at < p.ends_at AND s.ends_at > p.starts_at LIMIT 1) "
            f"FROM {pt} p JOIN {at} a ON a.id = p.activity_id JOIN {ot} o ON o.id = a.org_id WHERE p.id = %s",
            [me.pk, me.pk, SignupStatus.CONFIRMED.value, SignupStatus.WAITLISTED.value, post_id],
        )
        r = cur.fetchone()
    if r is None:
        return me, None
    org = Org(id=r[13], path=r[14], name=r[15], depth=r[16])
    activity = Activity(
        id=r[6],
        org_id=org.pk,
        title=r[7],
        status=r[8],
        visibility=r[9],
        signup_opens_at=_dt(r[10]),
        signup_closes_at=_dt(r[11]),
        minors_allowed=bool(r[12]),
        kiosk_secret="",
    )
    activity.org = org
    p = Post(
        id=r[0], activity_id=activity.pk, title=r[1], starts_at=_dt(r[2]), ends_at=_dt(r[3]), quota=r[4], filled=r[5]
    )
    p.activity = activity
    p.lacks_skills = bool(r[17])
    p.clash_post_id = r[18]
    return me, p


@dataclass
class AssignResult:
    volunteer: Volunteer
    signup: Signup | None
    reason: str = ""


def _may_assign_for(actor, team: Team, activity: Activity) -> bool:
    return (
        team_selectors.is_leader(actor, team)
        or scope.allows(actor, Perm.LEAD_TEAM, team.org)
        or scope.allows(actor, Perm.CHANGE, activity.org)
    )


@transaction.atomic
def signup_assign_many(
    *, actor, post, team_id: int, numbers: list[str] | None = None, now: datetime | None = None
) -> list[AssignResult]:
    """A leader signs up members of their team (all active members, or those with the given numbers).

    Everyone eligible is placed (confirmed, or waitlisted when full); the others are reported with the
    reason and skipped. Each member may withdraw later — nobody is forced to serve.
    """
    now = _now(now)
    post_id = post.pk if isinstance(post, Post) else post
    team = (
        Team.objects.select_related("org", "leader", "deputy")
        .filter(team_selectors.visible_q(actor), pk=team_id)
        .distinct()
        .first()
    )
    if team is None:
        raise NotFound()
    info = Post.objects.select_related("activity", "activity__org").filter(pk=post_id).first()
    if info is None or not (
        scope.allows(actor, Perm.VIEW, info.activity.org) or info.activity.org.path in _ancestors_of(team.org)
    ):
        raise NotFound()
    if not _may_assign_for(actor, team, info.activity):
        raise PermissionDenied(_("Only the team's leader or staff may assign its members."))
    if info.activity.visibility == Visibility.TEAMS and not info.activity.teams.filter(pk=team.pk).exists():
        raise ServiceError(_("This activity is open only to the teams it lists."), code="team_not_invited")
    members = TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE)
    if numbers:
        wanted = {str(n).strip().upper() for n in numbers if str(n).strip()}
        members = members.filter(volunteer__number__in=wanted)
    vol_ids = sorted(members.values_list("volunteer_id", flat=True))
    if not vol_ids:
        raise ValidationError({"numbers": [_("No active member of the team was chosen.")]})
    # lock order as in signup_create: volunteers (by id), then the post
    volunteers = list(Volunteer.objects.select_for_update(of=("self",)).select_related("org").filter(pk__in=vol_ids))
    volunteers.sort(key=lambda v: v.pk)
    p = _locked_post(post_id)
    _still_open(p)
    results = []
    for v in volunteers:
        try:
            if p.activity.visibility == Visibility.SUBTREE and not can_see(v, p.activity):
                raise ServiceError(
                    _("%(name)s is registered outside %(org)s.") % {"name": v.name, "org": p.activity.org.name}
                )
            _check_eligible(v, p, now=now, assigned=True)
            _check_overlap(v, p)
            _check_skills(v, p)
            s = _place(actor, v, p, assigned_by=actor, consent=v.guardian_consent_at is not None)
            results.append(AssignResult(volunteer=v, signup=s))
        except ServiceError as exc:
            results.append(AssignResult(volunteer=v, signup=None, reason=exc.message))
    return results


def _ancestors_of(org: Org) -> list[str]:
    return team_selectors.ancestor_paths(org.path)


def _promote(actor, post: Post) -> list[Signup]:
    """Fill free places from the waitlist, first come first served (post row already locked)."""
    free = post.quota - post.filled
    if free <= 0:
        return []
    waiting = list(
        Signup.objects.select_for_update(of=("self",))
        .filter(post=post, status=SignupStatus.WAITLISTED)
        .select_related("volunteer")
        .order_by("created_at", "pk")[:free]
    )
    for s in waiting:
        _set_status(s, SignupStatus.CONFIRMED)
        s.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action="signup.promote",
            obj=s,
            org=post.activity.org,
            object_repr=f"{s.volunteer.name} @ {post.title}",
            changes={"status": [SignupStatus.WAITLISTED, SignupStatus.CONFIRMED]},
        )
    if waiting:
        Post.objects.filter(pk=post.pk).update(filled=F("filled") + len(waiting))
        post.filled += len(waiting)
        for s in waiting:
            if s.volunteer.user_id:
                _tell(
                    User.objects.filter(pk=s.volunteer.user_id),
                    kind="signup.promoted",
                    title=_("You got a place: %(activity)s") % {"activity": post.activity.title},
                    body=_("A place freed up at “%(post)s” (%(when)s); you moved up from the waitlist.")
                    % {"post": post.title, "when": _fmt(post.starts_at)},
                    activity=post.activity,
                    dedupe_key=f"signup:{s.pk}:promoted",
                )
    return waiting


def _set_status(s: Signup, to: str) -> None:
    if to not in SIGNUP_TRANSITIONS.get(s.status, frozenset()):
        raise Conflict(
            _("A sign-up that is “%(old)s” cannot become “%(new)s”.")
            % {"old": SignupStatus(s.status).label, "new": SignupStatus(to).label},
            code="invalid_transition",
        )
    s.status = to


def _end(actor, signup_id, *, to: str, reason: str, now: datetime, check) -> Signup:
    """Withdraw or remove a sign-up: lock its post, free the place, promote the waitlist."""
    row = Signup.objects.filter(pk=signup_id).values_list("post_id", flat=True).first() if signup_id else None
    if row is None:
        raise NotFound()
    p = _locked_post(row)
    s = Signup.objects.select_for_update(of=("self",)).select_related("volunteer").get(pk=signup_id)
    s.post = p
    check(s, p)
    was = s.status
    _set_status(s, to)
    s.ended_at, s.group = now, None
    if reason:
        s.note = reason[:200]
    s.save(update_fields=["status", "ended_at", "group", "note", "updated_at"])
    audit.record(
        actor=actor,
        action="signup.withdraw" if to == SignupStatus.WITHDRAWN else "signup.remove",
        obj=s,
        org=p.activity.org,
        object_repr=f"{s.volunteer.name} @ {p.title}",
        changes={"status": [was, to]},
        note=reason,
    )
    if was == SignupStatus.CONFIRMED:
        Post.objects.filter(pk=p.pk).update(filled=F("filled") - 1)
        p.filled -= 1
        _promote(actor, p)
    return s


@transaction.atomic
def signup_withdraw(*, actor, signup_id: int, reason: str = "", now: datetime | None = None) -> Signup:
    """The volunteer withdraws their own sign-up: before the activity's withdrawal deadline, and always
    before the post starts for places a leader assigned (nobody is forced)."""
    now = _now(now)

    def check(s: Signup, p: Post) -> None:
        if s.volunteer.user_id != getattr(actor, "pk", None):
            raise NotFound()
        if s.status not in ACTIVE_SIGNUP:
            raise Conflict(_("This sign-up is no longer active."), code="not_active")
        if p.starts_at <= now:
            raise Conflict(_("The post has already started; tell the organizer instead."), code="post_started")
        deadline = p.activity.withdraw_deadline
        if s.assigned_by_id is None and deadline and now > deadline:
            raise Conflict(
                _("Withdrawals closed at %(when)s; please tell the organizer.") % {"when": _fmt(deadline)},
                code="withdraw_closed",
            )

    return _end(actor, signup_id, to=SignupStatus.WITHDRAWN, reason=(reason or "").strip(), now=now, check=check)


@transaction.atomic
def signup_remove(*, actor, signup_id: int, reason: str, now: datetime | None = None) -> Signup:
    """The organizer takes someone off a post, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the sign-up is removed.")]})

    def check(s: Signup, p: Post) -> None:
        if not scope.allows(actor, Perm.VIEW, p.activity.org):
            raise NotFound()
        if not scope.allows(actor, Perm.CHANGE, p.activity.org):
            raise PermissionDenied(_("Only staff of the organizing node may remove sign-ups."))
        if s.status not in ACTIVE_SIGNUP:
            raise Conflict(_("This sign-up is no longer active."), code="not_active")

    return _end(actor, signup_id, to=SignupStatus.REMOVED, reason=reason, now=_now(now), check=check)


# ---------------------------------------------------------------- groups


def _leader_key(s: Signup) -> tuple:
    """Group leader: the first party member by sign-up order, else whoever signed up first."""
    return (0 if s.volunteer.political_status in PARTY_STATUSES else 1, s.created_at, s.pk)


@transaction.atomic
def groups_build(*, actor, post_id: int) -> list[SignupGroup]:
    """Put every confirmed, ungrouped person of a post into a group of at most `group_size`.

    Re-run safe: existing groups and moves made by hand stay; people no longer confirmed leave their
    group; newcomers fill groups with room first, then new groups; a group without a leader gets one.
    """
    p = _for_change(actor, Post, post_id)
    size = p.activity.group_size or 8
    Signup.objects.filter(post=p, group__isnull=False).exclude(status=SignupStatus.CONFIRMED).update(group=None)
    groups = list(SignupGroup.objects.select_for_update().filter(post=p).order_by("number"))
    members = list(
        Signup.objects.filter(post=p, status=SignupStatus.CONFIRMED)
        .select_related("volunteer")
        .order_by("created_at", "pk")
    )
    by_group: dict[int, list[Signup]] = {g.pk: [] for g in groups}
    loose = []
    for s in members:
        by_group.get(s.group_id, loose).append(s)
    for g in groups:
        room = size - len(by_group[g.pk])
        take, loose = loose[: max(room, 0)], loose[max(room, 0) :]
        by_group[g.pk].extend(take)
    number = max((g.number for g in groups), default=0)
    while loose:
        number += 1
        g = SignupGroup.objects.create(post=p, number=number)
        groups.append(g)
        by_group[g.pk], loose = loose[:size], loose[size:]
    for g in groups:
        ids = [s.pk for s in by_group[g.pk]]
        Signup.objects.filter(pk__in=ids).exclude(group=g).update(group=g)
        member_vols = {s.volunteer_id for s in by_group[g.pk]}
        if g.leader_id not in member_vols:
            g.leader = min(by_group[g.pk], key=_leader_key).volunteer if by_group[g.pk] else None
            g.save(update_fields=["leader"])
    empty = [g.pk for g in groups if not by_group[g.pk]]
    SignupGroup.objects.filter(pk__in=empty).delete()
    groups = [g for g in groups if g.pk not in empty]
    audit.record(
        actor=actor,
        action="groups.build",
        obj=p,
        org=p.activity.org,
        note=f"{len(groups)} groups, {len(members)} people",
    )
    return groups


def _group_for_change(actor, group_id) -> SignupGroup:
    row = SignupGroup.objects.filter(pk=group_id).values_list("post_id", flat=True).first() if group_id else None
    if row is None:
        raise NotFound()
    p = _for_change(actor, Post, row)
    g = SignupGroup.objects.select_for_update().get(pk=group_id)
    g.post = p
    return g


@transaction.atomic
def group_move(*, actor, signup_id: int, group_id: int) -> Signup:
    """Move a confirmed person to another group of the same post (with room)."""
    g = _group_for_change(actor, group_id)
    s = Signup.objects.select_related("volunteer", "group").filter(pk=signup_id, post=g.post).first()
    if s is None:
        raise NotFound()
    if s.status != SignupStatus.CONFIRMED:
        raise Conflict(_("Only confirmed people are in groups."), code="not_confirmed")
    if s.group_id == g.pk:
        return s
    if g.members.count() >= g.post.activity.group_size:
        raise Conflict(
            _("Group %(n)s is full (%(size)d people).") % {"n": g, "size": g.post.activity.group_size},
            code="group_full",
        )
    old = s.group
    s.group = g
    s.save(update_fields=["group", "updated_at"])
    if old is not None and old.leader_id == s.volunteer_id:
        old.leader = None
        rest = list(old.members.select_related("volunteer").exclude(pk=s.pk))
        old.leader = min(rest, key=_leader_key).volunteer if rest else None
        old.save(update_fields=["leader"])
    audit.record(
        actor=actor,
        action="group.move",
        obj=s,
        org=g.post.activity.org,
        object_repr=f"{s.volunteer.name} @ {g.post.title}",
        changes={"group": [old.number if old else None, g.number]},
    )
    return s


@transaction.atomic
def group_set_leader(*, actor, group_id: int, volunteer_id: int) -> SignupGroup:
    """Make a member of the group its leader."""
    g = _group_for_change(actor, group_id)
    if not g.members.filter(volunteer_id=volunteer_id, status=SignupStatus.CONFIRMED).exists():
        raise ValidationError({"leader": [_("The group leader must be a member of the group.")]})
    before = audit.snapshot(g, ["leader"])
    g.leader_id = volunteer_id
    g.save(update_fields=["leader"])
    audit.record(actor=actor, action="group.set_leader", obj=g, org=g.post.activity.org, changes=audit.diff(before, g))
    return g


# ---------------------------------------------------------------- reports


@transaction.atomic
def report_file(*, actor, activity_id: int, summary: str) -> ActivityReport:
    """File (or rewrite) the summary of an activity that is in progress or finished."""
    a = _for_change(actor, Activity, activity_id)
    if a.status not in (ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED):
        raise Conflict(_("A report is filed once the activity has taken place."), code="not_held")
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": [_("Write a short summary.")]})
    report, created = ActivityReport.objects.get_or_create(activity=a, defaults={"summary": summary, "filed_by": actor})
    before = {"summary": "" if created else report.summary}
    if not created:
        report.summary, report.filed_by = summary, actor
        report.save(update_fields=["summary", "filed_by", "updated_at"])
    audit.record(
        actor=actor,
        action="report.file" if created else "report.update",
        obj=report,
        org=a.org,
        changes=audit.diff(before, report),
    )
    return report


def process_photo(upload) -> tuple[ContentFile, int, int]:
    """Check an upload by its content (Pillow), strip EXIF, turn it upright and shrink it to 1600 px.

    Returns a JPEG (or PNG for images with transparency) ready for default storage.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise ValidationError({"image": [_("The photo is larger than 10 MB; send a smaller one.")]})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError({"image": [_("The photo is larger than 10 MB; send a smaller one.")]})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {"image": [_("This file is not a picture we can read; send a JPEG, PNG or WebP photo.")]}
        ) from None
    img = ImageOps.exif_transpose(img)
    img.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
    out = io.BytesIO()
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        img.save(out, format="PNG", optimize=True)
        ext = "png"
    else:
        img = img.convert("RGB")
        img.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: metadata is dropped
        ext = "jpg"
    name = f"photo.{ext}"
    return ContentFile(out.getvalue(), name=name), img.width, img.height


@transaction.atomic
def report_add_photo(*, actor, activity_id: int, upload, caption: str = "") -> ReportPhoto:
    """Add a photo to the activity's report (the report must be filed first)."""
    a = _for_change(actor, Activity, activity_id)
    report = ActivityReport.objects.filter(activity=a).first()
    if report is None:
        raise Conflict(_("File the summary first, then add photos."), code="no_report")
    content, width, height = process_photo(upload)
    photo = ReportPhoto(report=report, caption=(caption or "").strip()[:120], width=width, height=height)
    photo.image.save(content.name, content, save=False)
    photo.save()
    audit.record(actor=actor, action="report.add_photo", obj=report, org=a.org, note=photo.image.name)
    return photo


@transaction.atomic
def report_delete_photo(*, actor, photo_id: int) -> None:
    photo = ReportPhoto.objects.select_related("report").filter(pk=photo_id).first()
    if photo is None:
        raise NotFound()
    a = _for_change(actor, Activity, photo.report.activity_id)
    name = photo.image.name
    photo.delete()
    transaction.on_commit(lambda: photo.image.storage.delete(name))
    audit.record(actor=actor, action="report.delete_photo", obj=photo.report, org=a.org, note=name)


def volunteer_visible_q(volunteer: Volunteer | None, prefix: str = "") -> Q:
    """Activities a volunteer may see (used by selectors and the sign-up check alike)."""
    if volunteer is None:
        return Q(pk__in=[])
    paths = team_selectors.ancestor_paths(volunteer.org.path)
    my_teams = TeamMembership.objects.filter(volunteer=volunteer, status=MembershipStatus.ACTIVE).values("team_id")
    return Q(**{f"{prefix}visibility": Visibility.SUBTREE, f"{prefix}org__path__in": paths}) | Q(
        **{f"{prefix}visibility": Visibility.TEAMS, f"{prefix}teams__in": my_teams}
    )
