"""Campaigns (活动方案): create, change, phases, delete, copy to another year."""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    DEFAULT_PHASES,
    Activity,
    ActivityStatus,
    Campaign,
    CampaignPhase,
    Post,
)
from leifeng.activities.services.base import CAMPAIGN_FIELDS, _for_change, _org_for_change
from leifeng.core import audit
from leifeng.core.errors import Conflict, ServiceError
from leifeng.orgs.models import LeadingGroup, Unit
from leifeng.teams import selectors as team_selectors


@dataclass
class CampaignInput:
    org_id: int
    title: str
    starts_on: date
    ends_on: date
    theme: str = ""
    guidance: str = ""
    requirements: str = ""
    leading_group_id: int | None = None
    unit_ids: list[int] = field(default_factory=list)


@dataclass
class PhaseInput:
    name: str
    starts_on: date
    ends_on: date
    description: str = ""


def default_phases(starts_on: date, ends_on: date) -> list[PhaseInput]:
    """宣传启动 / 组织实施 / 总结表彰 spread over the period in thirds (a one-day period: all on that day)."""
    days = (ends_on - starts_on).days + 1
    cuts = [starts_on + timedelta(days=days * i // 3) for i in range(4)]
    out = []
    for i, name in enumerate(DEFAULT_PHASES):
        start = min(cuts[i], ends_on)
        end = max(start, min(cuts[i + 1] - timedelta(days=1), ends_on))
        out.append(PhaseInput(name=str(name), starts_on=start, ends_on=end))
    return out


def _validate_campaign(c: Campaign, unit_ids: list[int] | None) -> list[Unit] | None:
    errors: dict[str, list[str]] = {}
    c.title = (c.title or "").strip()
    if not c.title:
        errors["title"] = [_("Give the campaign a title.")]
    if c.starts_on and c.ends_on and c.ends_on < c.starts_on:
        errors["ends_on"] = [_("The end date is before the start date.")]
    if c.leading_group_id is not None:
        lg = LeadingGroup.objects.select_related("org").filter(pk=c.leading_group_id).first()
        if lg is None or lg.org.path not in team_selectors.ancestor_paths(c.org.path):
            errors["leading_group"] = [_("Choose a leading group of this organization or one above it.")]
    units = None
    if unit_ids is not None:
        units = list(Unit.objects.filter(pk__in=set(unit_ids)))
        if len(units) != len(set(unit_ids)):
            errors["units"] = [_("Unknown unit.")]
    if errors:
        raise ValidationError(errors)
    return units


def _check_phases(phases: list[PhaseInput], starts_on: date, ends_on: date) -> None:
    errors = []
    for p in phases:
        if not (p.name or "").strip():
            errors.append(_("Every phase needs a name."))
        elif p.ends_on < p.starts_on:
            errors.append(_("Phase “%(name)s” ends before it starts.") % {"name": p.name})
        elif p.starts_on < starts_on or p.ends_on > ends_on:
            errors.append(_("Phase “%(name)s” lies outside the campaign's period.") % {"name": p.name})
    if errors:
        raise ValidationError({"phases": errors})


@transaction.atomic
def campaign_create(*, actor, data: CampaignInput, phases: list[PhaseInput] | None = None) -> Campaign:
    """A new campaign under a node the actor manages, with the default phases unless others are given."""
    org = _org_for_change(actor, data.org_id)
    c = Campaign(
        org=org,
        title=data.title,
        theme=(data.theme or "").strip(),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        guidance=(data.guidance or "").strip(),
        requirements=(data.requirements or "").strip(),
        leading_group_id=data.leading_group_id,
        created_by=actor,
    )
    units = _validate_campaign(c, data.unit_ids)
    phases = phases if phases is not None else default_phases(c.starts_on, c.ends_on)
    _check_phases(phases, c.starts_on, c.ends_on)
    c.save()
    if units:
        c.units.set(units)
    CampaignPhase.objects.bulk_create(
        CampaignPhase(campaign=c, order=i, name=p.name.strip(), starts_on=p.starts_on, ends_on=p.ends_on)
        for i, p in enumerate(phases)
    )
    audit.record(actor=actor, action=AuditAction.CAMPAIGN_CREATE, obj=c, changes=audit.snapshot(c, CAMPAIGN_FIELDS))
    return c


@transaction.atomic
def campaign_update(*, actor, campaign_id: int, unit_ids: list[int] | None = None, **changes) -> Campaign:
    """Change fields of a campaign (title, theme, starts_on, ends_on, guidance, requirements,
    leading_group_id, org_id) and, when given, its participating units."""
    c = _for_change(actor, Campaign, campaign_id)
    before = audit.snapshot(c, CAMPAIGN_FIELDS)
    allowed = {"title", "theme", "starts_on", "ends_on", "guidance", "requirements", "leading_group_id", "org_id"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code=ErrorCode.UNKNOWN_FIELD)
    if "org_id" in changes and changes["org_id"] != c.org_id:
        c.org = _org_for_change(actor, changes["org_id"])
    changes.pop("org_id", None)
    for name, value in changes.items():
        setattr(c, name, value.strip() if isinstance(value, str) else value)
    units = _validate_campaign(c, unit_ids)
    c.save()
    if units is not None:
        c.units.set(units)
    audit.record(actor=actor, action=AuditAction.CAMPAIGN_UPDATE, obj=c, changes=audit.diff(before, c))
    return c


@transaction.atomic
def campaign_set_phases(*, actor, campaign_id: int, phases: list[PhaseInput]) -> list[CampaignPhase]:
    """Replace the phases of a campaign (names, dates, order as given)."""
    c = _for_change(actor, Campaign, campaign_id)
    _check_phases(phases, c.starts_on, c.ends_on)
    old = list(c.phases.values_list("name", "starts_on", "ends_on"))
    c.phases.all().delete()
    rows = CampaignPhase.objects.bulk_create(
        CampaignPhase(
            campaign=c,
            order=i,
            name=p.name.strip(),
            starts_on=p.starts_on,
            ends_on=p.ends_on,
            description=(p.description or "").strip(),
        )
        for i, p in enumerate(phases)
    )
    audit.record(
        actor=actor,
        action=AuditAction.CAMPAIGN_SET_PHASES,
        obj=c,
        changes={"phases": [old, [(p.name, p.starts_on, p.ends_on) for p in phases]]},
    )
    return rows


@transaction.atomic
def campaign_delete(*, actor, campaign_id: int) -> None:
    """Delete a campaign that no activity belongs to (activities keep their history; detach them first)."""
    c = _for_change(actor, Campaign, campaign_id)
    if c.activities.exists():
        raise Conflict(_("Activities belong to this campaign; it cannot be deleted."), code=ErrorCode.HAS_ACTIVITIES)
    audit.record(actor=actor, action=AuditAction.CAMPAIGN_DELETE, obj=c, changes=audit.snapshot(c, CAMPAIGN_FIELDS))
    c.delete()


def shift_year(d: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    y = d.year + years
    return d.replace(year=y, day=min(d.day, calendar.monthrange(y, d.month)[1]))


def _shift_dt(dt: datetime | None, years: int) -> datetime | None:
    if dt is None:
        return None
    local = timezone.localtime(dt)
    return local.replace(
        year=local.year + years, day=min(local.day, calendar.monthrange(local.year + years, local.month)[1])
    )


@transaction.atomic
def campaign_copy(*, actor, campaign_id: int, year: int, with_activities: bool = True) -> Campaign:
    """Copy a campaign to another year: dates shifted, phases and units copied.

    Activities are copied as drafts (posts with shifted windows; no sign-ups, no insurance, nothing
    published): the March 5 squads recur every year with the same places and quotas, and a draft is
    invisible to volunteers until someone checks it and publishes it.
    """
    src = _for_change(actor, Campaign, campaign_id)
    years = int(year) - src.starts_on.year
    if years == 0:
        raise ValidationError({"year": [_("Choose a year other than the campaign's own.")]})
    c = Campaign.objects.create(
        org=src.org,
        title=src.title.replace(str(src.starts_on.year), str(year)),
        theme=src.theme,
        starts_on=shift_year(src.starts_on, years),
        ends_on=shift_year(src.ends_on, years),
        guidance=src.guidance,
        requirements=src.requirements,
        leading_group_id=src.leading_group_id,
        copied_from=src,
        created_by=actor,
    )
    c.units.set(src.units.all())
    CampaignPhase.objects.bulk_create(
        CampaignPhase(
            campaign=c,
            order=p.order,
            name=p.name,
            description=p.description,
            starts_on=shift_year(p.starts_on, years),
            ends_on=shift_year(p.ends_on, years),
        )
        for p in src.phases.all()
    )
    copied = 0
    if with_activities:
        for a in src.activities.exclude(status=ActivityStatus.CANCELLED).prefetch_related("posts", "teams"):
            posts = list(a.posts.all())
            teams = list(a.teams.all())
            a.pk = a.id = None
            a._state.adding = True
            a.campaign = c
            a.status = ActivityStatus.DRAFT
            a.published_at = None
            a.cancel_reason = ""
            a.created_by = actor
            for name in ("signup_opens_at", "signup_closes_at", "withdraw_deadline"):
                setattr(a, name, _shift_dt(getattr(a, name), years))
            a.kiosk_secret = Activity._meta.get_field("kiosk_secret").get_default()
            a.save()
            a.teams.set(teams)
            Post.objects.bulk_create(
                Post(
                    activity=a,
                    title=p.title,
                    description=p.description,
                    quota=p.quota,
                    starts_at=_shift_dt(p.starts_at, years),
                    ends_at=_shift_dt(p.ends_at, years),
                )
                for p in posts
            )
            copied += 1
    audit.record(
        actor=actor,
        action=AuditAction.CAMPAIGN_COPY,
        obj=c,
        changes={"copied_from": [None, src.pk], "year": [src.starts_on.year, year]},
        note=f"{copied} activities copied as drafts",
    )
    return c
