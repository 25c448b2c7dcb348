"""Service menus (服务菜单): what a node offers and which teams provide it."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.core import audit
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.roles import Perm
from leifeng.orders.codes import AuditAction
from leifeng.orders.models import (
    MenuItem,
)
from leifeng.orders.policy import in_line, menu_policy
from leifeng.orders.services.common import (
    MENU_FIELDS,
)
from leifeng.orgs.models import Org
from leifeng.orgs.policy import org_policy
from leifeng.teams.models import Team, TeamCategory

# ---------------------------------------------------------------- menus


@dataclass
class MenuItemInput:
    org_id: int
    title: str
    category: str = TeamCategory.OTHER
    description: str = ""
    team_ids: list[int] = field(default_factory=list)
    service_area: str = ""
    time_windows: str = ""
    expected_minutes: int = 60
    points: int = 0
    active: bool = True


def _validate_menu(item: MenuItem, team_ids: list[int]) -> list[Team]:
    errors: dict[str, list[str]] = {}
    item.title = (item.title or "").strip()
    if not item.title:
        errors["title"] = [_("Give the service a title.")]
    elif len(item.title) > 100:
        errors["title"] = [_("The title is longer than 100 characters.")]
    elif MenuItem.objects.filter(org=item.org, title=item.title).exclude(pk=item.pk).exists():
        errors["title"] = [_("This node's menu already has a service with this title.")]
    if item.category not in TeamCategory.values:
        errors["category"] = [_("Unknown category.")]
    if not (1 <= int(item.expected_minutes or 0) <= 24 * 60):
        errors["expected_minutes"] = [_("The expected duration must be between 1 and 1440 minutes.")]
    if int(item.points or 0) < 0:
        errors["points"] = [_("Points cannot be negative.")]
    teams = list(Team.objects.filter(pk__in=team_ids).select_related("org"))
    if len(teams) != len(set(team_ids)) or any(not in_line(t.org.path, item.org.path) for t in teams):
        errors["teams"] = [_("Choose teams of this node, above it or below it.")]
    if errors:
        raise ValidationError(errors)
    return teams


@transaction.atomic
def menu_item_create(*, actor, data: MenuItemInput) -> MenuItem:
    org = Org.objects.filter(pk=data.org_id).first()
    if org is None or not org_policy.allows(actor, Perm.CHANGE, org):
        raise ValidationError({"org": [_("Choose an organization you manage.")]})
    item = MenuItem(
        org=org,
        title=data.title,
        category=data.category,
        description=(data.description or "").strip(),
        service_area=(data.service_area or "").strip(),
        time_windows=(data.time_windows or "").strip(),
        expected_minutes=data.expected_minutes,
        points=data.points,
        active=data.active,
    )
    teams = _validate_menu(item, data.team_ids)
    item.save()
    item.teams.set(teams)
    audit.record(actor=actor, action=AuditAction.MENU_ITEM_CREATE, obj=item)
    return item


@transaction.atomic
def menu_item_update(*, actor, item_id: int, team_ids: list[int] | None = None, **changes) -> MenuItem:
    item = MenuItem.objects.select_for_update().select_related("org").filter(pk=item_id).first()
    if item is None or not menu_policy.allows(actor, Perm.VIEW, item):
        raise NotFound()
    if not menu_policy.allows(actor, Perm.CHANGE, item):
        raise PermissionDenied()
    before = audit.snapshot(item, MENU_FIELDS)
    for name, value in changes.items():
        if name not in MENU_FIELDS:
            raise ValidationError({name: [_("This field cannot be changed.")]})
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    teams = _validate_menu(item, team_ids if team_ids is not None else list(item.teams.values_list("pk", flat=True)))
    item.save()
    if team_ids is not None:
        item.teams.set(teams)
    audit.record(actor=actor, action=AuditAction.MENU_ITEM_UPDATE, obj=item, changes=audit.diff(before, item))
    return item
