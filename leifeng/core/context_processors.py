from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from leifeng.core import scope
from leifeng.core.scope import Perm


def navigation(request):
    """The menu a user sees depends on what their roles allow (navigation by role)."""
    user = getattr(request, "user", None)
    items = []
    if user is not None and user.is_authenticated:
        items.append((_("Home"), reverse("core:home")))
        if hasattr(user, "volunteer"):
            items.append((_("My profile"), reverse("people:my_profile")))
            items.append((_("My teams"), reverse("teams:my_teams")))
        if scope.has_any(user, Perm.VIEW):
            items.append((_("Organizations"), reverse("orgs:tree")))
            items.append((_("Volunteers"), reverse("people:volunteer_list")))
        if scope.has_any(user, Perm.VIEW) or scope.has_any(user, Perm.LEAD_TEAM):
            items.append((_("Teams"), reverse("teams:team_list")))
        if scope.has_any(user, Perm.MANAGE_ORG):
            items.append((_("Accounts"), reverse("accounts:user_list")))
        if scope.has_any(user, Perm.AUDIT):
            items.append((_("Audit"), reverse("core:audit")))
        if user.is_staff:
            items.append((_("Admin"), reverse("admin:index")))
    return {"nav_items": items}
