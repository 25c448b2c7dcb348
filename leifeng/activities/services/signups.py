"""Sign-ups: a volunteer's own, a leader's bulk assignment, withdrawal, removal, the waitlist's promotion."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.models import User
from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    ACTIVE_SIGNUP,
    SIGNUP_TRANSITIONS,
    Activity,
    Post,
    Signup,
    SignupStatus,
    Visibility,
)
from leifeng.activities.policy import OPEN_FOR_SIGNUP, activity_policy, signup_policy
from leifeng.activities.services.base import ADULT_AGE, HOT_POST_FIELDS, _fmt, _now, _tell
from leifeng.core import audit, rules
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.roles import Perm
from leifeng.orgs.models import Org
from leifeng.people.models import Skill, Volunteer, VolunteerStatus
from leifeng.teams import selectors as team_selectors
from leifeng.teams.models import MembershipStatus, Team, TeamMembership


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _check_eligible(volunteer: Volunteer, post: Post, *, now: datetime, assigned: bool) -> None:
    """Everything but quota and overlap; raises ServiceError with a message for the person."""
    a = post.activity
    if volunteer.status != VolunteerStatus.APPROVED:
        raise ServiceError(
            _("%(name)s is not an approved volunteer.") % {"name": volunteer.name}, code=ErrorCode.NOT_APPROVED
        )
    if a.status not in OPEN_FOR_SIGNUP:
        raise Conflict(_("This activity is not open for sign-up."), code=ErrorCode.NOT_PUBLISHED)
    if post.starts_at <= now:
        raise Conflict(_("This post has already started."), code=ErrorCode.POST_STARTED)
    if not assigned:
        if a.signup_opens_at and now < a.signup_opens_at:
            raise Conflict(
                _("Sign-up opens at %(when)s.") % {"when": _fmt(a.signup_opens_at)}, code=ErrorCode.SIGNUP_NOT_OPEN
            )
        if a.signup_closes_at and now > a.signup_closes_at:
            raise Conflict(
                _("Sign-up closed at %(when)s.") % {"when": _fmt(a.signup_closes_at)}, code=ErrorCode.SIGNUP_CLOSED
            )
    age = age_on(volunteer.birth_date, timezone.localtime(post.starts_at).date())
    if age is not None and age < ADULT_AGE:
        if age < rules.rule(Org.objects.get(pk=a.org_id), "min_volunteer_age"):  # rare: load the node's rules
            raise ServiceError(
                _("%(name)s is too young to serve.") % {"name": volunteer.name}, code=ErrorCode.TOO_YOUNG
            )
        if not a.minors_allowed:
            raise ServiceError(_("This activity does not take volunteers under 18."), code=ErrorCode.MINORS_NOT_ALLOWED)
        if volunteer.guardian_consent_at is None:
            raise ServiceError(
                _("%(name)s is under 18: a guardian's consent must be recorded first.") % {"name": volunteer.name},
                code=ErrorCode.GUARDIAN_CONSENT_MISSING,
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
            _("This post needs these skills: %(skills)s.") % {"skills": "、".join(missing)},
            code=ErrorCode.SKILLS_MISSING,
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
            _("%(name)s has already signed up for this post.") % {"name": volunteer.name},
            code=ErrorCode.ALREADY_SIGNED_UP,
        )
    raise Conflict(
        _("%(name)s already holds a post at that time: %(activity)s · %(post)s.")
        % {"name": volunteer.name, "activity": clash[2], "post": clash[1]},
        code=ErrorCode.OVERLAP,
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
    if status not in OPEN_FOR_SIGNUP:
        raise Conflict(_("This activity is not open for sign-up."), code=ErrorCode.NOT_PUBLISHED)


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
            _("%(name)s has already signed up for this post.") % {"name": volunteer.name},
            code=ErrorCode.ALREADY_SIGNED_UP,
        ) from None
    audit.record(
        actor=actor,
        action=AuditAction.SIGNUP_ASSIGN if assigned_by else AuditAction.SIGNUP_CREATE,
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
        raise ServiceError(_("Only registered volunteers can sign up."), code=ErrorCode.NOT_A_VOLUNTEER)
    if volunteer is not None and volunteer.pk != me.pk:
        raise PermissionDenied(_("Volunteers sign up themselves; leaders use “assign”."))
    if p is None:
        raise NotFound()
    if not activity_policy.volunteer_may_see(me, p.activity):
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
        activity_policy.allows(actor, Perm.VIEW, info.activity) or activity_policy.team_reaches(team, info.activity)
    ):
        raise NotFound()
    if not activity_policy.may_assign_for(actor, team, info.activity):
        raise PermissionDenied(_("Only the team's leader or staff may assign its members."))
    if info.activity.visibility == Visibility.TEAMS and not info.activity.teams.filter(pk=team.pk).exists():
        raise ServiceError(_("This activity is open only to the teams it lists."), code=ErrorCode.TEAM_NOT_INVITED)
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
            if p.activity.visibility == Visibility.SUBTREE and not activity_policy.volunteer_may_see(v, p.activity):
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
        SIGNUP_TRANSITIONS.move(s, SignupStatus.CONFIRMED)
        s.save(update_fields=["status", "updated_at"])
        audit.record(
            actor=actor,
            action=AuditAction.SIGNUP_PROMOTE,
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
    SIGNUP_TRANSITIONS.move(s, to)
    s.ended_at, s.group = now, None
    if reason:
        s.note = reason[:200]
    s.save(update_fields=["status", "ended_at", "group", "note", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.SIGNUP_WITHDRAW if to == SignupStatus.WITHDRAWN else AuditAction.SIGNUP_REMOVE,
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
            raise Conflict(_("This sign-up is no longer active."), code=ErrorCode.NOT_ACTIVE)
        if p.starts_at <= now:
            raise Conflict(_("The post has already started; tell the organizer instead."), code=ErrorCode.POST_STARTED)
        deadline = p.activity.withdraw_deadline
        if s.assigned_by_id is None and deadline and now > deadline:
            raise Conflict(
                _("Withdrawals closed at %(when)s; please tell the organizer.") % {"when": _fmt(deadline)},
                code=ErrorCode.WITHDRAW_CLOSED,
            )

    return _end(actor, signup_id, to=SignupStatus.WITHDRAWN, reason=(reason or "").strip(), now=now, check=check)


@transaction.atomic
def signup_remove(*, actor, signup_id: int, reason: str, now: datetime | None = None) -> Signup:
    """The organizer takes someone off a post, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the sign-up is removed.")]})

    def check(s: Signup, p: Post) -> None:
        signup_policy.check_change(actor, s)
        if s.status not in ACTIVE_SIGNUP:
            raise Conflict(_("This sign-up is no longer active."), code=ErrorCode.NOT_ACTIVE)

    return _end(actor, signup_id, to=SignupStatus.REMOVED, reason=reason, now=_now(now), check=check)
