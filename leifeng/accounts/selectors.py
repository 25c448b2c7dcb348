from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404

from leifeng.accounts.models import RoleAssignment, User
from leifeng.core import scope
from leifeng.core.scope import Perm


def role_list_for_user(*, user) -> list[RoleAssignment]:
    return list(RoleAssignment.objects.filter(user=user).select_related("org").order_by("org__path"))


def user_page(*, actor, params, per_page: int = 50):
    """Accounts holding a role somewhere in the actor's subtree (org admins manage these)."""
    if not scope.has_any(actor, Perm.MANAGE_ORG):
        raise Http404
    in_scope = scope.scoped(RoleAssignment.objects.all(), actor, Perm.MANAGE_ORG)
    qs = (
        User.objects.filter(pk__in=in_scope.values("user_id"))
        .prefetch_related(Prefetch("roles", queryset=RoleAssignment.objects.select_related("org")))
        .order_by("username")
    )
    if term := (params.get("q") or "").strip():
        qs = qs.filter(Q(username__icontains=term) | Q(display_name__icontains=term) | Q(phone__startswith=term))
    return Paginator(qs, per_page).get_page(params.get("page"))
