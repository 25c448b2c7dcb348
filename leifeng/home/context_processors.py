import html
from functools import cache

from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as _reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leifeng.accounts.models import Role
from leifeng.core import scope
from leifeng.core.scope import Perm


@cache
def _reversed(name: str, prefix: str, urlconf) -> str:
    return _reverse(name, urlconf=urlconf)


def reverse(name: str) -> str:
    """The menu's URLs (no arguments) resolved once per process, script prefix and URLconf: ~20 `reverse`
    calls were a tenth of a roster page's CPU (issue #4)."""
    return _reversed(name, get_script_prefix(), get_urlconf())


def _is_volunteer(user) -> bool:
    """Has the user a volunteer profile? The profile when a view loaded it already (teams.selectors.volunteer_of
    primes it), else what the request's session query found (accounts.middleware), else one EXISTS query
    instead of loading the whole profile only to know whether it is there."""
    from leifeng.people.models import Volunteer

    related = Volunteer.user.field.remote_field
    if related.is_cached(user):
        return related.get_cached_value(user) is not None
    known = getattr(user, "_leifeng_is_volunteer", None)
    if known is not None:
        return known
    return Volunteer.objects.filter(user_id=user.pk).exists()


def _menu(items: list, request) -> dict:
    """The items, and the menu's links as HTML (base.html): the same <a>s the template's loop wrote, built
    here — the loop over ~20 lazy labels was most of the page frame's rendering (issue #4)."""
    path = getattr(request, "path", None)
    links = []
    for label, url in items:
        current = ' aria-current="page"' if url == path else ""
        links.append(f'<a href="{html.escape(url)}"{current}>{html.escape(str(label))}</a>')
    return {"nav_items": items, "nav_links": mark_safe("".join(links))}  # every value escaped


def navigation(request):
    """The menu a user sees depends on what their roles allow (navigation by role).

    Newer labels carry the "menu" context, so a page title elsewhere may translate the same words differently.
    """
    user = getattr(request, "user", None)
    items = []
    if user is None or not user.is_authenticated:
        items.append((pgettext_lazy("menu", "Find activities"), reverse("activities:find")))
        items.append((pgettext_lazy("menu", "Ask for help"), reverse("orders:menu")))
        return _menu(items, request)
    items.append((_("Home"), reverse("home:home")))
    is_volunteer = _is_volunteer(user)
    if is_volunteer:
        items.append((pgettext_lazy("menu", "Find activities"), reverse("activities:find")))
        items.append((pgettext_lazy("menu", "My shifts"), reverse("activities:my_shifts")))
        items.append((pgettext_lazy("menu", "My hours"), reverse("hours:my_hours")))
        items.append((pgettext_lazy("menu", "My certificates"), reverse("hours:my_certificates")))
        items.append((pgettext_lazy("menu", "Calendar"), reverse("activities:feed_links")))
        items.append((_("My profile"), reverse("people:my_profile")))
        items.append((_("My teams"), reverse("teams:my_teams")))
    can_view = scope.has_any(user, Perm.VIEW)
    can_change = scope.has_any(user, Perm.CHANGE)
    leads = scope.has_any(user, Perm.LEAD_TEAM)
    if can_view:
        items.append((_("Organizations"), reverse("orgs:tree")))
        items.append((_("Volunteers"), reverse("people:volunteer_list")))
    if can_view or leads:
        items.append((_("Teams"), reverse("teams:team_list")))
    if can_view:
        items.append((pgettext_lazy("menu", "Campaigns"), reverse("activities:campaign_list")))
        items.append((pgettext_lazy("menu", "Manage activities"), reverse("activities:activity_list")))
        items.append((pgettext_lazy("menu", "Orders inbox"), reverse("orders:inbox")))
    if is_volunteer or Role.TEAM_LEADER in scope.roles(user):
        items.append((pgettext_lazy("menu", "My orders"), reverse("orders:my_orders")))
    if can_change:
        items.append((pgettext_lazy("menu", "Batch dispatch"), reverse("orders:dispatch_batch")))
        items.append((pgettext_lazy("menu", "Certificate requests"), reverse("hours:certificate_queue")))
        items.append((pgettext_lazy("menu", "Message relay"), reverse("notifications:relay_list")))
    items.append((pgettext_lazy("menu", "Messages"), reverse("notifications:inbox")))
    if scope.has_any(user, Perm.MANAGE_ORG):
        items.append((_("Accounts"), reverse("accounts:user_list")))
    if scope.has_any(user, Perm.AUDIT):
        items.append((_("Audit"), reverse("core:audit")))
    if user.is_staff:
        items.append((_("Admin"), reverse("admin:index")))
    return _menu(items, request)
