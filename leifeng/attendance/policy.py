"""Who may run and see attendance (built on `core.policy` / `core.scope`): one copy of each rule.

- running attendance (the kiosk, duration codes, 代签到 / 代签退, the whole roll call of a post) is for staff of
  the organizing node (Perm.CHANGE, at it or above) and team leaders holding their role there (Perm.LEAD_TEAM):
  `attendance_policy.may_run(actor, org)`;
- a group leader calls the roll of their own group only: `attendance_policy.roll_call_access(actor, post)`;
- an activity's presences and no-shows are read by whoever may review its hours (`hours.policy.may_review`);
- a volunteer sees their own check-ins: `attendance_policy.own(actor)`.

Anything else is `NotFound` (a page's 404), the same answer as for something that does not exist.
"""

from django.db.models import QuerySet

from leifeng.activities.models import Post, Signup, SignupGroup, SignupStatus
from leifeng.attendance.models import Attendance
from leifeng.core import scope
from leifeng.core.errors import NotFound
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.hours.policy import may_review, signed_in


class AttendancePolicy(ModelPolicy):
    """Presences hang on the activity's organizing node."""

    def may_run(self, actor, org) -> bool:
        """Staff of the organizing node (or above), and team leaders holding their role there."""
        return scope.allows(actor, Perm.CHANGE, org) or scope.allows(actor, Perm.LEAD_TEAM, org)

    def check_run(self, actor, org) -> None:
        if not self.may_run(actor, org):
            raise NotFound()

    def may_review(self, actor, org) -> bool:
        """Read an activity's presences and no-shows: whoever reviews its hours."""
        return may_review(actor, org)

    def roll_call_access(self, actor, post: Post) -> set[int] | None:
        """None = every member of the post; a set = only these volunteers (a group leader's own group);
        NotFound for anyone else."""
        if self.may_run(actor, post.activity.org):
            return None
        groups = list(SignupGroup.objects.filter(post=post, leader__user=actor).values_list("pk", flat=True))
        if not groups:
            raise NotFound()
        return set(
            Signup.objects.filter(post=post, group_id__in=groups, status=SignupStatus.CONFIRMED).values_list(
                "volunteer_id", flat=True
            )
        )

    def own(self, actor, qs: QuerySet | None = None) -> QuerySet:
        """The actor's own presences (as a volunteer)."""
        qs = self.queryset() if qs is None else qs
        return qs.filter(volunteer__user=actor) if signed_in(actor) else qs.none()


attendance_policy = AttendancePolicy(Attendance, org_field="activity.org")
may_run = attendance_policy.may_run
roll_call_access = attendance_policy.roll_call_access
