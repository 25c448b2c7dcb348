from enum import StrEnum

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leifeng.core.errors import Conflict, ServiceError
from leifeng.core.idnumbers import Gender, IdType
from leifeng.core.models import TimeStampedModel
from leifeng.core.transitions import Transitions


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


class RegistrationTransitions(Transitions):
    """`core.transitions.Transitions` whose refusals stay what the API has always answered: 400, not 409."""

    def check(self, current: str, to: str, *, message=None, code: StrEnum | None = None) -> None:
        try:
            super().check(current, to, message=message, code=code)
        except Conflict as exc:
            raise ServiceError(exc.message, code=exc.code) from None

    def move_from(self, obj, frm: str, to: str) -> str:
        """A named move (approve, reinstate): only from `frm`, even where the table reaches `to` from elsewhere.

        "Approve" and "reinstate" both end in APPROVED; approving a suspended volunteer is refused like any
        move the table does not allow."""
        current = getattr(obj, self.field)
        if current != frm:
            RegistrationTransitions(self.statuses, {}, message=self.message, code=self.code).check(current, to)
        return self.move(obj, to)


# The only moves a registration may make; services refuse anything else (through this table).
VOLUNTEER_TRANSITIONS = RegistrationTransitions(
    VolunteerStatus,
    {
        VolunteerStatus.PENDING: {VolunteerStatus.APPROVED, VolunteerStatus.REJECTED},
        VolunteerStatus.REJECTED: {VolunteerStatus.PENDING},  # the applicant corrects and resubmits
        VolunteerStatus.APPROVED: {VolunteerStatus.SUSPENDED},
        VolunteerStatus.SUSPENDED: {VolunteerStatus.APPROVED},
    },
    message=_("A registration that is “%(from)s” cannot become “%(to)s”."),
)


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

    number = models.CharField(_("volunteer number"), max_length=20)
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
    id_index = models.CharField(_("ID blind index"), max_length=64)
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
        # Plain unique constraints, not unique=True: on PostgreSQL a unique CharField also gets a
        # varchar_pattern_ops twin; the blind index is only ever matched exactly, so it needs none.
        constraints = [
            models.UniqueConstraint(fields=["number"], name="volunteer_number_unique"),
            models.UniqueConstraint(fields=["id_index"], name="volunteer_id_index_unique"),
        ]
        indexes = [
            models.Index(fields=["org", "-id"], name="volunteer_org_recent"),
            models.Index(fields=["status", "-id"], name="volunteer_status_recent"),
            # A station's queue of pending registrations (the home page's "review now" link).
            models.Index(fields=["org", "status", "-id"], name="volunteer_org_status_recent"),
            # 在职党员 are a few per cent: a small partial index lists and counts them per station without a scan.
            models.Index(
                fields=["org", "-id"], name="volunteer_isp_recent", condition=models.Q(in_service_party_member=True)
            ),
            # Prefix search (name LIKE '张%'): pattern ops so PostgreSQL uses it under any collation.
            models.Index(fields=["name"], name="volunteer_name_prefix", opclasses=["varchar_pattern_ops"]),
            # The search box also takes the start of a volunteer number (LF0000012…).
            models.Index(fields=["number"], name="volunteer_number_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"

    @property
    def is_party_member(self) -> bool:
        return self.political_status in PARTY_STATUSES

    def get_available_times_display(self) -> list[str]:
        labels = dict(AvailableTime.choices)
        return [str(labels.get(t, t)) for t in self.available_times or []]
