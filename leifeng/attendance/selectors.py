"""Reads of attendance, scoped by `attendance.policy`: staff who may see the organizing node, leaders running it,
the person themselves."""

from django.db.models import OuterRef, QuerySet, Subquery

from leifeng.activities.models import Activity, Post, Signup, SignupStatus
from leifeng.attendance.models import Attendance, AttendanceStatus, RollCallMark
from leifeng.attendance.policy import attendance_policy
from leifeng.core.errors import NotFound
from leifeng.hours import selectors as hours_selectors


def activity_for_review(*, actor, activity_id) -> Activity:
    """The activity if the actor may see its attendance: whoever may review its hours (staff with VIEW, or
    leaders running it). The rule is `hours.policy.may_review`; the hours selector applies it."""
    return hours_selectors.activity_for_review(actor=actor, activity_id=activity_id)


def activity_for_kiosk(*, actor, activity_id) -> Activity:
    """The activity whose kiosk the actor may run (`attendance_policy.may_run`); NotFound otherwise."""
    activity = Activity.objects.select_related("org").filter(pk=activity_id).first() if activity_id else None
    if activity is None:
        raise NotFound()
    attendance_policy.check_run(actor, activity.org)
    return activity


def attendance_list(*, actor, activity: Activity, status: str = "", flagged: bool = False) -> QuerySet[Attendance]:
    """Presences and no-shows of an activity (the caller got `activity` through activity_for_review)."""
    qs = Attendance.objects.filter(activity=activity)
    if status:
        qs = qs.filter(status=status)
    if flagged:
        qs = qs.filter(auto_closed=True)
    return qs.select_related("post", "volunteer", "record").order_by("post__starts_at", "post_id", "id")


def flagged(*, activity: Activity) -> QuerySet[Attendance]:
    """Forgotten check-outs closed automatically: the organizer should look at them."""
    return attendance_list(actor=None, activity=activity, flagged=True)


def no_shows(*, activity: Activity) -> QuerySet[Attendance]:
    return attendance_list(actor=None, activity=activity, status=AttendanceStatus.ABSENT)


def post_for_roll_call(*, actor, post_id) -> tuple[Post, set[int] | None]:
    post = Post.objects.select_related("activity__org").filter(pk=post_id).first() if post_id else None
    if post is None:
        raise NotFound()
    return post, attendance_policy.roll_call_access(actor, post)


def roll_call_roster(*, post: Post, only: set[int] | None = None) -> QuerySet[Signup]:
    """Confirmed members of the post with their latest mark, presence status and open check-in time, in one query."""
    marks = RollCallMark.objects.filter(post=post, volunteer=OuterRef("volunteer")).values("mark")[:1]
    presence = (
        Attendance.objects.filter(post=post, volunteer=OuterRef("volunteer")).order_by("-id").values("status")[:1]
    )
    method = (
        Attendance.objects.filter(post=post, volunteer=OuterRef("volunteer")).order_by("-id").values("method_in")[:1]
    )
    since = (
        Attendance.objects.filter(post=post, volunteer=OuterRef("volunteer"), status=AttendanceStatus.OPEN)
        .order_by("-id")
        .values("checked_in_at")[:1]
    )
    qs = Signup.objects.filter(post=post, status=SignupStatus.CONFIRMED)
    if only is not None:
        qs = qs.filter(volunteer_id__in=only)
    return (
        qs.select_related("volunteer", "group")
        .annotate(
            mark=Subquery(marks),
            presence=Subquery(presence),
            presence_method=Subquery(method),
            checked_in_at=Subquery(since),
        )
        .order_by("group__number", "volunteer__name", "id")
    )


def my_attendance(*, actor) -> QuerySet[Attendance]:
    return attendance_policy.own(actor).select_related("post", "activity", "record").order_by("-post__starts_at", "-id")
