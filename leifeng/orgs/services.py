"""Writes to the organization tree, units, positions and leading groups (atomic, validated, audited).

Permissions: the tree, positions and leading groups need Perm.MANAGE_ORG; units need Perm.CHANGE.
Something the actor cannot even see answers NotFound (404), something visible but not theirs to
change answers PermissionDenied (403).
"""

import re
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leifeng.core import audit, scope
from leifeng.core.errors import PermissionDenied, ServiceError
from leifeng.core.idnumbers import InvalidId, validate_uscc
from leifeng.core.scope import Perm
from leifeng.orgs.codes import AuditAction, ErrorCode
from leifeng.orgs.models import (
    LEVEL_RANK,
    LeadingGroup,
    LeadingGroupMember,
    LeadingGroupRole,
    Org,
    Position,
    Unit,
)
from leifeng.orgs.policy import org_policy

DIVISION_CODE_RE = re.compile(r"\d{6}|\d{12}")
# Landlines (0371-12345678), mobiles and extensions: loose on purpose, strict only on garbage.
PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-]{4,18}[0-9]")

ORG_FIELDS = ["name", "level", "division_code", "address", "contact_name", "contact_phone"]
UNIT_FIELDS = ["org", "parent", "name", "kind", "credit_code", "address", "contact_name", "contact_phone"]
POSITION_FIELDS = ["title", "person_name", "phone"]
MEMBER_FIELDS = ["role", "person_name", "job_title"]


class OrgFields(TypedDict, total=False):
    name: str
    level: str
    division_code: str
    address: str
    contact_name: str
    contact_phone: str


class UnitFields(TypedDict, total=False):
    org: Org
    parent: Unit | None
    name: str
    kind: str
    credit_code: str
    address: str
    contact_name: str
    contact_phone: str


class PositionFields(TypedDict, total=False):
    title: str
    person_name: str
    phone: str


# --- helpers -------------------------------------------------------------------------------------


_require = org_policy.require  # NotFound out of sight, PermissionDenied seen without `perm` (orgs.policy)


def _created(obj, fields: list[str]) -> dict[str, list[Any]]:
    """Audit `changes` of a new object: [None, value] for each field that holds something."""
    snap = audit.snapshot(obj, fields)
    return {f: [None, v] for f, v in snap.items() if v not in (None, "")}


def _strip(obj, fields: list[str]) -> None:
    for f in fields:
        value = getattr(obj, f)
        if isinstance(value, str):
            setattr(obj, f, value.strip())


def _raise(errors: dict[str, list]) -> None:
    if errors:
        raise ValidationError(errors)


def _model_errors(obj, exclude: list[str]) -> dict[str, list]:
    """Django's own field checks (required, length, choices) keyed by field."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return dict(exc.error_dict)
    return {}


def _check_phone(errors: dict[str, list], field: str, value: str) -> None:
    if value and not PHONE_RE.fullmatch(value):
        errors.setdefault(field, []).append(_("Enter a phone number: digits, optionally with area code and dashes."))


def _parent_of(org: Org) -> Org | None:
    parent_path = org.path[: -Org.steplen]
    return Org.objects.get(path=parent_path) if parent_path else None


# --- the tree ------------------------------------------------------------------------------------


def _clean_org(org: Org, parent: Org | None) -> None:
    _strip(org, ORG_FIELDS)
    org.division_code = "".join(org.division_code.split())
    errors = _model_errors(org, exclude=["path", "depth", "numchild", "division_code"])
    if org.division_code and not DIVISION_CODE_RE.fullmatch(org.division_code):
        errors.setdefault("division_code", []).append(_("Administrative division code must be 6 or 12 digits."))
    _check_phone(errors, "contact_phone", org.contact_phone)
    if "level" not in errors and parent is not None and LEVEL_RANK[org.level] <= LEVEL_RANK[parent.level]:
        errors.setdefault("level", []).append(
            _("A %(child)s cannot be placed under a %(parent)s: choose a level below it.")
            % {"child": org.get_level_display(), "parent": parent.get_level_display()}
        )
    _raise(errors)


def _check_sibling_name(name: str, parent: Org | None, exclude_pk: int | None = None) -> None:
    """Two nodes with the same name under one parent would be impossible to tell apart."""
    siblings = Org.objects.filter(depth=1) if parent is None else Org.objects.get_children(parent)
    if siblings.filter(name=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": [_("Another node with this name already exists at this place in the tree.")]})


def org_create(*, actor, parent: Org | None, **fields: Unpack[OrgFields]) -> Org:
    """A new node under `parent` (a new root when None: platform admins only)."""
    _require(actor, Perm.MANAGE_ORG, parent)
    with transaction.atomic():
        if parent is not None:
            parent = Org.objects.select_for_update().get(pk=parent.pk)  # serialises sibling-name checks
        org = Org(**{f: fields.get(f, "") for f in ORG_FIELDS})
        _clean_org(org, parent)
        _check_sibling_name(org.name, parent)
        org = Org.objects.add_root(instance=org) if parent is None else Org.objects.add_child(parent, instance=org)
        audit.record(actor=actor, action=AuditAction.ORG_CREATE, obj=org, org=org, changes=_created(org, ORG_FIELDS))
    return org


def _resort(org: Org, parent: Org | None) -> None:
    """Keep siblings in name order (node_order_by) after a rename: path order is display order."""
    if parent is not None:
        Org.objects.move(org, parent, pos="sorted-child")
    else:
        Org.objects.move(org, org, pos="sorted-sibling")


def org_update(*, actor, org: Org, **changes: Unpack[OrgFields]) -> Org:
    """Edit a node's own fields. A new level must stay below the parent's and above the children's."""
    unknown = set(changes) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require(actor, Perm.MANAGE_ORG, org)
    with transaction.atomic():
        org = Org.objects.select_for_update().get(pk=org.pk)
        before = audit.snapshot(org, ORG_FIELDS)
        for f, v in changes.items():
            setattr(org, f, v)
        parent = _parent_of(org)
        _clean_org(org, parent)
        if org.level != before["level"]:
            child_levels = Org.objects.get_children(org).values_list("level", flat=True)
            if any(LEVEL_RANK[lv] <= LEVEL_RANK[org.level] for lv in child_levels):
                raise ValidationError(
                    {"level": [_("Child nodes are not below this level; change or move them first.")]}
                )
        renamed = org.name != before["name"]
        if renamed:
            _check_sibling_name(org.name, parent, exclude_pk=org.pk)
        org.save(update_fields=[*ORG_FIELDS, "updated_at"])
        if renamed:
            _resort(org, parent)
            org.refresh_from_db()
            scope.forget(actor)  # cached role paths may have shifted with the siblings
        changed = audit.diff(before, org)
        if changed:
            audit.record(actor=actor, action=AuditAction.ORG_UPDATE, obj=org, org=org, changes=changed)
    return org


def org_move(*, actor, org: Org, new_parent: Org) -> Org:
    """Move a node with its whole subtree under `new_parent` (MANAGE_ORG at both ends)."""
    _require(actor, Perm.MANAGE_ORG, org)
    _require(actor, Perm.MANAGE_ORG, new_parent)
    with transaction.atomic():
        org = Org.objects.select_for_update().get(pk=org.pk)
        new_parent = Org.objects.select_for_update().get(pk=new_parent.pk)
        if new_parent.path.startswith(org.path):
            raise ServiceError(
                _("A node cannot be moved into itself or its own subtree."),
                code=ErrorCode.MOVE_INTO_SUBTREE,
                field="parent",
            )
        if LEVEL_RANK[new_parent.level] >= LEVEL_RANK[org.level]:
            raise ServiceError(
                _("A %(child)s cannot be placed under a %(parent)s: choose a node of a higher level.")
                % {"child": org.get_level_display(), "parent": new_parent.get_level_display()},
                code=ErrorCode.LEVEL_ORDER,
                field="parent",
            )
        old_parent = _parent_of(org)
        if old_parent is not None and old_parent.pk == new_parent.pk:
            return org  # already there: nothing to do, nothing to record
        _check_sibling_name(org.name, new_parent)
        old_path = org.path
        subtree = set(Org.objects.filter(path__startswith=old_path).values_list("pk", flat=True))

        Org.objects.move(org, new_parent, pos="sorted-child")

        org.refresh_from_db()
        new_parent.refresh_from_db()
        _assert_moved(org, new_parent, subtree)
        scope.forget(actor)  # role paths inside the moved subtree changed
        audit.record(
            actor=actor,
            action=AuditAction.ORG_MOVE,
            obj=org,
            org=org,
            changes={"parent": [old_parent.pk if old_parent else None, new_parent.pk], "path": [old_path, org.path]},
            note=ngettext("%(n)d node moved", "%(n)d nodes moved", len(subtree)) % {"n": len(subtree)},
        )
    return org


def _assert_moved(org: Org, new_parent: Org, subtree: set[int]) -> None:
    """The same nodes, all under the new parent, with depths matching their paths; else roll back."""
    after = Org.objects.filter(path__startswith=org.path)
    ok = (
        org.path.startswith(new_parent.path)
        and org.depth == new_parent.depth + 1
        and set(after.values_list("pk", flat=True)) == subtree
        and not after.exclude(depth=Length("path") / Org.steplen).exists()
    )
    if not ok:
        raise ServiceError(
            _("The tree could not be moved consistently; nothing was changed."), code=ErrorCode.MOVE_FAILED
        )


org_delete_allowed = org_policy.may_delete  # whoever manages the node above; the platform admin for roots


def org_delete(*, actor, org: Org) -> None:
    """Remove an empty node. Whoever manages its parent may do it (the platform admin for roots)."""
    _require(actor, Perm.VIEW, org)
    with transaction.atomic():
        org = Org.objects.select_for_update().get(pk=org.pk)
        if not org_delete_allowed(actor, org):
            raise PermissionDenied(_("Only whoever manages the node above may delete this node."))
        parent = _parent_of(org)
        left = []
        if n := Org.objects.get_children(org).count():
            left.append(ngettext("%(n)d child node", "%(n)d child nodes", n) % {"n": n})
        if n := org.volunteers.count():
            left.append(ngettext("%(n)d volunteer", "%(n)d volunteers", n) % {"n": n})
        if n := org.teams.count():
            left.append(ngettext("%(n)d team", "%(n)d teams", n) % {"n": n})
        if n := org.units.count():
            left.append(ngettext("%(n)d unit", "%(n)d units", n) % {"n": n})
        if n := org.role_assignments.count():
            left.append(ngettext("%(n)d account role", "%(n)d account roles", n) % {"n": n})
        if left:
            raise ServiceError(
                _("%(name)s still has %(what)s; move or remove them first.")
                % {"name": org.name, "what": _(", ").join(left)},
                code=ErrorCode.NOT_EMPTY,
            )
        audit.record(
            actor=actor,
            action=AuditAction.ORG_DELETE,
            obj=org,
            org=parent,
            changes={f: [v, None] for f, v in audit.snapshot(org, ORG_FIELDS).items() if v},
        )
        try:
            org.delete()
        except (ProtectedError, RestrictedError):
            raise ServiceError(
                _("%(name)s is still referenced by other records; remove them first.") % {"name": org.name},
                code=ErrorCode.NOT_EMPTY,
            ) from None


# --- units ---------------------------------------------------------------------------------------


def _clean_unit(unit: Unit) -> None:
    _strip(unit, ["name", "credit_code", "address", "contact_name", "contact_phone"])
    errors = _model_errors(unit, exclude=["org", "parent", "credit_code"])
    if unit.credit_code:
        try:
            unit.credit_code = validate_uscc(unit.credit_code)
        except InvalidId:
            errors.setdefault("credit_code", []).append(
                _("Unified social credit code is not valid: 18 digits or capital letters, the last one a check digit.")
            )
    _check_phone(errors, "contact_phone", unit.contact_phone)
    if unit.parent_id is not None:
        parent = unit.parent
        if unit.pk is not None and parent.pk == unit.pk:
            errors.setdefault("parent", []).append(_("A unit cannot be its own parent."))
        elif parent.parent_id is not None:
            errors.setdefault("parent", []).append(
                _("%(name)s is itself a sub-unit; choose a top-level unit such as a school.") % {"name": parent.name}
            )
        elif parent.org_id != unit.org_id:
            errors.setdefault("parent", []).append(
                _("A sub-unit belongs to the same node as its parent unit (%(org)s).") % {"org": parent.org.name}
            )
        elif unit.pk is not None and unit.subunits.exists():
            errors.setdefault("parent", []).append(_("This unit has sub-units of its own, so it cannot become one."))
    _raise(errors)
    if unit.credit_code and Unit.objects.filter(credit_code=unit.credit_code).exclude(pk=unit.pk).exists():
        raise ServiceError(
            _("This unified social credit code is already registered for another unit."),
            code=ErrorCode.CREDIT_CODE_TAKEN,
            field="credit_code",
        )


def _save_unit(unit: Unit, **kwargs) -> None:
    try:
        with transaction.atomic():
            unit.save(**kwargs)
    except IntegrityError:  # a concurrent save took the credit code between check and insert
        raise ServiceError(
            _("This unified social credit code is already registered for another unit."),
            code=ErrorCode.CREDIT_CODE_TAKEN,
            field="credit_code",
        ) from None


def unit_create(*, actor, org: Org, parent: Unit | None = None, **fields: Unpack[UnitFields]) -> Unit:
    """A unit attached to `org`; optionally a sub-unit (a class 1001班 inside its school)."""
    _require(actor, Perm.CHANGE, org)
    if parent is not None:
        _require(actor, Perm.CHANGE, parent.org)
    with transaction.atomic():
        unit = Unit(org=org, parent=parent, **{f: fields.get(f, "") for f in UNIT_FIELDS[2:]})
        _clean_unit(unit)
        _save_unit(unit)
        audit.record(actor=actor, action=AuditAction.UNIT_CREATE, obj=unit, changes=_created(unit, UNIT_FIELDS))
    return unit


def unit_update(*, actor, unit: Unit, **changes: Unpack[UnitFields]) -> Unit:
    """Edit a unit; when it changes node, its sub-units go with it."""
    unknown = set(changes) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require(actor, Perm.CHANGE, unit.org)
    for key in ("org", "parent"):
        target = changes.get(key)
        if target is not None:
            _require(actor, Perm.CHANGE, target if key == "org" else target.org)
    with transaction.atomic():
        unit = Unit.objects.select_for_update(of=("self",)).select_related("org", "parent").get(pk=unit.pk)
        before = audit.snapshot(unit, UNIT_FIELDS)
        for f, v in changes.items():
            setattr(unit, f, v)
        _clean_unit(unit)
        _save_unit(unit)
        moved = 0
        if unit.org_id != before["org"]:
            moved = Unit.objects.filter(parent=unit).update(org=unit.org)
        changed = audit.diff(before, unit)
        if changed:
            note = ngettext("%(n)d sub-unit moved along", "%(n)d sub-units moved along", moved) % {"n": moved}
            audit.record(
                actor=actor, action=AuditAction.UNIT_UPDATE, obj=unit, changes=changed, note=note if moved else ""
            )
    return unit


# --- positions -----------------------------------------------------------------------------------


def _clean_position(position: Position) -> None:
    _strip(position, POSITION_FIELDS)
    errors = _model_errors(position, exclude=["org", "user"])
    _check_phone(errors, "phone", position.phone)
    _raise(errors)


def position_create(*, actor, org: Org, **fields: Unpack[PositionFields]) -> Position:
    """Record who holds a post at a node (主任、站长、专管员 …)."""
    _require(actor, Perm.MANAGE_ORG, org)
    with transaction.atomic():
        position = Position(org=org, **{f: fields.get(f, "") for f in POSITION_FIELDS})
        _clean_position(position)
        position.save()
        audit.record(
            actor=actor, action=AuditAction.POSITION_CREATE, obj=position, changes=_created(position, POSITION_FIELDS)
        )
    return position


def position_update(*, actor, position: Position, **changes: Unpack[PositionFields]) -> Position:
    unknown = set(changes) - set(POSITION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    _require(actor, Perm.MANAGE_ORG, position.org)
    with transaction.atomic():
        position = Position.objects.select_for_update(of=("self",)).select_related("org").get(pk=position.pk)
        before = audit.snapshot(position, POSITION_FIELDS)
        for f, v in changes.items():
            setattr(position, f, v)
        _clean_position(position)
        position.save()
        changed = audit.diff(before, position)
        if changed:
            audit.record(actor=actor, action=AuditAction.POSITION_UPDATE, obj=position, changes=changed)
    return position


def position_delete(*, actor, position: Position) -> None:
    _require(actor, Perm.MANAGE_ORG, position.org)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditAction.POSITION_DELETE,
            obj=position,
            changes={f: [v, None] for f, v in audit.snapshot(position, POSITION_FIELDS).items() if v},
        )
        position.delete()


# --- leading groups ------------------------------------------------------------------------------


def _clean_group(group: LeadingGroup) -> None:
    _strip(group, ["name"])
    _raise(_model_errors(group, exclude=["org"]))
    if LeadingGroup.objects.filter(org=group.org_id, name=group.name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": [_("This node already has a leading group with this name.")]})


def leading_group_create(*, actor, org: Org, name: str) -> LeadingGroup:
    """A 领导小组 of a node (for the practice work, or for one campaign)."""
    _require(actor, Perm.MANAGE_ORG, org)
    with transaction.atomic():
        group = LeadingGroup(org=org, name=name)
        _clean_group(group)
        group.save()
        audit.record(
            actor=actor, action=AuditAction.LEADING_GROUP_CREATE, obj=group, changes={"name": [None, group.name]}
        )
    return group


def leading_group_update(*, actor, group: LeadingGroup, name: str) -> LeadingGroup:
    _require(actor, Perm.MANAGE_ORG, group.org)
    with transaction.atomic():
        group = LeadingGroup.objects.select_for_update(of=("self",)).select_related("org").get(pk=group.pk)
        before = audit.snapshot(group, ["name"])
        group.name = name
        _clean_group(group)
        group.save()
        changed = audit.diff(before, group)
        if changed:
            audit.record(actor=actor, action=AuditAction.LEADING_GROUP_UPDATE, obj=group, changes=changed)
    return group


def leading_group_delete(*, actor, group: LeadingGroup) -> None:
    """Delete a group with its member list (the audit row keeps who was in it)."""
    _require(actor, Perm.MANAGE_ORG, group.org)
    with transaction.atomic():
        members = [f"{m.get_role_display()}: {m.person_name}" for m in group.members.all()]
        audit.record(
            actor=actor,
            action=AuditAction.LEADING_GROUP_DELETE,
            obj=group,
            changes={"name": [group.name, None], "members": [members, None]},
        )
        group.delete()


def leading_group_member_add(
    *, actor, group: LeadingGroup, role: str, person_name: str, job_title: str = ""
) -> LeadingGroupMember:
    """Add a member; a group has at most one leader (组长), checked under a lock on the group."""
    _require(actor, Perm.MANAGE_ORG, group.org)
    with transaction.atomic():
        group = LeadingGroup.objects.select_for_update(of=("self",)).select_related("org").get(pk=group.pk)
        member = LeadingGroupMember(group=group, role=role, person_name=person_name, job_title=job_title)
        _strip(member, MEMBER_FIELDS)
        _raise(_model_errors(member, exclude=["group", "user"]))
        if role == LeadingGroupRole.LEADER and group.members.filter(role=LeadingGroupRole.LEADER).exists():
            raise ServiceError(
                _("This group already has a group leader; remove them first or add a deputy."),
                code=ErrorCode.LEADER_TAKEN,
                field="role",
            )
        member.save()
        audit.record(
            actor=actor,
            action=AuditAction.LEADING_GROUP_MEMBER_ADD,
            obj=member,
            changes=_created(member, MEMBER_FIELDS),
        )
    return member


def leading_group_member_remove(*, actor, member: LeadingGroupMember) -> None:
    _require(actor, Perm.MANAGE_ORG, member.group.org)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditAction.LEADING_GROUP_MEMBER_REMOVE,
            obj=member,
            changes={f: [v, None] for f, v in audit.snapshot(member, MEMBER_FIELDS).items() if v},
        )
        member.delete()
