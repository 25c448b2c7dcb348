"""Attendance (签到 / 签退): presence intervals per (post, volunteer), roll-call marks, duration codes.

A presence (`Attendance`) opens at check-in and closes at check-out; closing it writes the verified
service record (leifeng.hours.services.record_presence). A no-show is an `Attendance` row with status
ABSENT and no times. Every check-in/out through the kiosk or the API carries an idempotency key
(`CheckRequest.key`, unique): a retried request answers with the first result and never writes twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.core.errors import ErrorCode
from leifeng.core.transitions import Transitions


class Method(models.TextChoices):
    KIOSK = "kiosk", _("Kiosk QR code")
    ROLL_CALL = "roll_call", _("Roll call")
    DURATION_CODE = "duration_code", _("Duration code")
    STAFF = "staff", _("Entered by staff")
    AUTO = "auto", _("Closed automatically")


class AttendanceStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("attendance status", "Checked in")
    CLOSED = "closed", pgettext_lazy("attendance status", "Checked out")
    ABSENT = "absent", pgettext_lazy("attendance status", "No-show")


# A new presence starts OPEN (or ABSENT for a no-show): creating a row is not a move. A closed one is final.
ATTENDANCE_TRANSITIONS = Transitions(
    AttendanceStatus,
    {
        AttendanceStatus.OPEN: {AttendanceStatus.CLOSED, AttendanceStatus.ABSENT},
        # a no-show marked by mistake (the leader missed someone) may still arrive
        AttendanceStatus.ABSENT: {AttendanceStatus.OPEN, AttendanceStatus.CLOSED},
    },
    message=_("This presence cannot change."),
    code=ErrorCode.INVALID,  # the code this refusal always had
)


class Attendance(models.Model):
    """One presence interval of a volunteer at a post (or a no-show when status is ABSENT)."""

    # activity and volunteer lead the composite indexes below, which serve their lookups too: a separate index
    # on each would be written on every check-in for nothing (Lei Feng Day's burst pays for every index)
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("activity"),
        on_delete=models.CASCADE,
        related_name="attendances",
        db_index=False,
    )
    post = models.ForeignKey("activities.Post", verbose_name=_("post"), on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey(
        "people.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="attendances",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=AttendanceStatus.choices)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    method_in = models.CharField(_("check-in by"), max_length=16, choices=Method.choices, blank=True)
    method_out = models.CharField(_("check-out by"), max_length=16, choices=Method.choices, blank=True)
    late = models.BooleanField(_("late"), default=False)
    # A forgotten check-out closed at the post's end: flagged for the organizer to look at.
    auto_closed = models.BooleanField(_("closed automatically"), default=False)
    record = models.OneToOneField(
        "hours.ServiceRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="attendance"
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("the leader or staff member, when not the volunteer themselves"),
        db_index=False,  # indexed below only where set: kiosk and phone check-ins leave it empty
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["post", "checked_in_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "volunteer"], condition=Q(status="open"), name="one_open_presence_per_post"
            ),
            models.UniqueConstraint(
                fields=["post", "volunteer"], condition=Q(status="absent"), name="one_no_show_per_post"
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=models.F("checked_in_at")),
                name="presence_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "activity", "status"]),
            models.Index(fields=["activity", "status"]),
            models.Index(fields=["marked_by"], condition=Q(marked_by__isnull=False), name="attendance_marked_by"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} @ {self.post}"


class CheckRequest(models.Model):
    """The idempotency key of one check-in/out (or code entry): the first request's result, replayed on retry."""

    key = models.CharField(max_length=80)  # unique: Meta (a constraint, without the LIKE index unique=True adds)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    attendance = models.ForeignKey(Attendance, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8, blank=True)  # "in" / "out"
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("check-in request")
        verbose_name_plural = _("check-in requests")
        constraints = [models.UniqueConstraint(fields=["key"], name="one_request_per_key")]


class RollMark(models.TextChoices):
    PRESENT = "present", pgettext_lazy("roll call", "Present")
    LATE = "late", pgettext_lazy("roll call", "Late")
    ABSENT = "absent", pgettext_lazy("roll call", "Absent")


class RollCallMark(models.Model):
    """What the leader marked for one member at a post's roll call (the latest mark counts)."""

    post = models.ForeignKey("activities.Post", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey("people.Volunteer", on_delete=models.PROTECT, related_name="+")
    mark = models.CharField(_("mark"), max_length=16, choices=RollMark.choices)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField(_("marked at"))

    class Meta:
        verbose_name = _("roll-call mark")
        verbose_name_plural = _("roll-call marks")
        constraints = [models.UniqueConstraint(fields=["post", "volunteer"], name="one_roll_mark_per_member")]


class DurationCode(models.Model):
    """时长码: a short code for a post, handed out at the end; entering it records presence for the post."""

    post = models.ForeignKey("activities.Post", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=12, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("valid until"))

    class Meta:
        verbose_name = _("duration code")
        verbose_name_plural = _("duration codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code


class PostClosure(models.Model):
    """A post whose attendance was closed after its end (open presences closed, no-shows marked)."""

    post = models.OneToOneField("activities.Post", on_delete=models.CASCADE, related_name="+")
    closed_at = models.DateTimeField()
    auto_closed = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
