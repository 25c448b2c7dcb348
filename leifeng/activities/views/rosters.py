"""The organizer's roster (every post with its groups, waitlist and leavers; a post's page with tabs, search
and pages), the changes made from it (groups, leader, move, remove) and assigning a team's members."""

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_noop, ngettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.models import ACTIVE_SIGNUP, Signup, SignupGroup, SignupStatus
from leifeng.activities.policy import activity_policy
from leifeng.activities.templating import render_fragment
from leifeng.activities.views.common import organizer_activity
from leifeng.activities.views.volunteers import status_labels
from leifeng.core import scope
from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.core.scope import Perm
from leifeng.teams import selectors as team_selectors
from leifeng.teams.models import MembershipStatus, Team

# msgids that roster_sections.html formats with variables (`_("…", n=…)`, `ngettext`) or passes to |date:
# makemessages reads only a template's plain `_("…")`, so it would drop these from the catalog
_TEMPLATE_MSGIDS = (
    gettext_noop("Group %(n)s"),
    gettext_noop("Make groups of %(n)s"),
    gettext_noop("%(c)s confirmed · %(w)s waitlisted · %(e)s left"),
    gettext_noop("Show all %(n)s"),
    gettext_noop("Page %(n)s of %(total)s"),
    gettext_noop("N j, H:i"),
    ngettext_lazy("%(n)s on the waitlist", "%(n)s on the waitlist"),
    ngettext_lazy("%(n)s withdrawn or removed", "%(n)s withdrawn or removed"),
)

# what the sections' template compares with (values, not the enums: Jinja2 has no imports)
_CONSTANTS = {
    "CONFIRMED": SignupStatus.CONFIRMED.value,
    "REMOVED": SignupStatus.REMOVED.value,
    "ACTIVE": frozenset(s.value for s in ACTIVE_SIGNUP),
    "OVERVIEW": selectors.ROSTER_OVERVIEW,
}


def _roster_context(request: HttpRequest, pk: int, params=None) -> dict:
    """The overview (every post, the first people of each, group by group) or one post's page (?post=…),
    searchable (?q=…), one status a tab (?tab=waitlisted|ended), paginated (?page=…). The posts' cards and
    their people come from the Jinja2 template `activities/roster_sections.html` (templating.py: why)."""
    params = request.GET if params is None else params
    post_id = params.get("post", "")
    q = params.get("q", "").strip()[:40]
    a, view = selectors.roster_page(
        actor=request.user,
        activity_id=pk,
        post_id=int(post_id) if post_id.isdigit() else None,
        tab=params.get("tab", "confirmed"),
        q=q,
        page=params.get("page", "1"),
    )
    can_change = activity_policy.allows(request.user, Perm.CHANGE, a)
    ctx = {"activity": a, "roster": view, "q": q, "can_change": can_change}
    if can_change:
        # the token the cards' forms carry serves the page frame too (the csrf context processor would mask
        # the secret a second time, a random string each time); a view's context wins over the processors'
        ctx["csrf_token"] = get_token(request)
    sections = {
        **_CONSTANTS,
        **ctx,
        "csrf_token": ctx.get("csrf_token", ""),
        "q_url": quote(q, safe="/"),  # Django's |urlencode
        "statuses": status_labels(get_language()),
    }
    ctx["sections_html"] = render_fragment("activities/roster_sections.html", sections)
    return ctx


@login_required
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """Every post with its groups, its waitlist and those who left, capped per post: constant queries.
    ?manage=<sign-up> answers the small panel of one person (move, make leader, remove), loaded on demand."""
    manage = request.GET.get("manage", "")
    if manage.isdigit():
        a = organizer_activity(request, pk)
        s, groups = selectors.roster_signup(actor=request.user, activity=a, signup_id=int(manage))
        ctx = {
            "activity": a,
            "s": s,
            "groups": groups,
            "can_change": activity_policy.allows(request.user, Perm.CHANGE, a),
        }
        if request.htmx:
            return render(request, "activities/_roster_manage.html", ctx)
        return render(request, "activities/roster_manage.html", ctx)
    return render(request, "activities/roster.html", _roster_context(request, pk))


def _roster_response(request: HttpRequest, pk: int) -> HttpResponse:
    """After a change: the roster again, as the organizer was looking at it (same post, tab, search, page)."""
    if request.htmx:
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        params = QueryDict(current.query)
        return render(request, "activities/roster.html#roster", _roster_context(request, pk, params))
    return redirect("activities:roster", pk=pk)


@login_required
@require_POST
def groups_build(request: HttpRequest, post_id: int) -> HttpResponse:
    activity_id = selectors.post_for_organizer(actor=request.user, post_id=post_id).activity_id
    attempt(request, lambda: services.groups_build(actor=request.user, post_id=post_id), _("Groups updated."))
    return _roster_response(request, activity_id)


def _roster_action(
    request: HttpRequest,
    call: Callable[[Signup | SignupGroup], object],
    success: str,
    *,
    signup_id: int | None = None,
    group_id: int | None = None,
) -> HttpResponse:
    """Every change made from the roster: load the sign-up or group through the actor's scope (out of scope:
    a plain 404, nothing runs), run the service on it, say how it went, show the roster again."""
    if signup_id is not None:
        target: Signup | SignupGroup = selectors.signup_for_organizer(actor=request.user, signup_id=signup_id)
    else:
        target = selectors.group_for_organizer(actor=request.user, group_id=group_id)
    attempt(request, lambda: call(target), success)
    return _roster_response(request, target.post.activity_id)


def _int_or_none(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@login_required
@require_POST
def group_move(request: HttpRequest, signup_id: int) -> HttpResponse:
    group_id = _int_or_none(request.POST.get("group", ""))
    return _roster_action(
        request,
        lambda s: services.group_move(actor=request.user, signup_id=s.pk, group_id=group_id),
        _("Moved."),
        signup_id=signup_id,
    )


@login_required
@require_POST
def group_leader(request: HttpRequest, group_id: int) -> HttpResponse:
    volunteer_id = _int_or_none(request.POST.get("volunteer", ""))
    return _roster_action(
        request,
        lambda g: services.group_set_leader(actor=request.user, group_id=g.pk, volunteer_id=volunteer_id),
        _("Group leader changed."),
        group_id=group_id,
    )


@login_required
@require_POST
def signup_remove(request: HttpRequest, signup_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _roster_action(
        request,
        lambda s: services.signup_remove(actor=request.user, signup_id=s.pk, reason=reason),
        _("Removed from the post."),
        signup_id=signup_id,
    )


def _assignable_teams(actor):
    """Teams the actor may assign from: those they lead, and those of their LEAD_TEAM subtree."""
    return (
        Team.objects.filter(is_active=True)
        .filter(team_selectors.leads_q(actor) | scope.q(actor, Perm.LEAD_TEAM))
        .select_related("org")
        .order_by("org__path", "name")
    )


@login_required
def assign(request: HttpRequest, post_id: int) -> HttpResponse:
    """A leader signs up members of their team for a post; each of them may still withdraw."""
    post = selectors.post_visible(actor=request.user, post_id=post_id)  # out of sight: 404, nothing runs
    a = post.activity
    teams = _assignable_teams(request.user)
    if not teams.exists():
        raise Http404
    form = forms.AssignForm(request.POST or None, teams=teams)
    results = None
    if request.method == "POST" and form.is_valid():
        try:
            results = services.signup_assign_many(
                actor=request.user, post=post.pk, team_id=form.cleaned_data["team"].pk, numbers=form.number_list()
            )
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            placed = sum(1 for r in results if r.signup)
            messages.success(request, _("%(n)d people signed up.") % {"n": placed})
    members = []
    team = form.cleaned_data.get("team") if form.is_bound and form.is_valid() else None
    if team is None and teams.count() == 1:
        team = teams.first()
    if team is not None:
        members = list(
            team.memberships.filter(status=MembershipStatus.ACTIVE).select_related("volunteer").order_by("pk")[:200]
        )
    return render(
        request,
        "activities/assign.html",
        {"form": form, "post": post, "activity": a, "results": results, "members": members},
    )
