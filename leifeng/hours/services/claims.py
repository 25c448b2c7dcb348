"""Back-fill claims (补录): hours entered after the fact, within the post's window, and approved by someone
who is neither the volunteer nor the person who entered the claim (four eyes). An approved claim becomes a
BACKFILLED ledger entry. Who may is `hours.policy.claim_policy`.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.models import Post
from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound
from leifeng.hours.codes import AuditAction, ErrorCode
from leifeng.hours.models import CLAIM_TRANSITIONS, ClaimStatus, HoursClaim, RecordKind, RecordSource
from leifeng.hours.policy import claim_policy
from leifeng.hours.services.ledger import _allot, _split_for_storage, _write, local_date
from leifeng.people.models import Volunteer


def _moment(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _post_for_claim(actor, post_id):
    post = Post.objects.select_related("activity__org").filter(pk=post_id).first()
    if post is None:
        raise NotFound()
    return post


@transaction.atomic
def claim_create(
    *, actor, post_id: int, volunteer_id: int | None = None, started_at: datetime, ended_at: datetime, note: str = ""
) -> HoursClaim:
    """Back-fill (补录) hours for a post: the volunteer for themselves, or staff of the organizer for anyone.

    The claimed interval must lie within the post's window (so never more than its length): one reaching beyond
    it is refused by field, naming the post's start or end, and nothing is written.
    """
    post = _post_for_claim(actor, post_id)
    org = post.activity.org
    own = Volunteer.objects.filter(user=actor).first() if actor.is_authenticated else None
    if volunteer_id is None or (own is not None and own.pk == volunteer_id):
        if own is None:
            raise ValidationError({"volunteer": [_("Choose the volunteer.")]})
        volunteer = own
        claim_policy.check_enter(actor, post, own_volunteer=own)
    else:
        claim_policy.check_enter(actor, post)
        volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
        if volunteer is None:
            raise ValidationError({"volunteer": [_("Unknown volunteer.")]})
    if ended_at <= started_at:
        raise ValidationError({"ended_at": [_("The end must come after the start.")]})
    if ended_at <= post.starts_at or started_at >= post.ends_at:
        raise ValidationError({"started_at": [_("The time claimed lies outside the post's hours.")]})
    # Never cut silently: a claim reaching beyond the post is refused, saying where the post begins or ends.
    beyond: dict[str, list[str]] = {}
    if started_at < post.starts_at:
        beyond["started_at"] = [
            _("The post starts at %(time)s; a back-fill cannot start earlier.") % {"time": _moment(post.starts_at)}
        ]
    if ended_at > post.ends_at:
        beyond["ended_at"] = [
            _("The post ends at %(time)s; a back-fill cannot end later.") % {"time": _moment(post.ends_at)}
        ]
    if beyond:
        raise ValidationError(beyond)
    start, end = started_at, ended_at
    minutes = int((end - start).total_seconds() // 60)
    if minutes <= 0:
        raise ValidationError({"ended_at": [_("The back-fill is shorter than a minute.")]})
    if HoursClaim.objects.filter(post=post, volunteer=volunteer, status=ClaimStatus.PENDING).exists():
        raise Conflict(_("A claim for this post is already waiting for a decision."), code=ErrorCode.ALREADY_OPEN)
    claim = HoursClaim.objects.create(
        volunteer=volunteer,
        post=post,
        started_at=start,
        ended_at=end,
        minutes=minutes,
        note=(note or "").strip()[:200],
        entered_by=actor,
    )
    audit.record(
        actor=actor,
        action=AuditAction.HOURS_CLAIM_CREATE,
        obj=claim,
        org=org,
        changes={"volunteer": volunteer.pk, "post": post.pk, "minutes": minutes},
    )
    return claim


@transaction.atomic
def claim_decide(*, actor, claim_id: int, approve: bool, note: str = "", now=None) -> HoursClaim:
    """Approve (→ BACKFILLED record) or reject a claim. The approver is neither the volunteer nor who entered it."""
    try:
        claim = (
            HoursClaim.objects.select_for_update(of=("self",))
            .select_related("post__activity__org", "volunteer")
            .get(pk=claim_id)
        )
    except (HoursClaim.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    org = claim.post.activity.org
    claim_policy.check_decider(actor, claim)
    target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    CLAIM_TRANSITIONS.check(claim.status, target)
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Say why the claim is rejected.")]})
    if approve:
        post = claim.post
        credited, split = _allot(
            volunteer_id=claim.volunteer_id,
            org=org,
            service_date=local_date(claim.started_at),
            minutes=claim.minutes,
            started_at=claim.started_at,
            ended_at=claim.ended_at,
        )
        if credited <= 0:
            raise Conflict(
                _("These hours are already counted for this person (overlap or daily cap)."),
                code=ErrorCode.NOTHING_TO_CREDIT,
            )
        claim.record = _write(
            actor=actor,
            volunteer_id=claim.volunteer_id,
            org=org,
            kind=RecordKind.BACKFILLED,
            source=RecordSource.BACKFILL,
            source_id=str(claim.pk),
            minutes=credited,
            service_date=local_date(claim.started_at),
            content=f"{post.activity.title} · {post.title}",
            category=post.activity.category,
            activity=post.activity,
            post=post,
            started_at=claim.started_at,
            ended_at=claim.ended_at,
            approved_by=actor,
            reason=claim.note,
            day_minutes=_split_for_storage(local_date(claim.started_at), split),
        )
    before = CLAIM_TRANSITIONS.move(claim, target)
    claim.decided_by = actor
    claim.decided_at = now or timezone.now()
    claim.decision_note = note[:200]
    claim.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "record"])
    audit.record(
        actor=actor,
        action=AuditAction(f"hours_claim.{target}"),
        obj=claim,
        org=org,
        changes={"status": [before, target]},
    )
    return claim
