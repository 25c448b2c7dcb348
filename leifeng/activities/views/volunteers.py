"""Pages for volunteers: find activities, the activity page (its post cards with sign-up and withdraw by
htmx), my shifts."""

from functools import cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.models import ActivityCategory, ActivityStatus, Signup, SignupStatus
from leifeng.activities.policy import activity_policy
from leifeng.activities.selectors import ActivityFilters
from leifeng.activities.templating import render_fragment
from leifeng.activities.views.common import PER_PAGE
from leifeng.core.pages import attempt
from leifeng.core.scope import Perm
from leifeng.teams import selectors as team_selectors

# msgids that post_cards.html formats with variables or passes to |date: makemessages reads only a template's
# plain `_("…")`, so it would drop these from the catalog
_TEMPLATE_MSGIDS = (
    gettext_noop("%(n)s waiting"),
    gettext_noop(
        "You cannot sign up for this post: it needs %(skills)s, which your profile does not list. If you "
        "have the skill, ask your station to add it to your profile."
    ),
    gettext_noop("D N j, H:i"),
)


@cache
def status_labels(language: str | None) -> dict[str, str]:
    """A sign-up status's label by its value, translated once per process and language."""
    return {value: str(label) for value, label in SignupStatus.choices}


@login_required
def find(request: HttpRequest) -> HttpResponse:
    """Volunteers: open activities they may join, by category, date and nearness."""
    filters = ActivityFilters.from_params(request.GET)
    page = Paginator(selectors.activity_find(actor=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "categories": ActivityCategory.choices,
        "volunteer": team_selectors.volunteer_of(request.user),
    }
    if request.htmx:
        return render(request, "activities/find.html#results", context)
    return render(request, "activities/find.html", context)


def _detail_context(request: HttpRequest, pk: int) -> dict:
    """The activity page: `selectors.activity_page` (who may see it: `activity_get`'s rule, else 404) and its
    post cards as HTML."""
    user = request.user
    page = selectors.activity_page(actor=user, activity_id=pk)
    a = page.activity
    view_roster = activity_policy.allows(user, Perm.VIEW, a)
    access = selectors.ActivityAccess(
        view_roster=view_roster,
        change=activity_policy.allows(user, Perm.CHANGE, a),
        volunteer=page.volunteer,
    )
    if a.status == ActivityStatus.DRAFT and not view_roster:
        raise Http404
    posts = page.posts
    now = timezone.now()
    open_ = a.status in (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS)
    for p in posts:
        p.left = max(p.quota - p.filled, 0)
        p.open = open_ and p.starts_at > now
        # {% widthratio p.filled p.quota 100 %}
        p.width = round(float(p.filled) / float(p.quota) * 100) if p.quota else 0
    # the token the post cards' forms carry serves the page's other forms too (as on the roster)
    csrf_token = get_token(request)
    cards = {
        "posts": posts,
        "access": access,
        "csrf_token": csrf_token,
        "statuses": status_labels(get_language()),
    }
    return {
        "activity": a,
        "access": access,
        "posts": posts,
        "posts_html": render_fragment("activities/post_cards.html", cards),
        "csrf_token": csrf_token,
        "supplies": [line.strip() for line in a.supplies.splitlines() if line.strip()],
        # the page shows them only for a risky activity
        "insurances": list(a.insurances.all()) if view_roster and a.risky else [],
        "report": page.has_report,
        "cancel_form": forms.ReasonForm(),
    }


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "activities/activity_detail.html", _detail_context(request, pk))


def _posts_response(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        return render(request, "activities/activity_detail.html#posts", _detail_context(request, pk))
    return redirect("activities:activity_detail", pk=pk)


@login_required
@require_POST
def signup(request: HttpRequest, post_id: int) -> HttpResponse:
    activity_id = selectors.post_visible(actor=request.user, post_id=post_id).activity_id  # out of sight: 404
    done = attempt(
        request,
        lambda: services.signup_create(actor=request.user, post=post_id),
        _("You have signed up."),
    )
    if done and isinstance(done.value, Signup) and done.value.status == SignupStatus.WAITLISTED:
        messages.info(request, _("The post is full: you are on the waitlist and move up when a place frees."))
    return _posts_response(request, activity_id)


@login_required
@require_POST
def withdraw(request: HttpRequest, signup_id: int) -> HttpResponse:
    activity_id = selectors.my_signup(actor=request.user, signup_id=signup_id).post.activity_id  # others': 404
    reason = request.POST.get("reason", "")
    attempt(
        request,
        lambda: services.signup_withdraw(actor=request.user, signup_id=signup_id, reason=reason),
        _("Your sign-up is withdrawn."),
    )
    if request.POST.get("next") == "my_shifts":
        return redirect("activities:my_shifts")
    return _posts_response(request, activity_id)


@login_required
def my_shifts(request: HttpRequest) -> HttpResponse:
    past = request.GET.get("past") == "1"
    page = Paginator(selectors.my_shifts(actor=request.user, past=past), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/my_shifts.html",
        {"page": page, "past": past, "volunteer": team_selectors.volunteer_of(request.user), "now": timezone.now()},
    )
