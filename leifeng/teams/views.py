"""Team pages: parse → authorize → one service or selector → render (an htmx partial when request.htmx)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.teams import selectors, services
from leifeng.teams.forms import JoinForm, LeadersForm, RejectForm, TeamEditForm, TeamForm, numbers_from
from leifeng.teams.models import TeamCategory, TeamKind, TeamLevel
from leifeng.teams.policy import team_policy, volunteer_of
from leifeng.teams.selectors import TeamFilters

PER_PAGE = 50


# ---------------------------------------------------------------- lists


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    filters = TeamFilters.from_params(request.GET)
    page = Paginator(selectors.team_list(actor=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "orgs": team_policy.filter_orgs(request.user),
        "levels": TeamLevel.choices,
        "categories": TeamCategory.choices,
        "kinds": TeamKind.choices,
        "can_create": team_policy.may_create(request.user),
        "is_volunteer": volunteer_of(request.user) is not None,
    }
    if request.htmx:
        return render(request, "teams/team_list.html#results", context)
    return render(request, "teams/team_list.html", context)


@login_required
def my_teams(request: HttpRequest) -> HttpResponse:
    """A volunteer's own teams and requests, teams they may join, and requests waiting for them."""
    return render(
        request,
        "teams/my_teams.html",
        {
            "volunteer": volunteer_of(request.user),
            "memberships": selectors.my_teams(actor=request.user),
            "joinable": selectors.joinable_teams(actor=request.user)[:PER_PAGE],
            "pending": selectors.pending_requests(actor=request.user)[:PER_PAGE],
        },
    )


# ---------------------------------------------------------------- one team


def _detail_context(request: HttpRequest, team_id: int) -> dict:
    team = selectors.team_get(actor=request.user, team_id=team_id)
    access = selectors.team_access(actor=request.user, team=team)
    term = request.GET.get("q", "").strip() if access.decide else ""
    return {
        "team": team,
        "access": access,
        "roster": Paginator(selectors.team_roster(actor=request.user, team=team), PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "pending": selectors.pending_requests(actor=request.user, team=team) if access.decide else [],
        "term": term,
        "candidates": selectors.team_candidates(actor=request.user, team=team, term=term) if term else [],
        "join_form": JoinForm(),
        "reject_form": RejectForm(),
    }


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    context = _detail_context(request, pk)
    if request.htmx and request.htmx.target == "candidates":
        return render(request, "teams/team_detail.html#candidates", context)
    return render(request, "teams/team_detail.html", context)


def _members_response(request: HttpRequest, pk: int) -> HttpResponse:
    """After a roster change: the refreshed roster partial for htmx, else back to the team page."""
    if request.htmx:
        return render(request, "teams/team_detail.html#members", _detail_context(request, pk))
    return redirect("teams:team_detail", pk=pk)


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    if not team_policy.may_create(request.user):
        raise Http404
    form = TeamForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = services.TeamInput(
            org_id=d["org"].pk,
            parent_id=d["parent"].pk if d["parent"] else None,
            name=d["name"],
            level=d["level"],
            category=d["category"],
            kind=d["kind"],
            description=d["description"],
            max_members=d["max_members"],
        )
        try:
            team = services.team_create(actor=request.user, data=data)
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
            return redirect("teams:team_detail", pk=team.pk)
    return render(request, "teams/team_form.html", {"form": form, "team": None})


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(actor=request.user, team_id=pk)
    if not team_policy.may_change(request.user, team):
        raise DjangoPermissionDenied
    form = TeamEditForm(request.POST or None, actor=request.user, initial=TeamEditForm.initial_for(team))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        changes = {
            "org_id": d["org"].pk,
            "parent_id": d["parent"].pk if d["parent"] else None,
            **{k: d[k] for k in ("name", "level", "category", "kind", "description", "max_members", "is_active")},
        }
        try:
            services.team_update(actor=request.user, team_id=team.pk, **changes)
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("teams:team_detail", pk=team.pk)
    return render(request, "teams/team_form.html", {"form": form, "team": team})


@login_required
def team_leaders(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_get(actor=request.user, team_id=pk)
    if not team_policy.may_change(request.user, team):
        raise DjangoPermissionDenied
    initial = {"leader": team.leader.number if team.leader else "", "deputy": team.deputy.number if team.deputy else ""}
    form = LeadersForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_set_leaders(
                actor=request.user,
                team_id=team.pk,
                leader=form.cleaned_data["leader"] or None,
                deputy=form.cleaned_data["deputy"] or None,
            )
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Leader and deputy saved."))
            return redirect("teams:team_detail", pk=team.pk)
    roster = selectors.team_roster(actor=request.user, team=team)[:PER_PAGE]
    return render(request, "teams/team_leaders.html", {"form": form, "team": team, "roster": roster})


# ---------------------------------------------------------------- memberships


@login_required
@require_POST
def team_join(request: HttpRequest, pk: int) -> HttpResponse:
    form = JoinForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    attempt(
        request,
        lambda: services.membership_request(actor=request.user, team_id=pk, message=message),
        _("Your request has been sent to the team leader."),
    )
    return redirect("teams:team_detail", pk=pk)


@login_required
def team_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST leaves (or withdraws a request). Always allowed for one's own membership."""
    team = selectors.team_get(actor=request.user, team_id=pk)
    if request.method == "POST":
        ok = attempt(
            request,
            lambda: services.membership_leave(actor=request.user, team_id=pk),
            _("You have left “%(name)s”.") % {"name": team.name},
        )
        return redirect("teams:my_teams") if ok else redirect("teams:team_detail", pk=pk)
    access = selectors.team_access(actor=request.user, team=team)
    return render(request, "teams/team_leave.html", {"team": team, "access": access})


@login_required
@require_POST
def membership_approve(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    attempt(
        request,
        lambda: services.membership_approve(actor=request.user, team_id=pk, membership_id=membership_id),
        _("Request approved."),
    )
    return _members_response(request, pk)


@login_required
@require_POST
def membership_reject(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    attempt(
        request,
        lambda: services.membership_reject(actor=request.user, team_id=pk, membership_id=membership_id, reason=reason),
        _("Request declined."),
    )
    return _members_response(request, pk)


@login_required
@require_POST
def membership_remove(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    attempt(
        request,
        lambda: services.membership_remove(
            actor=request.user, team_id=pk, membership_id=membership_id, reason=request.POST.get("reason", "")
        ),
        _("Member removed from the team."),
    )
    return _members_response(request, pk)


@login_required
@require_POST
def members_add(request: HttpRequest, pk: int) -> HttpResponse:
    numbers = numbers_from(request.POST)
    count = len({n.upper() for n in numbers})
    attempt(
        request,
        lambda: services.membership_add(actor=request.user, team_id=pk, numbers=numbers),
        ngettext("%(count)d volunteer is in the team now.", "%(count)d volunteers are in the team now.", count)
        % {"count": count},
    )
    return _members_response(request, pk)
