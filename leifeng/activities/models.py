"""Campaigns (活动方案), activities (活动) with posts (岗位), sign-ups (报名/候补), groups and reports.

Attendance (签到/签退) lives in `leifeng.attendance`, the hours ledger in `leifeng.hours`.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.core.models import TimeStampedModel
from leifeng.core.transitions import Transitions
from leifeng.teams.models import TeamCategory

# Activities use the same service categories as teams (and orders), so matching and figures line up.
ActivityCategory = TeamCategory

DEFAULT_PHASES = (
    pgettext_lazy("campaign phase", "Launch and publicity"),  # 宣传启动
    pgettext_lazy("campaign phase", "Implementation"),  # 组织实施
    pgettext_lazy("campaign phase", "Summary and commendation"),  # 总结表彰
)


class Campaign(TimeStampedModel):
    """A plan (活动方案) owned by a node: theme, period, phases, leading group, participating units."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("owner node"), on_delete=models.PROTECT, related_name="campaigns"
    )
    title = models.CharField(_("title"), max_length=120)
    theme = models.CharField(_("theme"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    guidance = models.TextField(_("guiding ideas"), blank=True)
    requirements = models.TextField(_("requirements"), blank=True)
    leading_group = models.ForeignKey(
        "orgs.LeadingGroup",
        verbose_name=_("leading group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    units = models.ManyToManyField(
        "orgs.Unit", verbose_name=_("participating units"), blank=True, related_name="campaigns"
    )
    copied_from = models.ForeignKey(
        "self", verbose_name=_("copied from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_ordered")
        ]

    def __str__(self) -> str:
        return self.title


class CampaignPhase(models.Model):
    """宣传启动 / 组织实施 / 总结表彰 by default; editable, each with its dates."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=60)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("campaign phase")
        verbose_name_plural = _("campaign phases")
        ordering = ["campaign", "order", "starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="phase_period_ordered")
        ]

    def __str__(self) -> str:
        return self.name


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("activity status", "Draft")
    PUBLISHED = "published", pgettext_lazy("activity status", "Published")
    IN_PROGRESS = "in_progress", pgettext_lazy("activity status", "In progress")
    FINISHED = "finished", pgettext_lazy("activity status", "Finished")
    CANCELLED = "cancelled", pgettext_lazy("activity status", "Cancelled")


class _OldNew:
    """A transition message whose published msgid names its placeholders %(old)s / %(new)s (the catalog has it
    so): `Transitions` formats messages with %(from)s / %(to)s, so the text is handed over with those renamed."""

    def __init__(self, message):
        self.message = message

    def __str__(self) -> str:
        return _OldNewText(str(self.message))

    def __mod__(self, values: dict) -> str:
        return str(self) % values


class _OldNewText(str):
    def __mod__(self, values: dict) -> str:
        return str.__mod__(self, {"old": values["from"], "new": values["to"]})


ACTIVITY_TRANSITIONS = Transitions(
    ActivityStatus,
    {
        ActivityStatus.DRAFT: {ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED},
        ActivityStatus.PUBLISHED: {ActivityStatus.IN_PROGRESS, ActivityStatus.CANCELLED, ActivityStatus.DRAFT},
        ActivityStatus.IN_PROGRESS: {ActivityStatus.FINISHED, ActivityStatus.CANCELLED},
        ActivityStatus.FINISHED: set(),
        ActivityStatus.CANCELLED: set(),
    },
    message=_OldNew(_("An activity that is “%(old)s” cannot become “%(new)s”.")),
)


class Visibility(models.TextChoices):
    SUBTREE = "subtree", _("Everyone in the owner's subtree")
    TEAMS = "teams", _("Only the listed teams")


def new_kiosk_secret() -> str:
    return secrets.token_urlsafe(32)


class Activity(TimeStampedModel):
    """One activity under a node (and usually a campaign), with posts that people sign up for."""

    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("organizer"), on_delete=models.PROTECT, related_name="activities"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    title = models.CharField(_("title"), max_length=120)
    category = models.CharField(_("category"), max_length=32, choices=ActivityCategory.choices)
    description = models.TextField(_("description"), blank=True)
    lead_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_activities",
    )
    address = models.CharField(pgettext_lazy("place", "address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    geofence_m = models.PositiveIntegerField(
        _("geofence radius (m)"), null=True, blank=True, help_text=_("check-in only within this distance; empty = off")
    )
    minors_allowed = models.BooleanField(_("minors may join"), default=False)
    risky = models.BooleanField(_("risky (needs insurance)"), default=False)
    supplies = models.TextField(_("supplies checklist"), blank=True, help_text=_("one item per line"))
    safety_notes = models.TextField(_("safety notes"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    visibility = models.CharField(
        _("visible to"), max_length=16, choices=Visibility.choices, default=Visibility.SUBTREE
    )
    teams = models.ManyToManyField(
        "teams.Team", verbose_name=_("invited teams"), blank=True, related_name="invited_activities"
    )
    signup_opens_at = models.DateTimeField(_("sign-up opens"), null=True, blank=True)
    signup_closes_at = models.DateTimeField(_("sign-up closes"), null=True, blank=True)
    withdraw_deadline = models.DateTimeField(
        _("withdrawal deadline"), null=True, blank=True, help_text=_("after this, sign-ups can no longer be withdrawn")
    )
    group_size = models.PositiveSmallIntegerField(_("group size"), default=8)
    status = models.CharField(
        _("status"), max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    # Signs the rotating kiosk QR codes (leifeng.attendance); regenerating it voids every code shown so far.
    kiosk_secret = models.CharField(max_length=64, default=new_kiosk_secret, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "org"])]

    def __str__(self) -> str:
        return self.title


class Insurance(TimeStampedModel):
    """The insurance record a risky activity needs before it can be published (条例 Art. 17)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="insurances")
    insurer = models.CharField(_("insurer"), max_length=100)
    policy_number = models.CharField(_("policy number"), max_length=60)
    covers_from = models.DateField(_("covers from"))
    covers_to = models.DateField(_("covers to"))
    insured_count = models.PositiveIntegerField(_("people insured"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("insurance")
        verbose_name_plural = _("insurance records")

    def __str__(self) -> str:
        return f"{self.insurer} {self.policy_number}"


class Post(models.Model):
    """A post (岗位 / shift) of an activity with its own time window, quota and required skills."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(_("post"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    quota = models.PositiveIntegerField(_("quota"))
    skills = models.ManyToManyField("people.Skill", verbose_name=_("required skills"), blank=True, related_name="+")
    # Confirmed sign-ups, kept in step by the sign-up services under a row lock on the post.
    filled = models.PositiveIntegerField(_("signed up"), default=0)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["activity", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="post_window_ordered"),
            models.CheckConstraint(condition=Q(filled__lte=models.F("quota")), name="post_not_overbooked"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.title}"


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", pgettext_lazy("signup status", "Confirmed")
    WAITLISTED = "waitlisted", pgettext_lazy("signup status", "Waitlisted")
    WITHDRAWN = "withdrawn", pgettext_lazy("signup status", "Withdrawn")
    REMOVED = "removed", pgettext_lazy("signup status", "Removed by organizer")


SIGNUP_TRANSITIONS = Transitions(
    SignupStatus,
    {
        SignupStatus.CONFIRMED: {SignupStatus.WITHDRAWN, SignupStatus.REMOVED},
        SignupStatus.WAITLISTED: {SignupStatus.CONFIRMED, SignupStatus.WITHDRAWN, SignupStatus.REMOVED},
        SignupStatus.WITHDRAWN: set(),
        SignupStatus.REMOVED: set(),
    },
    message=_OldNew(_("A sign-up that is “%(old)s” cannot become “%(new)s”.")),
)
ACTIVE_SIGNUP = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class SignupGroup(models.Model):
    """A group of at most `activity.group_size` people at a post, with a group leader who counts heads."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="groups")
    number = models.PositiveSmallIntegerField(_("group number"))
    name = models.CharField(_("name"), max_length=40, blank=True)
    leader = models.ForeignKey(
        "people.Volunteer", verbose_name=_("group leader"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["post", "number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="group_number_unique_per_post")]

    def __str__(self) -> str:
        return self.name or f"{self.number}"


class Signup(TimeStampedModel):
    """One person's place (or waitlist place) at a post. The post's window is copied for overlap checks."""

    # Every index is written by every sign-up of Lei Feng Day's burst: post and volunteer lead the composite
    # indexes in Meta (which serve their lookups), a status alone selects nothing, and group / assigned_by are
    # indexed only where set (a self sign-up leaves both empty).
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="signups", db_index=False)
    volunteer = models.ForeignKey(
        "people.Volunteer",
        verbose_name=_("volunteer"),
        on_delete=models.PROTECT,
        related_name="signups",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=16, choices=SignupStatus.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    group = models.ForeignKey(
        SignupGroup,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        db_index=False,
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("empty when the volunteer signed up themselves"),
        db_index=False,
    )
    guardian_consent = models.BooleanField(_("guardian consent recorded"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("withdrawn or removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["post", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "volunteer"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="one_active_signup_per_post",
            )
        ]
        indexes = [
            models.Index(fields=["volunteer", "status", "starts_at"]),
            # the roster (selectors._roster_sql): counts per post and status; the first ungrouped people in order
            models.Index(fields=["post", "status"], name="signup_post_status"),
            models.Index(
                fields=["post", "status", "created_at", "id"],
                condition=Q(group__isnull=True),
                name="signup_ungrouped_roster",
            ),
            models.Index(fields=["post", "status"], condition=Q(group__isnull=False), name="signup_grouped_roster"),
            models.Index(fields=["group"], condition=Q(group__isnull=False), name="signup_group"),
            models.Index(fields=["assigned_by"], condition=Q(assigned_by__isnull=False), name="signup_assigned_by"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} @ {self.post}"


class ActivityReport(TimeStampedModel):
    """The organizer's summary after the activity; attendance figures come from the ledger, not from here."""

    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="report")
    summary = models.TextField(_("summary"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("activity report")
        verbose_name_plural = _("activity reports")

    def __str__(self) -> str:
        return str(self.activity)


class ReportPhoto(models.Model):
    report = models.ForeignKey(ActivityReport, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="reports/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["report", "id"]
