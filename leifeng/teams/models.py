from django.conf import settings
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from leifeng.core.models import TimeStampedModel
from leifeng.core.transitions import Transitions
from leifeng.people.models import Volunteer


class TeamLevel(models.TextChoices):
    CORPS = "corps", pgettext_lazy("team level", "Corps")  # 总队
    BRIGADE = "brigade", pgettext_lazy("team level", "Brigade")  # 大队
    SQUADRON = "squadron", pgettext_lazy("team level", "Squadron")  # 中队
    SQUAD = "squad", pgettext_lazy("team level", "Squad")  # 小分队
    GROUP = "group", pgettext_lazy("team level", "Group")  # 小组


TEAM_LEVEL_RANK = {
    TeamLevel.CORPS: 0,
    TeamLevel.BRIGADE: 1,
    TeamLevel.SQUADRON: 2,
    TeamLevel.SQUAD: 3,
    TeamLevel.GROUP: 4,
}


class TeamCategory(models.TextChoices):
    PARTY_VANGUARD = "party_vanguard", _("Party member vanguard")
    THEORY = "theory", _("Theory outreach")
    CULTURE = "culture", _("Culture and arts")
    CULTURE_FOR_ALL = "culture_for_all", _("Culture for the people")
    EDUCATION = "education", _("Tutoring and teaching")
    HEALTH = "health", _("Medical and health")
    SCIENCE = "science", _("Science popularization")
    LEGAL = "legal", _("Legal services")
    AGRICULTURE = "agriculture", _("Helping farmers")
    POVERTY = "poverty", _("Helping people in need")
    TRAFFIC = "traffic", _("Civilized traffic")
    EMERGENCY = "emergency", _("Emergency rescue")
    ELDERLY = "elderly", _("Respecting and caring for the elderly")
    CUSTOMS = "customs", _("Reforming customs")
    NEIGHBORHOOD = "neighborhood", _("Neighborhood watch")
    ENVIRONMENT = "environment", _("Environment and cleanliness")
    DISABILITY = "disability", _("Helping the disabled")
    OTHER = "other", pgettext_lazy("team category", "Other")


class TeamKind(models.TextChoices):
    FIXED = "fixed", _("Fixed team")  # the "5" of "5+n"
    OPTIONAL = "optional", _("Optional team")  # the "n"


class Team(TimeStampedModel):
    """A volunteer team under an org node; teams nest (总队 → 大队 → 中队 → 小分队 → 小组)."""

    org = models.ForeignKey("orgs.Org", verbose_name=_("organization"), on_delete=models.PROTECT, related_name="teams")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=TeamLevel.choices, default=TeamLevel.SQUADRON)
    category = models.CharField(_("category"), max_length=32, choices=TeamCategory.choices)
    kind = models.CharField(
        pgettext_lazy("team", "kind"), max_length=16, choices=TeamKind.choices, default=TeamKind.OPTIONAL
    )
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(
        Volunteer, verbose_name=_("leader"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deputy = models.ForeignKey(
        Volunteer,
        verbose_name=_("deputy leader"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    max_members = models.PositiveIntegerField(
        _("member limit"),
        null=True,
        blank=True,
        help_text=_("Groups default to the regional group size limit; empty means no limit"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["org", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="team_name_unique_per_org"),
            models.CheckConstraint(condition=~models.Q(leader=models.F("deputy")), name="team_leader_not_deputy"),
            models.CheckConstraint(
                condition=models.Q(max_members__isnull=True) | models.Q(max_members__gte=1),
                name="team_max_members_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("team membership", "Requested")
    ACTIVE = "active", pgettext_lazy("team membership", "Member")
    REJECTED = "rejected", pgettext_lazy("team membership", "Declined")
    LEFT = "left", pgettext_lazy("team membership", "Left")


# The only moves a membership may make; services refuse anything else. A new row starts as PENDING
# (a volunteer asks) or ACTIVE (a leader or staff adds them). Every status can reach LEFT or come back,
# so nobody is ever held in a team (DESIGN §4 rule 5).
MEMBERSHIP_TRANSITIONS = Transitions(
    MembershipStatus,
    {
        MembershipStatus.PENDING: {MembershipStatus.ACTIVE, MembershipStatus.REJECTED, MembershipStatus.LEFT},
        MembershipStatus.ACTIVE: {MembershipStatus.LEFT},
        MembershipStatus.REJECTED: {MembershipStatus.PENDING, MembershipStatus.ACTIVE},  # asks again / added later
        MembershipStatus.LEFT: {MembershipStatus.PENDING, MembershipStatus.ACTIVE},
    },
    # the catalog's msgid names its placeholders old/new; Transitions fills from/to
    message=lazy(
        lambda: (
            gettext("A membership that is “%(old)s” cannot become “%(new)s”.")
            .replace("%(old)s", "%(from)s")
            .replace("%(new)s", "%(to)s")
        ),
        str,
    )(),
)


class TeamMembership(TimeStampedModel):
    """A volunteer's join request and membership in one team (one row per team and volunteer)."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("volunteer"), on_delete=models.CASCADE, related_name="memberships"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    message = models.CharField(_("message"), max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        ordering = ["team", "-id"]
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="membership_unique")]
        indexes = [
            # counts per team and status (list annotations, the size limit), and "my teams"
            models.Index(fields=["team", "status"], name="membership_team_status"),
            models.Index(fields=["volunteer", "status"], name="membership_volunteer_status"),
        ]

    @property
    def org(self):
        return self.team.org

    def __str__(self) -> str:
        return f"{self.volunteer.name} → {self.team.name}"
