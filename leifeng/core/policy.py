"""Permission policies over the org tree (Wagtail's `permission_policies`), built on `core.scope`.

Each app has a `policy.py` with one policy object per model it guards. A policy answers the three questions
every view, API and selector asks, so no second copy of a visibility rule exists anywhere:

- which objects may this actor see (or change):  ``policy.visible(actor, perm)`` / ``policy.get_or_404(...)``
- may this actor do `perm` to this object:         ``policy.allows(actor, perm, obj)``
- who may do `perm` to this object:                ``policy.users_with(perm, obj)``

An app's policy adds its own domain rules as methods (an activity a volunteer may see, an order a team may
accept) on top of these, and its selectors and services call them instead of writing the rule again.
"""

from operator import attrgetter

from django.db.models import Model, QuerySet
from django.http import Http404

from leifeng.core import scope
from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm


class ModelPolicy:
    """The scope rules of one model whose rows hang on an org node through `org_field` ('' for the node itself)."""

    model: type[Model]
    org_field: str = "org"

    def __init__(self, model: type[Model] | None = None, *, org_field: str | None = None):
        if model is not None:
            self.model = model
        if org_field is not None:
            self.org_field = org_field

    def queryset(self) -> QuerySet:
        return self.model._default_manager.all()

    def org_of(self, obj):
        """The node `obj` hangs on."""
        return attrgetter(self.org_field)(obj) if self.org_field else obj

    def visible(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None) -> QuerySet:
        """The rows `actor` may see (or, with another `perm`, act on)."""
        return scope.scoped(self.queryset() if qs is None else qs, actor, perm, field=self.org_field.replace(".", "__"))

    def get_or_404(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None, **lookup) -> Model:
        """For pages: the object, or Http404 when it is missing or out of scope (the same answer)."""
        try:
            return self.visible(actor, perm, qs).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404 from None

    def get(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None, **lookup) -> Model:
        """For services: the object, or `NotFound` when it is missing or out of scope (the same answer)."""
        try:
            return self.visible(actor, perm, qs).get(**lookup)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None

    def allows(self, actor, perm: Perm, obj) -> bool:
        return scope.allows(actor, perm, self.org_of(obj))

    def users_with(self, perm: Perm, obj, *, here_only: bool = False) -> QuerySet:
        return scope.users_with(perm, self.org_of(obj), here_only=here_only)
