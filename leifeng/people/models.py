from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leifeng.core.idnumbers import Gender, IdType
from leifeng.core.models import TimeStampedModel


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc", _("CPC member")
    CPC_PROBATIONARY = "cpc_probationary", _("CPC probationary member")
    LEAGUE_MEMBER = "league", _("Communist Youth League member")
    DEMOCRATIC_PARTY = "democratic", _("Democratic party member")
    MASSES = "masses", _("Ordinary citizen")


PARTY_STATUSES = {PoliticalStatus.CPC_MEMBER, PoliticalStatus.CPC_PROBATIONARY}


class AvailableTime(models.TextChoices):
    WEEKDAY_DAYTIME = "weekday_day", _("Weekday daytime")
    WEEKDAY_EVENING = "weekday_evening", _("Weekday evenings")
    WEEKEND = "weekend", _("Weekends")
    HOLIDAYS = "holidays", _("Public holidays")
    ANYTIME = "anytime", _("Any time")


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


# The only moves a registration may make; services refuse anything else.
VOLUNTEER_TRANSITIONS: dict[str, set[str]] = {
    VolunteerStatus.PENDING: {VolunteerStatus.APPROVED, VolunteerStatus.REJECTED},
    VolunteerStatus.REJECTED: {VolunteerStatus.PENDING},  # the applicant corrects and resubmits
    VolunteerStatus.APPROVED: {VolunteerStatus.SUSPENDED},
    VolunteerStatus.SUSPENDED: {VolunteerStatus.APPROVED},
}


class RegistrationChannel(models.TextChoices):
    SELF = "self", _("Self-registration")
    STAFF = "staff", _("Entered by staff")
    IMPORT = "import", _("Excel import")


class Skill(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Volunteer(TimeStampedModel):
    """A registered volunteer (注册志愿者). The public identifier is `number`, never the ID number."""

    number = models.CharField(_("volunteer number"), max_length=20, unique=True)
    org = models.ForeignKey("orgs.Org", verbose_name=_("station"), on_delete=models.PROTECT, related_name="volunteers")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    name = models.CharField(_("name"), max_length=50)
    name_pinyin = models.CharField(_("name in pinyin"), max_length=200, blank=True, db_index=True)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, blank=True, db_index=True)
    id_type = models.CharField(_("ID type"), max_length=16, choices=IdType.choices, default=IdType.RIC)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"))
    id_index = models.CharField(_("ID blind index"), max_length=64, unique=True)
    id_masked = models.CharField(_("ID number"), max_length=24)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=11, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    skills = models.ManyToManyField(Skill, verbose_name=_("skills"), blank=True, related_name="volunteers")
    available_times = models.JSONField(_("available time"), default=list, blank=True)
    political_status = models.CharField(
        _("political status"), max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    in_service_party_member = models.BooleanField(
        _("in-service party member"),
        default=False,
        help_text=_("A working party member who reports to the community (在职党员)"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=VolunteerStatus.choices, default=VolunteerStatus.PENDING
    )
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(
        _("registered through"), max_length=16, choices=RegistrationChannel.choices, default=RegistrationChannel.SELF
    )
    # Consent (条例 Art. 7, 20): the required fields need it; anything extra needs its own consent.
    consent_at = models.DateTimeField(_("consent given at"))
    extra_info_consent = models.BooleanField(_("consents to optional information"), default=False)
    guardian_name = models.CharField(_("guardian's name"), max_length=50, blank=True)
    guardian_phone = models.CharField(_("guardian's phone"), max_length=11, blank=True)
    guardian_consent_at = models.DateTimeField(_("guardian consent recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org", "-id"], name="volunteer_org_recent"),
            models.Index(fields=["status", "-id"], name="volunteer_status_recent"),
            models.Index(fields=["name"], name="volunteer_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    @property
    def is_party_member(self) -> bool:
        return self.political_status in PARTY_STATUSES


class TeamLevel(models.TextChoices):
    CORPS = "corps", _("Corps")  # 总队
    BRIGADE = "brigade", _("Brigade")  # 大队
    SQUADRON = "squadron", _("Squadron")  # 中队
    SQUAD = "squad", _("Squad")  # 小分队
    GROUP = "group", _("Group")  # 小组


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
    OTHER = "other", _("Other")


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
    kind = models.CharField(_("kind"), max_length=16, choices=TeamKind.choices, default=TeamKind.OPTIONAL)
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
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="team_name_unique_per_org")]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Requested")
    ACTIVE = "active", _("Member")
    REJECTED = "rejected", _("Declined")
    LEFT = "left", _("Left")


MEMBERSHIP_TRANSITIONS: dict[str, set[str]] = {
    MembershipStatus.PENDING: {MembershipStatus.ACTIVE, MembershipStatus.REJECTED, MembershipStatus.LEFT},
    MembershipStatus.ACTIVE: {MembershipStatus.LEFT},
    MembershipStatus.REJECTED: {MembershipStatus.PENDING},
    MembershipStatus.LEFT: {MembershipStatus.PENDING, MembershipStatus.ACTIVE},
}


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

    @property
    def org(self):
        return self.team.org

    def __str__(self) -> str:
        return f"{self.volunteer.name} → {self.team.name}"
