from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from leifeng.core.models import TimeStampedModel


class OrgLevel(models.TextChoices):
    # A context keeps these glossary terms apart from other apps' "Station" (a volunteer's own station).
    CENTER = "center", pgettext_lazy("org level", "Practice center")
    SUBCENTER = "subcenter", pgettext_lazy("org level", "Sub-center")
    STATION = "station", pgettext_lazy("org level", "Station")
    POINT = "point", pgettext_lazy("org level", "Practice point")


# Depth order of levels: a child is always at a lower level than its parent.
LEVEL_RANK = {OrgLevel.CENTER: 0, OrgLevel.SUBCENTER: 1, OrgLevel.STATION: 2, OrgLevel.POINT: 3}


def levels_below(level: str) -> list[str]:
    """Levels a child of a `level` node may have (the next one or any deeper one)."""
    return [lv for lv in OrgLevel.values if LEVEL_RANK[lv] > LEVEL_RANK[level]]


def levels_above(level: str) -> list[str]:
    """Levels a parent of a `level` node may have."""
    return [lv for lv in OrgLevel.values if LEVEL_RANK[lv] < LEVEL_RANK[level]]


class Org(MP_Node, TimeStampedModel):
    """A node of the practice tree. Materialized path: a subtree is one `path__startswith`."""

    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=OrgLevel.choices)
    division_code = models.CharField(
        _("administrative division code"),
        max_length=12,
        blank=True,
        help_text=_("6 or 12 digits (GB/T 2260 or the statistical division code); optional"),
    )
    address = models.CharField(pgettext_lazy("place", "address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # Where the node is (the station's office): distances for order matching and check-in geofences.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Regional rules that differ from the defaults (DESIGN §4), inherited by the subtree: see core/rules.py.
    rules = models.JSONField(_("regional rules"), default=dict, blank=True)

    node_order_by = ["name"]
    steplen = 4

    class Meta:
        verbose_name = pgettext_lazy("model", "organization")
        verbose_name_plural = pgettext_lazy("model", "organizations")

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    AGENCY = "agency", _("Government agency")
    SCHOOL = "school", _("School")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOSPITAL = "hospital", _("Hospital")
    MILITARY = "military", _("Military unit")
    SOCIAL = "social", _("Social organization")
    OTHER = "other", _("Other")


class Unit(TimeStampedModel):
    """A 单位 attached to a node: it lends people and leads activities (牵头单位)."""

    org = models.ForeignKey(Org, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="units")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(pgettext_lazy("place", "address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subunits",
        help_text=_("e.g. a class (1001班) inside a school"),
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~models.Q(credit_code=""), name="unit_credit_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PositionTitle(models.TextChoices):
    DIRECTOR = "director", _("Director")
    DEPUTY_DIRECTOR = "deputy_director", _("Deputy director")
    STATION_HEAD = "station_head", _("Station head")
    DEPUTY_STATION_HEAD = "deputy_station_head", _("Deputy station head")
    SPECIALIST = "specialist", _("Full-time administrator")
    MEMBER = "member", _("Member")


class Position(TimeStampedModel):
    """Who holds which post at a node (主任、站长、专管员 …); may or may not have an account."""

    org = models.ForeignKey(Org, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(_("title"), max_length=32, choices=PositionTitle.choices)
    person_name = models.CharField(_("full name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="positions",
    )

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["org", "title", "person_name"]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.get_title_display()})"


class LeadingGroup(TimeStampedModel):
    """领导小组 of a node, e.g. for a campaign or for the practice work as a whole."""

    org = models.ForeignKey(
        Org, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="leading_groups"
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("leading group")
        verbose_name_plural = _("leading groups")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="leading_group_name_unique_per_org")]

    def __str__(self) -> str:
        return self.name


class LeadingGroupRole(models.TextChoices):
    LEADER = "leader", _("Group leader")
    DEPUTY = "deputy", _("Deputy group leader")
    MEMBER = "member", _("Member")
    OFFICE_HEAD = "office_head", _("Office director")


class LeadingGroupMember(models.Model):
    group = models.ForeignKey(LeadingGroup, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=16, choices=LeadingGroupRole.choices)
    person_name = models.CharField(_("full name"), max_length=50)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("leading group member")
        verbose_name_plural = _("leading group members")
        ordering = ["group", "role", "id"]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.get_role_display()})"

    @property
    def org(self):
        return self.group.org
