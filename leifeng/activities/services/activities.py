"""Activities: create, change, delete, and every status move (publish, start, finish, unpublish, cancel, clock)."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.models import User
from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    ACTIVITY_TRANSITIONS,
    SIGNUP_TRANSITIONS,
    Activity,
    ActivityCategory,
    ActivityStatus,
    Campaign,
    Insurance,
    Post,
    Signup,
    SignupStatus,
    Visibility,
)
from leifeng.activities.services.base import ACTIVITY_FIELDS, _fmt, _for_change, _now, _org_for_change, _tell
from leifeng.core import audit
from leifeng.core.errors import Conflict, ServiceError
from leifeng.orgs.models import Unit
from leifeng.teams import selectors as team_selectors
from leifeng.teams.models import Team


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
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code=ErrorCode.UNKNOWN_FIELD)
    a = Activity(org=org, created_by=actor, **fields)
    _validate_activity(a)
    a.save()
    _set_teams(a, team_ids)
    if a.visibility == Visibility.TEAMS and not a.teams.exists():
        raise ValidationError({"teams": [_("List the teams that may see the activity.")]})
    audit.record(actor=actor, action=AuditAction.ACTIVITY_CREATE, obj=a, changes=audit.snapshot(a, ACTIVITY_FIELDS))
    return a


@transaction.atomic
def activity_update(*, actor, activity_id: int, team_ids: list[int] | None = None, **changes) -> Activity:
    """Change fields of an activity that is not finished or cancelled."""
    a = _for_change(actor, Activity, activity_id)
    if a.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code=ErrorCode.CLOSED)
    before = audit.snapshot(a, ACTIVITY_FIELDS)
    allowed = {f if f not in ("org", "campaign", "lead_unit") else f + "_id" for f in ACTIVITY_FIELDS}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code=ErrorCode.UNKNOWN_FIELD)
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
    audit.record(actor=actor, action=AuditAction.ACTIVITY_UPDATE, obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_delete(*, actor, activity_id: int) -> None:
    """Delete a draft nobody ever signed up for; anything else is cancelled instead, so its history stays."""
    a = _for_change(actor, Activity, activity_id)
    if a.status != ActivityStatus.DRAFT or Signup.objects.filter(post__activity=a).exists():
        raise Conflict(
            _("Only a draft nobody signed up for can be deleted; cancel it instead."), code=ErrorCode.NOT_DELETABLE
        )
    audit.record(actor=actor, action=AuditAction.ACTIVITY_DELETE, obj=a, changes=audit.snapshot(a, ["title", "status"]))
    a.delete()


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
    ACTIVITY_TRANSITIONS.move(a, ActivityStatus.PUBLISHED)
    if not a.posts.exists():
        raise ServiceError(_("Add at least one post before publishing."), code=ErrorCode.NO_POSTS)
    if a.risky:
        gap = insurance_gap(a)
        if gap is not None:
            raise ServiceError(
                _(
                    "This activity is marked risky: record an insurance policy covering %(first)s to %(last)s "
                    "before publishing it."
                )
                % {"first": _fmt(gap[0]), "last": _fmt(gap[1])},
                code=ErrorCode.INSURANCE_REQUIRED,
            )
    a.published_at = _now(now)
    a.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.ACTIVITY_PUBLISH, obj=a, changes=audit.diff(before, a))
    return a


def _simple_move(actor, activity_id: int, to: str, action: str) -> Activity:
    a = _for_change(actor, Activity, activity_id)
    before = audit.snapshot(a, ["status"])
    ACTIVITY_TRANSITIONS.move(a, to)
    a.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=action, obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_start(*, actor, activity_id: int) -> Activity:
    """Published → in progress (check-in opens)."""
    return _simple_move(actor, activity_id, ActivityStatus.IN_PROGRESS, AuditAction.ACTIVITY_START)


@transaction.atomic
def activity_finish(*, actor, activity_id: int) -> Activity:
    """In progress → finished (the report can be filed)."""
    return _simple_move(actor, activity_id, ActivityStatus.FINISHED, AuditAction.ACTIVITY_FINISH)


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
    ACTIVITY_TRANSITIONS.move(a, to)
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
                    AuditAction.ACTIVITY_START,
                    f"automatic: first post started at {timezone.localtime(window['first']):%Y-%m-%d %H:%M}",
                )
                done["started"] += 1
            if a.status == ActivityStatus.IN_PROGRESS and window["last"] <= now:
                _auto_move(
                    a,
                    ActivityStatus.FINISHED,
                    AuditAction.ACTIVITY_FINISH,
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
            code=ErrorCode.HAS_SIGNUPS,
        )
    before = audit.snapshot(a, ["status"])
    ACTIVITY_TRANSITIONS.move(a, ActivityStatus.DRAFT)
    a.published_at = None
    a.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.ACTIVITY_UNPUBLISH, obj=a, changes=audit.diff(before, a))
    return a


@transaction.atomic
def activity_cancel(*, actor, activity_id: int, reason: str, now: datetime | None = None) -> Activity:
    """Cancel with a reason; every active sign-up is withdrawn (no notifications sent yet)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the activity is cancelled.")]})
    a = _for_change(actor, Activity, activity_id)
    before = audit.snapshot(a, ["status", "cancel_reason"])
    ACTIVITY_TRANSITIONS.move(a, ActivityStatus.CANCELLED)
    a.cancel_reason = reason[:200]
    a.save(update_fields=["status", "cancel_reason", "updated_at"])
    posts = list(Post.objects.select_for_update().filter(activity=a).order_by("pk").values_list("pk", flat=True))
    affected = list(
        Signup.objects.filter(post_id__in=posts, status__in=ACTIVE_SIGNUP, volunteer__user__isnull=False)
        .values_list("volunteer__user_id", flat=True)
        .distinct()
    )
    # every sign-up the table lets become "withdrawn" (the active ones), in one conditional UPDATE
    withdrawn = Signup.objects.filter(
        post_id__in=posts, status__in=SIGNUP_TRANSITIONS.sources(SignupStatus.WITHDRAWN)
    ).update(status=SignupStatus.WITHDRAWN, ended_at=_now(now), group=None, note=_("Activity cancelled")[:200])
    Post.objects.filter(pk__in=posts).update(filled=0)
    audit.record(
        actor=actor,
        action=AuditAction.ACTIVITY_CANCEL,
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
        action=AuditAction.ACTIVITY_ADD_INSURANCE,
        obj=ins,
        org=a.org,
        changes={"policy": [None, ins.policy_number], "covers": [None, [covers_from, covers_to]]},
    )
    return ins
