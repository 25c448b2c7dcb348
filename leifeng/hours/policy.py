"""Who may see and do what with hours (built on `core.policy` / `core.scope`): one copy of each rule.

- a ledger entry, claim, correction request or certificate is seen by staff with Perm.VIEW at the node it
  hangs on (or above) and by the volunteer it belongs to (`<policy>.seen(actor)`, `.may_see(actor, obj)`);
- the organizing node (Perm.CHANGE there) corrects its records, decides back-fill claims and answers
  correction requests, and never for the actor's own volunteer profile (`.check_decider(actor, obj)`);
- a certificate is also seen by staff of the volunteer's station; only the issuing node (Perm.CHANGE there)
  issues, refuses or revokes it, never the volunteer themselves (`certificate_policy.check_decider`);
- an activity's hours review is open to staff who see the organizing node and to leaders running it
  (`may_review`).

Pages turn `NotFound` into 404 and `PermissionDenied` into 403 (`core.pages`); selectors filter with `seen`.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from leifeng.activities.models import Signup
from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.hours.codes import ErrorCode
from leifeng.hours.models import Certificate, CorrectionRequest, HoursClaim, ServiceRecord


def signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def is_own(actor, volunteer) -> bool:
    """The volunteer profile is the actor's own: nobody approves, corrects or certifies their own hours."""
    return volunteer.user_id is not None and volunteer.user_id == getattr(actor, "pk", None)


class HoursPolicy(ModelPolicy):
    """Rows about one volunteer's hours, hanging on a node through `org_field`, owned through `volunteer_field`."""

    volunteer_field = "volunteer"

    def __init__(self, model, *, org_field: str, volunteer_field: str = "volunteer"):
        super().__init__(model, org_field=org_field)
        self.volunteer_field = volunteer_field

    def volunteer_of(self, obj):
        for part in self.volunteer_field.split("."):
            obj = getattr(obj, part)
        return obj

    def own_q(self, actor) -> Q:
        if not signed_in(actor):
            return Q(pk__in=[])
        return Q(**{f"{self.volunteer_field.replace('.', '__')}__user": actor})

    def seen_q(self, actor) -> Q:
        """Staff who see the node, and the volunteer themselves."""
        return scope.q(actor, Perm.VIEW, self.org_field.replace(".", "__")) | self.own_q(actor)

    def seen(self, actor, qs: QuerySet | None = None) -> QuerySet:
        return (self.queryset() if qs is None else qs).filter(self.seen_q(actor))

    def own(self, actor, qs: QuerySet | None = None) -> QuerySet:
        return (self.queryset() if qs is None else qs).filter(self.own_q(actor))

    def may_see(self, actor, obj) -> bool:
        return is_own(actor, self.volunteer_of(obj)) or self.allows(actor, Perm.VIEW, obj)

    def may_decide(self, actor, obj) -> bool:
        """The organizing node, not for oneself (what the pages offer)."""
        return not is_own(actor, self.volunteer_of(obj)) and self.allows(actor, Perm.CHANGE, obj)


class RecordPolicy(HoursPolicy):
    def check_see(self, actor, record: ServiceRecord) -> None:
        if not self.may_see(actor, record):
            raise NotFound()

    def check_organizer(self, actor, record: ServiceRecord) -> None:
        """Only the organizing node corrects its records (reversals and re-entries), and nobody their own."""
        if not self.allows(actor, Perm.CHANGE, record):
            raise PermissionDenied(_("Only the organizing node may correct its records."))
        if is_own(actor, record.volunteer):
            raise PermissionDenied(_("Nobody may correct their own hours."))


class CorrectionPolicy(HoursPolicy):
    """A correction request is answered by the record's organizer: `record_policy.check_organizer`."""


class ClaimPolicy(HoursPolicy):
    def check_enter(self, actor, post, *, own_volunteer=None) -> None:
        """A back-fill for oneself: staff who see the node, or a person signed up for the post. For someone
        else: staff of the organizing node (Perm.CHANGE). Anything else is NotFound."""
        org = post.activity.org
        if own_volunteer is not None:
            if (
                not scope.allows(actor, Perm.VIEW, org)
                and not Signup.objects.filter(post=post, volunteer=own_volunteer).exists()
            ):
                raise NotFound()
        elif not scope.allows(actor, Perm.CHANGE, org):
            raise NotFound()

    def check_decider(self, actor, claim: HoursClaim) -> None:
        """Four eyes: the organizing node decides, neither the volunteer nor whoever entered the claim."""
        if claim.volunteer.user_id == actor.pk:
            raise PermissionDenied(_("Nobody may approve their own hours."), code=ErrorCode.OWN_HOURS)
        if not self.allows(actor, Perm.VIEW, claim):
            raise NotFound()
        if not self.allows(actor, Perm.CHANGE, claim):
            raise PermissionDenied(_("Only the organizing node may decide on back-filled hours."))
        if claim.entered_by_id == actor.pk:
            raise PermissionDenied(
                _("Someone other than who entered the claim must decide on it."), code=ErrorCode.FOUR_EYES
            )

    def refusal(self, actor, claim: HoursClaim) -> str:
        """Why the actor may not decide on this claim ("" when they may): the review page says it instead of
        offering buttons that can only fail."""
        try:
            self.check_decider(actor, claim)
        except (PermissionDenied, NotFound) as exc:
            return exc.message
        return ""

    def may_decide(self, actor, claim: HoursClaim) -> bool:
        return not self.refusal(actor, claim)


class CertificatePolicy(HoursPolicy):
    def seen_q(self, actor) -> Q:
        """Staff who see the issuing node or the volunteer's station, and the volunteer themselves."""
        return super().seen_q(actor) | scope.q(actor, Perm.VIEW, "volunteer__org")

    def may_see(self, actor, obj) -> bool:
        return super().may_see(actor, obj) or scope.allows(actor, Perm.VIEW, obj.volunteer.org)

    def decides_anywhere(self, actor) -> bool:
        """May the actor issue certificates at some node (the staff queue)?"""
        return scope.has_any(actor, Perm.CHANGE)

    def to_decide(self, actor, qs: QuerySet | None = None) -> QuerySet:
        """The certificates the actor may issue, refuse or revoke (Perm.CHANGE at the issuing node)."""
        return self.visible(actor, Perm.CHANGE, qs)

    def may_request_for(self, actor, volunteer, org, *, recorded_there) -> bool:
        """The volunteer for themselves; staff of the volunteer's station; staff of the issuing node for
        someone it recorded (`recorded_there()`, asked last: it says nothing about anyone else)."""
        return (
            volunteer.user_id == actor.pk
            or scope.allows(actor, Perm.CHANGE, volunteer.org)
            or (org is not None and scope.allows(actor, Perm.CHANGE, org) and recorded_there())
        )

    def check_decider(self, actor, cert: Certificate) -> None:
        if is_own(actor, cert.volunteer):
            raise PermissionDenied(_("Nobody may certify their own hours."), code=ErrorCode.OWN_CERTIFICATE)
        if not self.allows(actor, Perm.CHANGE, cert):
            raise PermissionDenied(
                _("Only the organization that organized the service (%(org)s) may certify it.")
                % {"org": cert.org.name},
                code=ErrorCode.NOT_ORGANIZER,
            )


record_policy = RecordPolicy(ServiceRecord, org_field="org")
correction_policy = CorrectionPolicy(CorrectionRequest, org_field="record.org", volunteer_field="record.volunteer")
claim_policy = ClaimPolicy(HoursClaim, org_field="post.activity.org")
certificate_policy = CertificatePolicy(Certificate, org_field="org")


# ---------------------------------------------------------------- an activity's hours review


def may_review(actor, org) -> bool:
    """Staff who see the organizing node, and team leaders running attendance there."""
    return (
        scope.allows(actor, Perm.VIEW, org)
        or scope.allows(actor, Perm.CHANGE, org)
        or scope.allows(actor, Perm.LEAD_TEAM, org)
    )


def may_change_hours(actor, org) -> bool:
    """Correct records, decide claims, enter back-fills for others at this node."""
    return scope.allows(actor, Perm.CHANGE, org)
