"""Posts (岗位) of an activity: create, change (quota, window), delete."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    Activity,
    ActivityStatus,
    Post,
    Signup,
)
from leifeng.activities.services.base import POST_FIELDS, _for_change
from leifeng.activities.services.signups import _promote
from leifeng.core import audit
from leifeng.core.errors import Conflict, ServiceError
from leifeng.people.models import Skill, Volunteer


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
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code=ErrorCode.CLOSED)
    p = Post(activity=a, title=title, starts_at=starts_at, ends_at=ends_at, quota=quota, description=description)
    _validate_post(p)
    p.save()
    _set_skills(p, skill_ids)
    audit.record(actor=actor, action=AuditAction.POST_CREATE, obj=p, org=a.org, changes=audit.snapshot(p, POST_FIELDS))
    return p


def _lock_signed_up(post_id) -> None:
    """Lock the volunteer rows of the post's active sign-ups before the post (the sign-ups' lock order:
    volunteer → post), so nobody signed up here takes another post while the window moves."""
    try:
        ids = Signup.objects.filter(post_id=post_id, status__in=ACTIVE_SIGNUP).values("volunteer_id")
        list(Volunteer.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))
    except (ValueError, TypeError):
        pass  # a malformed id: _for_change answers NotFound


def _check_moved_window(p: Post) -> None:
    """Nobody holding an active sign-up of `p` may then hold another active sign-up overlapping its new
    window: the move is refused, naming them (the sign-ups' window copy is what the overlap check reads)."""
    here = Signup.objects.filter(post=p, status__in=ACTIVE_SIGNUP).values("volunteer_id")
    names = list(
        Signup.objects.filter(
            volunteer_id__in=here, status__in=ACTIVE_SIGNUP, starts_at__lt=p.ends_at, ends_at__gt=p.starts_at
        )
        .exclude(post=p)
        .order_by("volunteer__name", "volunteer_id")
        .values_list("volunteer__name", flat=True)
        .distinct()
    )
    if names:
        raise Conflict(
            _(
                "At the new time %(names)s would hold two posts at once (they hold another post then); "
                "move or remove their sign-ups first."
            )
            % {"names": "、".join(names)},
            code=ErrorCode.OVERLAP,
        )


@transaction.atomic
def post_update(*, actor, post_id: int, skill_ids: list[int] | None = None, **changes) -> Post:
    """Change a post. A lower quota may not drop below those confirmed; a higher one promotes the waitlist.
    A new time window is copied onto the sign-ups, and refused (nothing changed) when someone signed up here
    would then hold two overlapping posts."""
    moves = "starts_at" in changes or "ends_at" in changes
    if moves:
        _lock_signed_up(post_id)
    p = _for_change(actor, Post, post_id)
    if p.activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise Conflict(_("A finished or cancelled activity can no longer be changed."), code=ErrorCode.CLOSED)
    unknown = set(changes) - set(POST_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code=ErrorCode.UNKNOWN_FIELD)
    before = audit.snapshot(p, POST_FIELDS)
    for name, value in changes.items():
        setattr(p, name, value)
    _validate_post(p)
    if p.quota < p.filled:
        raise ValidationError(
            {"quota": [_("%(n)d people are confirmed already; the quota cannot be lower.") % {"n": p.filled}]}
        )
    if moves:
        _lock_signed_up(p.pk)  # anyone who signed up between the first lock and the post's lock
        _check_moved_window(p)
    p.save()
    _set_skills(p, skill_ids)
    if moves:
        Signup.objects.filter(post=p).update(starts_at=p.starts_at, ends_at=p.ends_at)
    audit.record(actor=actor, action=AuditAction.POST_UPDATE, obj=p, org=p.activity.org, changes=audit.diff(before, p))
    _promote(actor, p)
    return p


@transaction.atomic
def post_delete(*, actor, post_id: int) -> None:
    """Delete a post nobody has signed up for."""
    p = _for_change(actor, Post, post_id)
    if Signup.objects.filter(post=p).exists():
        raise Conflict(_("People have signed up for this post; it cannot be deleted."), code=ErrorCode.HAS_SIGNUPS)
    audit.record(
        actor=actor, action=AuditAction.POST_DELETE, obj=p, org=p.activity.org, changes=audit.snapshot(p, POST_FIELDS)
    )
    p.delete()
