"""/api/v1/orgs/: nodes of the tree and units. Schema in → service or selector → schema out.

Anything outside the caller's subtree answers 404 like a missing object; lists are paginated
(?page=N&page_size=M → {"items": [...], "count": total}).
"""

from datetime import datetime

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from leifeng.core.pagination import Page
from leifeng.core.schemas import Id
from leifeng.orgs import selectors, services
from leifeng.orgs.models import Org, OrgLevel, Unit, UnitKind

router = Router(tags=["orgs"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


# --- schemas -------------------------------------------------------------------------------------


class OrgOut(Schema):
    id: int
    name: str
    level: OrgLevel
    level_display: str = Field(..., description="The level's name in the request's language")
    parent_id: int | None = Field(..., description="Null for a root of the tree")
    depth: int = Field(..., description="1 for a root")
    child_count: int = Field(..., alias="numchild")
    division_code: str = Field(..., description="Administrative division code: 6 or 12 digits, or empty")
    address: str
    contact_name: str
    contact_phone: str
    updated_at: datetime

    @staticmethod
    def resolve_level_display(obj: Org) -> str:
        return str(obj.get_level_display())


class OrgIn(Schema):
    parent_id: Id | None = Field(..., description="The parent node; null creates a root (platform admins only)")
    name: str = Field(..., max_length=100)
    level: OrgLevel = Field(..., description="Below the parent's level: center → subcenter → station → point")
    division_code: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)


class OrgPatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, max_length=100)
    level: OrgLevel | None = None
    division_code: str | None = Field(None, max_length=20)
    address: str | None = Field(None, max_length=200)
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=20)


class OrgMoveIn(Schema):
    parent_id: Id = Field(..., description="The new parent; the node's whole subtree moves with it")


class OrgQuery(Schema):
    level: OrgLevel | None = None
    parent: Id | None = Field(None, description="Only the direct children of this node")


class UnitOut(Schema):
    id: int
    name: str
    kind: UnitKind
    kind_display: str
    credit_code: str = Field(..., description="Unified social credit code (GB 32100), or empty")
    org_id: int
    org_name: str = Field(..., alias="org.name")
    parent_id: int | None = Field(..., description="The unit this one belongs to, e.g. a class's school")
    parent_name: str | None
    address: str
    contact_name: str
    contact_phone: str
    updated_at: datetime

    @staticmethod
    def resolve_kind_display(obj: Unit) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_parent_name(obj: Unit) -> str | None:
        return obj.parent.name if obj.parent_id else None


class UnitIn(Schema):
    org_id: Id
    name: str = Field(..., max_length=100)
    kind: UnitKind
    credit_code: str = Field("", max_length=30)
    parent_id: Id | None = None
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)


class UnitPatch(Schema):
    """Only the fields sent change; `parent_id: null` detaches a sub-unit."""

    org_id: Id | None = None
    name: str | None = Field(None, max_length=100)
    kind: UnitKind | None = None
    credit_code: str | None = Field(None, max_length=30)
    parent_id: Id | None = None
    address: str | None = Field(None, max_length=200)
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=20)


class UnitQuery(Schema):
    q: str = Field("", description="Part of the name, or a whole credit code")
    kind: UnitKind | None = None
    org: Id | None = Field(None, description="This node and everything below it")


# --- nodes ---------------------------------------------------------------------------------------


def _org_out(request, org: Org) -> Org:
    """Re-read through the selector: fresh path, parent_id annotated, and still in scope."""
    return selectors.org_get(actor=request.auth, pk=org.pk)


@router.get("/units", response=list[UnitOut], summary="Units in my subtree")
@paginate(Page)
def unit_list(request, filters: Query[UnitQuery]):
    f = selectors.UnitFilters(q=filters.q.strip(), kind=filters.kind or "", org_id=filters.org)
    return selectors.unit_list(actor=request.auth, filters=f)


@router.post("/units", response={201: UnitOut}, summary="Add a unit (Perm.CHANGE at its node)")
def unit_create(request, payload: UnitIn):
    data = payload.model_dump()
    org = selectors.org_get(actor=request.auth, pk=data.pop("org_id"))
    parent_id = data.pop("parent_id")
    parent = selectors.unit_get(actor=request.auth, pk=parent_id) if parent_id is not None else None
    unit = services.unit_create(actor=request.auth, org=org, parent=parent, **data)
    return Status(201, selectors.unit_get(actor=request.auth, pk=unit.pk))


@router.get("/units/{int:unit_id}", response=UnitOut, summary="One unit")
def unit_get(request, unit_id: Id):
    return selectors.unit_get(actor=request.auth, pk=unit_id)


@router.patch("/units/{int:unit_id}", response=UnitOut, summary="Change a unit; moving node takes its sub-units")
def unit_update(request, unit_id: Id, payload: UnitPatch):
    unit = selectors.unit_get(actor=request.auth, pk=unit_id)
    data = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in data.items() if k not in ("org_id", "parent_id") and v is not None}
    if data.get("org_id") is not None:
        changes["org"] = selectors.org_get(actor=request.auth, pk=data["org_id"])
    if "parent_id" in data:
        parent_id = data["parent_id"]
        changes["parent"] = selectors.unit_get(actor=request.auth, pk=parent_id) if parent_id is not None else None
    services.unit_update(actor=request.auth, unit=unit, **changes)
    return selectors.unit_get(actor=request.auth, pk=unit_id)


@router.get("", response=list[OrgOut], summary="Nodes in my subtree, in tree order")
@paginate(Page)
def org_list(request, filters: Query[OrgQuery]):
    return selectors.org_list(actor=request.auth, level=filters.level, parent_id=filters.parent)


@router.post("", response={201: OrgOut}, summary="Add a node (Perm.MANAGE_ORG at the parent)")
def org_create(request, payload: OrgIn):
    data = payload.model_dump()
    parent_id = data.pop("parent_id")
    parent = selectors.org_get(actor=request.auth, pk=parent_id) if parent_id is not None else None
    org = services.org_create(actor=request.auth, parent=parent, **data)
    return Status(201, _org_out(request, org))


@router.get("/{int:org_id}", response=OrgOut, summary="One node")
def org_get(request, org_id: Id):
    return selectors.org_get(actor=request.auth, pk=org_id)


@router.patch("/{int:org_id}", response=OrgOut, summary="Change a node's own fields")
def org_update(request, org_id: Id, payload: OrgPatch):
    org = selectors.org_get(actor=request.auth, pk=org_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    services.org_update(actor=request.auth, org=org, **changes)
    return _org_out(request, org)


@router.post("/{int:org_id}/move", response=OrgOut, summary="Move a node and its whole subtree under a new parent")
def org_move(request, org_id: Id, payload: OrgMoveIn):
    org = selectors.org_get(actor=request.auth, pk=org_id)
    new_parent = selectors.org_get(actor=request.auth, pk=payload.parent_id)
    services.org_move(actor=request.auth, org=org, new_parent=new_parent)
    return _org_out(request, org)


@router.delete("/{int:org_id}", response={204: None}, summary="Delete an empty node (Perm.MANAGE_ORG above it)")
def org_delete(request, org_id: Id):
    org = selectors.org_get(actor=request.auth, pk=org_id)
    services.org_delete(actor=request.auth, org=org)
    return Status(204, None)
