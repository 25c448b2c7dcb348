"""Pages of campaigns and activities: parse → authorize → one service or selector → render."""

import html
import re
from collections.abc import Callable
from functools import cache
from urllib.parse import quote, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.models import (
    Activity,
    ActivityCategory,
    ActivityReport,
    ActivityStatus,
    Post,
    Signup,
    SignupGroup,
    SignupStatus,
)
from leifeng.activities.selectors import ActivityFilters
from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied, ServiceError, field_errors
from leifeng.core.forms import apply_errors
from leifeng.core.scope import Perm
from leifeng.teams import selectors as team_selectors
from leifeng.teams.models import MembershipStatus, Team

PER_PAGE = 50


def _raise_for_scope(exc: Exception) -> None:
    if isinstance(exc, NotFound):
        raise Http404 from exc
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message) from exc


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ServiceError):
        return exc.message
    return " ".join(m for ms in field_errors(exc).values() for m in ms)  # type: ignore[arg-type]


def _attempt(request: HttpRequest, call: Callable[[], object], success: str) -> object | None:
    try:
        result = call()
    except (ServiceError, ValidationError) as exc:
        _raise_for_scope(exc)
        messages.error(request, _message_of(exc))
        return None
    messages.success(request, success)
    return result


def _organizer_activity(request: HttpRequest, pk: int, *, change: bool = False):
    """The activity for its organizers (Perm.VIEW at its node): read by key and checked in Python, the same
    404 as `selectors.activity_get` gives them (they see everything VIEW covers) without its volunteer
    subqueries, which cost more than the roster itself."""
    a = Activity.objects.select_related("org", "campaign", "lead_unit").filter(pk=pk).first()
    if a is None or not scope.allows(request.user, Perm.VIEW, a.org):
        raise Http404
    if change and not scope.allows(request.user, Perm.CHANGE, a.org):
        raise DjangoPermissionDenied
    return a


# ---------------------------------------------------------------- volunteers


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


@cache
def _detail_words(language: str | None) -> dict[str, str]:
    """The post cards' fixed words, translated once per process and language (as `_roster_words`). Not
    escaped: the template's {% translate "…" %} of a literal wrote them as they are."""
    return {
        "required_skills": _("Required skills:"),
        "places_left": _("places left"),
        "waiting": _("%(n)s waiting"),
        "withdraw": _("Withdraw"),
        "needs_skills": _(
            "You cannot sign up for this post: it needs %(skills)s, which your profile does not list. If you "
            "have the skill, ask your station to add it to your profile."
        ),
        "my_profile": _("My profile"),
        "sign_up": _("Sign up"),
        "join_waitlist": _("Join the waitlist"),
        "assign": _("Assign team members"),
        "no_posts": _("No posts yet."),
        # dateformat's 'D', by weekday()
        "weekdays": tuple(html.escape(str(WEEKDAYS_ABBR[day])) for day in range(7)),
    }


@cache
def _plain_url(name: str, prefix: str, urlconf) -> str:
    """A URL without arguments, reversed and escaped once per process, script prefix and URLconf."""
    return html.escape(reverse(name, urlconf=urlconf))


def _posts_html(posts: list, *, access, csrf_token: str) -> str:
    """The post cards of the activity page, built in Python as the roster's are: with the template's {% url %},
    {% translate %}, |date and {% if %} trees, each card cost ~1 ms, most of the page (the same HTML)."""
    words = _detail_words(get_language())
    if not posts:
        return mark_safe(f'<p class="muted">{words["no_posts"]}</p>')
    escape = _escape
    weekdays = words["weekdays"]
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
    volunteer, view_roster = access.volunteer, access.view_roster
    withdraw_head, withdraw_tail = (escape(part) for part in _post_url("activities:withdraw"))
    signup_head, signup_tail = (escape(part) for part in _post_url("activities:signup"))
    assign_head, assign_tail = (escape(part) for part in _post_url("activities:assign"))
    statuses = _status_labels(get_language())
    localtime = timezone.localtime
    out: list[str] = []
    for p in posts:
        pk = p.pk
        starts, ends = localtime(p.starts_at), localtime(p.ends_at)
        # |date:"n月j日 D H:i" and |date:"H:i" without a formatter object per date
        when = (
            f"{starts.month}月{starts.day}日 {weekdays[starts.weekday()]} {starts.hour:02d}:{starts.minute:02d}"
            f"–{ends.hour:02d}:{ends.minute:02d}"
        )
        description = f'<p class="muted">{escape(p.description)}</p>' if p.description else ""
        if p.skill_names:
            badges = " ".join(f'<span class="badge">{escape(name)}</span>' for name in p.skill_names)
            skills = f'<p class="muted">{words["required_skills"]} {badges}</p>'
        else:
            skills = ""
        try:  # {% widthratio p.filled p.quota 100 %}
            width = str(round((float(p.filled) / float(p.quota)) * 100))
        except ZeroDivisionError:
            width = "0"
        waiting = f" · {words['waiting'] % {'n': p.waitlisted}}" if p.waitlisted else ""
        mine = p.mine
        if mine is not None:
            status = mine.status
            url = f"{withdraw_head}{mine.pk}{withdraw_tail}"
            action = (
                f'\n    <p><span class="badge {escape(status)}">{statuses.get(status, status)}</span></p>\n'
                f'    <form method="post" action="{url}" hx-post="{url}" hx-target="#posts" hx-swap="outerHTML">'
                f'{csrf}\n      <button class="btn small secondary" type="submit">{words["withdraw"]}</button>'
                "</form>\n  "
            )
        elif p.open and volunteer and p.missing_skills:
            # what the sign-up service would refuse for: said up front, instead of a button that can only fail
            missing = words["needs_skills"] % {"skills": "、".join(escape(name) for name in p.missing_skills)}
            profile = _plain_url("people:my_profile", get_script_prefix(), get_urlconf())
            action = f'\n    <p class="msg warning">{missing} <a href="{profile}">{words["my_profile"]}</a></p>\n  '
        elif p.open and volunteer:
            url = f"{signup_head}{pk}{signup_tail}"
            label = words["sign_up"] if p.left else words["join_waitlist"]
            action = (
                f'\n    <form method="post" action="{url}" hx-post="{url}" hx-target="#posts" hx-swap="outerHTML">'
                f'{csrf}\n      <button class="btn" type="submit">{label}</button></form>\n  '
            )
        else:
            action = ""
        if view_roster and p.open:
            assign = f'<p><a href="{assign_head}{pk}{assign_tail}">{words["assign"]}</a></p>'
        else:
            assign = ""
        out.append(
            f'\n<div class="card post">\n  <h3>{escape(p.title)}</h3>\n  <p>{when}</p>\n  {description}\n  {skills}\n'
            f'  <div class="meter"><span style="width:{width}%"></span></div>\n'
            f'  <p><span class="left">{p.left}</span> {words["places_left"]} <span class="muted">/ {p.quota}{waiting}'
            f"</span></p>\n  {action}\n  {assign}\n</div>\n"
        )
    return mark_safe("".join(out))  # every value above is escaped


def _detail_context(request: HttpRequest, pk: int) -> dict:
    """The activity page: `selectors.activity_page` (who may see it: `activity_get`'s rule, else 404) and its
    post cards as HTML."""
    user = request.user
    page = selectors.activity_page(actor=user, activity_id=pk)
    a = page.activity
    view_roster = scope.allows(user, Perm.VIEW, a.org)
    access = selectors.ActivityAccess(
        view_roster=view_roster,
        change=scope.allows(user, Perm.CHANGE, a.org),
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
    # the token the post cards' forms carry serves the page's other forms too (as on the roster)
    csrf_token = get_token(request)
    return {
        "activity": a,
        "access": access,
        "posts": posts,
        "posts_html": _posts_html(posts, access=access, csrf_token=csrf_token),
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
    s = _attempt(
        request,
        lambda: services.signup_create(actor=request.user, post=post_id),
        _("You have signed up."),
    )
    if isinstance(s, Signup) and s.status == SignupStatus.WAITLISTED:
        messages.info(request, _("The post is full: you are on the waitlist and move up when a place frees."))
    return _posts_response(request, activity_id)


@login_required
@require_POST
def withdraw(request: HttpRequest, signup_id: int) -> HttpResponse:
    activity_id = selectors.my_signup(actor=request.user, signup_id=signup_id).post.activity_id  # others': 404
    reason = request.POST.get("reason", "")
    _attempt(
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


# ---------------------------------------------------------------- organizers: activities


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    if not scope.has_any(request.user, Perm.VIEW):
        return redirect("activities:find")
    filters = ActivityFilters.from_params(request.GET)
    page = Paginator(selectors.activity_list(actor=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "categories": ActivityCategory.choices,
        "statuses": ActivityStatus.choices,
        "can_create": scope.has_any(request.user, Perm.CHANGE),
    }
    if request.htmx:
        return render(request, "activities/activity_list.html#results", context)
    return render(request, "activities/activity_list.html", context)


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    if not scope.has_any(request.user, Perm.CHANGE):
        raise Http404
    initial = {"campaign": request.GET.get("campaign")} if request.GET.get("campaign") else None
    form = forms.ActivityForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            a = services.activity_create(
                actor=request.user,
                org_id=form.cleaned_data["org"].pk,
                team_ids=[t.pk for t in form.cleaned_data["teams"]],
                **form.service_fields(),
            )
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Now add its posts."))
            return redirect("activities:activity_edit", pk=a.pk)
    return render(request, "activities/activity_form.html", {"form": form, "activity": None})


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    a = _organizer_activity(request, pk, change=True)
    form = forms.ActivityForm(request.POST or None, actor=request.user, initial=forms.ActivityForm.initial_for(a))
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                actor=request.user,
                activity_id=a.pk,
                org_id=form.cleaned_data["org"].pk,
                team_ids=[t.pk for t in form.cleaned_data["teams"]],
                **form.service_fields(),
            )
        except (ServiceError, ValidationError) as exc:
            _raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:activity_edit", pk=a.pk)
    return render(
        request,
        "activities/activity_form.html",
        {
            "form": form,
            "activity": a,
            "posts": selectors.activity_posts(activity=a),
            "post_form": forms.PostForm(),
            "insurance_form": forms.InsuranceForm(),
            "insurances": list(a.insurances.all()),
        },
    )


@login_required
@require_POST
def post_add(request: HttpRequest, pk: int) -> HttpResponse:
    a = _organizer_activity(request, pk, change=True)
    form = forms.PostForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        _attempt(
            request,
            lambda: services.post_create(actor=request.user, activity_id=a.pk, **form.service_fields()),
            _("Post added."),
        )
    return redirect("activities:activity_edit", pk=a.pk)


@login_required
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    post = Post.objects.select_related("activity").filter(pk=post_id).first()
    if post is None:
        raise Http404
    a = _organizer_activity(request, post.activity_id, change=True)
    form = forms.PostForm(request.POST or None, initial=forms.PostForm.initial_for(post))
    if request.method == "POST" and form.is_valid():
        try:
            services.post_update(actor=request.user, post_id=post.pk, **form.service_fields())
        except (ServiceError, ValidationError) as exc:
            _raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:activity_edit", pk=a.pk)
    return render(request, "activities/post_form.html", {"form": form, "activity": a, "post": post})


@login_required
@require_POST
def post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    activity_id = selectors.post_for_organizer(actor=request.user, post_id=post_id).activity_id
    _attempt(request, lambda: services.post_delete(actor=request.user, post_id=post_id), _("Post deleted."))
    return redirect("activities:activity_edit", pk=activity_id)


@login_required
@require_POST
def insurance_add(request: HttpRequest, pk: int) -> HttpResponse:
    a = _organizer_activity(request, pk, change=True)
    form = forms.InsuranceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        _attempt(
            request,
            lambda: services.activity_add_insurance(actor=request.user, activity_id=a.pk, **form.cleaned_data),
            _("Insurance recorded."),
        )
    return redirect("activities:activity_edit", pk=a.pk)


TRANSITIONS = {
    "publish": (services.activity_publish, gettext_lazy("Published: volunteers can sign up now.")),
    "start": (services.activity_start, gettext_lazy("The activity is under way.")),
    "finish": (services.activity_finish, gettext_lazy("The activity is finished: file its report.")),
    "unpublish": (services.activity_unpublish, gettext_lazy("Back to draft.")),
}


@login_required
@require_POST
def activity_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _organizer_activity(request, pk)
    if action == "cancel":
        reason = request.POST.get("reason", "")
        _attempt(
            request,
            lambda: services.activity_cancel(actor=request.user, activity_id=pk, reason=reason),
            _("The activity is cancelled and every sign-up withdrawn."),
        )
        return redirect("activities:activity_detail", pk=pk)
    if action not in TRANSITIONS:
        raise Http404
    fn, done = TRANSITIONS[action]
    _attempt(request, lambda: fn(actor=request.user, activity_id=pk), str(done))
    return redirect("activities:activity_detail", pk=pk)


# ---------------------------------------------------------------- roster, groups, assign

_HTML_SPECIAL = re.compile("[&<>\"']")


def _escape(text: str) -> str:
    """`html.escape`, exactly, at a third of its cost on what a roster holds: names, numbers and phones are
    alphanumeric (Chinese characters too) or at least free of the five characters, and come back as they are
    — no five `str.replace` passes over each of some 600 values a page."""
    if text.isalnum() or _HTML_SPECIAL.search(text) is None:
        return text
    return html.escape(text)


_URL_SENTINEL = 2_147_483_647  # a post pk reversed once; no URL of the roster has these digits otherwise


@cache
def _post_url_parts(name: str, prefix: str, urlconf) -> tuple[str, str]:
    head, _sentinel, tail = reverse(name, args=[_URL_SENTINEL], urlconf=urlconf).rpartition(str(_URL_SENTINEL))
    return head, tail


def _post_url(name: str) -> tuple[str, str]:
    """A post's URL as (before the pk, after it), reversed once per process, script prefix and URLconf:
    `reverse` three times a post was a tenth of the roster's own CPU (issue #4). An int pk converts to its
    digits, so f"{head}{pk}{tail}" is what `reverse(name, args=[pk])` gives."""
    return _post_url_parts(name, get_script_prefix(), get_urlconf())


@cache
def _roster_words(language: str | None) -> dict[str, str]:
    """The roster's fixed words, translated and escaped once per process and language (their catalogs do not
    change while it runs) instead of some hundred gettext calls a page. `_()` only outside f-strings:
    xgettext does not look inside them, makemessages would drop the msgids."""
    words = {
        "leader": _("leader"),
        "consent": _("minor, consent on file"),
        "assigned": _("assigned"),
        "manage": _("Manage"),
        "no_group": _("Not in a group"),
        "roll_call": _("Roll call"),
        "regroup": _("Regroup newcomers"),
        "assign": _("Assign team members"),
        "nobody_matches": _("Nobody matches."),
        "nobody": _("Nobody has signed up yet."),
        "removed": _("removed"),
        "withdrew": _("withdrew"),
        "pages": _("Pages"),
        "previous": _("Previous"),
        "next": _("Next"),
        "whole_waitlist": _("The whole waitlist"),
        "all_of_them": _("All of them"),
        "confirmed": _("Confirmed"),
        "waitlist": _("Waitlist"),
        "left": _("Left"),
        "no_posts": _("No posts yet."),
    }
    words = {key: html.escape(text) for key, text in words.items()}
    # formats, filled in per post and escaped then
    words["group_n"] = _("Group %(n)s")
    words["make_groups"] = _("Make groups of %(n)s")
    words["counts"] = _("%(c)s confirmed · %(w)s waitlisted · %(e)s left")
    words["show_all"] = _("Show all %(n)s")
    words["page_of"] = _("Page %(n)s of %(total)s")
    return words


@cache
def _status_labels(language: str | None) -> dict[str, str]:
    """A sign-up status's label, translated and escaped, by its value (as `_roster_words`)."""
    return {value: html.escape(str(label)) for value, label in SignupStatus.choices}


def _roster_rows(rows: list[dict], *, can_change: bool, words: dict[str, str] | None = None) -> str:
    """The people of a roster list as <li>s, group headers included. Built in Python, not with an {% include %}
    per person: a roster of hundreds rendered by the template engine cost ~0.4 ms a person."""
    language = get_language()
    if words is None:
        words = _roster_words(language)
    statuses = _status_labels(language)
    escape = _escape
    confirmed, waitlisted = SignupStatus.CONFIRMED.value, SignupStatus.WAITLISTED.value
    word_leader = words["leader"]
    badge_leader = f' <small class="badge leader">{word_leader}</small>'
    consent = f' <small class="muted">{words["consent"]}</small>'
    assigned = f' <small class="muted">{words["assigned"]}</small>'
    word_manage = words["manage"]
    out: list[str] = []
    for s in rows:
        status = s["status"]
        if s["group_head"] and status == confirmed:
            g = s["group"]
            if g is not None:
                leader = escape(g.leader.name) if g.leader_id else "—"
                title = escape(words["group_n"] % {"n": g.number})
                out.append(
                    f'<li class="group-head"><strong>{title}</strong> · {word_leader} {leader} '
                    f'<small class="muted">({g.size})</small></li>'
                )
            else:
                out.append(f'<li class="group-head"><strong>{words["no_group"]}</strong></li>')
        phone = escape(s["volunteer__phone"])
        note = s["note"]
        note = f' <small class="muted">{escape(note)}</small>' if note else ""
        if can_change and status in (confirmed, waitlisted):
            pk = s["pk"]
            manage = (
                f' <a class="linklike manage" href="?manage={pk}" hx-get="?manage={pk}" hx-target="#m{pk}"'
                f' hx-swap="innerHTML">{word_manage}</a><div id="m{pk}"></div>'
            )
        else:
            manage = ""
        out.append(
            f'<li class="person"><span class="who">{escape(s["volunteer__name"])}'
            f"{badge_leader if s['is_leader'] else ''}{consent if s['guardian_consent'] else ''}"
            f'</span> <small class="muted">{escape(s["volunteer__number"])}</small> <a href="tel:{phone}">{phone}</a>'
            f' <span class="badge {status}">{statuses.get(status, status)}</span>'
            f"{assigned if s['assigned_by_id'] else ''}{note}{manage}</li>"
        )
    return mark_safe("\n".join(out))  # every value above is escaped


def _roster_sections(
    request: HttpRequest,
    view,
    activity,
    *,
    q: str,
    can_change: bool,
    words: dict[str, str] | None = None,
    csrf_token: str | None = None,
) -> str:
    """Every post's card of the roster, built in Python like its rows: with the template's {% url %},
    {% blocktranslate %} and filters per post, the cards cost more than the people in them (~1 ms a post)."""
    if words is None:
        words = _roster_words(get_language())
    escape = _escape
    on_post_page = view.post is not None
    query = f"&amp;q={escape(quote(q, safe='/'))}" if q else ""
    if can_change:
        csrf = escape(get_token(request) if csrf_token is None else csrf_token)
    nobody = words["nobody_matches"] if q else words["nobody"]
    roll_call_head, roll_call_tail = _post_url("attendance:roll_call")
    roll_call = f'    <a class="btn small secondary" href="{roll_call_head}'
    roll_call_end = f'{roll_call_tail}">{words["roll_call"]}</a>\n'
    if can_change:
        build_head, build_tail = _post_url("activities:groups_build")
        assign_head, assign_tail = _post_url("activities:assign")
        make_groups = escape(words["make_groups"] % {"n": activity.group_size})
    localtime = timezone.localtime
    out: list[str] = []
    for entry in view.sections:
        p = entry.post
        pk = p.pk
        title = escape(p.title)
        starts, ends = localtime(p.starts_at), localtime(p.ends_at)
        # dateformat's 'n月j日 H:i'–'H:i', without its formatter object per date
        when = f"{starts.month}月{starts.day}日 {starts.hour:02d}:{starts.minute:02d}–{ends.hour:02d}:{ends.minute:02d}"
        counts = escape(words["counts"] % {"c": p.n_confirmed, "w": p.n_waitlisted, "e": p.n_ended})
        heading = title if on_post_page else f'<a href="?post={pk}">{title}</a>'
        html_ = [
            f'<section class="card roster-post">\n  <h2>{heading} <small class="muted">{when} · {p.filled} / '
            f'{p.quota}</small></h2>\n  <p class="muted counts">{counts}</p>\n  <div class="actions">\n'
            f"{roll_call}{pk}{roll_call_end}"
        ]
        if can_change:
            build = f"{build_head}{pk}{build_tail}"
            grouped = p.n_confirmed and entry.people and entry.people[0]["group_id"]
            label = words["regroup"] if grouped else make_groups
            html_.append(
                f'    <form method="post" action="{build}" hx-post="{build}" hx-target="#roster" hx-swap="outerHTML">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">\n'
                f'      <button class="btn small" type="submit">{label}</button></form>\n'
                f'    <a class="btn small secondary" href="{assign_head}{pk}{assign_tail}">'
                f"{words['assign']}</a>\n"
            )
        html_.append("  </div>\n")
        if on_post_page:
            tabs = (
                ("confirmed", words["confirmed"], p.n_confirmed),
                ("waitlisted", words["waitlist"], p.n_waitlisted),
                ("ended", words["left"], p.n_ended),
            )
            html_.append('  <nav class="tabs">\n')
            for tab, label, n in tabs:
                current = ' class="current"' if view.tab == tab else ""
                html_.append(f'    <a href="?post={pk}&amp;tab={tab}{query}"{current}>{label} {n}</a>\n')
            html_.append("  </nav>\n")
        people = entry.people_html if entry.people else f'<li class="muted">{nobody}</li>'
        html_.append(f'  <ul class="roster">{people}</ul>\n')
        if on_post_page:
            page = view.page
            if page.has_other_pages():
                base = f"?post={pk}&amp;tab={view.tab}{query}&amp;page="
                html_.append(f'  <nav class="pager" aria-label="{words["pages"]}">\n')
                if page.has_previous():
                    html_.append(
                        f'    <a class="btn small secondary" href="{base}{page.previous_page_number()}">'
                        f"{words['previous']}</a>\n"
                    )
                where = words["page_of"] % {"n": page.number, "total": page.paginator.num_pages}
                html_.append(f"    <span>{escape(where)}</span>\n")
                if page.has_next():
                    html_.append(
                        f'    <a class="btn small secondary" href="{base}{page.next_page_number()}">'
                        f"{words['next']}</a>\n"
                    )
                html_.append("  </nav>\n")
        else:
            if p.n_confirmed > selectors.ROSTER_OVERVIEW and not q:
                show_all = escape(words["show_all"] % {"n": p.n_confirmed})
                html_.append(f'  <p><a class="btn small secondary" href="?post={pk}">{show_all}</a></p>\n')
            if entry.waitlisted:
                n = p.n_waitlisted
                summary = escape(ngettext("%(n)s on the waitlist", "%(n)s on the waitlist", n) % {"n": n})
                html_.append(
                    f'  <details><summary>{summary}</summary>\n  <ul class="roster">{entry.waitlisted_html}</ul>\n'
                )
                if n > len(entry.waitlisted):
                    html_.append(f'  <a href="?post={pk}&amp;tab=waitlisted">{words["whole_waitlist"]}</a>')
                html_.append("</details>\n")
            if entry.ended:
                n = p.n_ended
                summary = escape(ngettext("%(n)s withdrawn or removed", "%(n)s withdrawn or removed", n) % {"n": n})
                html_.append(f'  <details><summary class="muted">{summary}</summary>\n  <ul>')
                for s in entry.ended:
                    how = words["removed"] if s["status"] == SignupStatus.REMOVED else words["withdrew"]
                    note = f" · {escape(s['note'])}" if s["note"] else ""
                    html_.append(f"<li>{escape(s['volunteer__name'])} · {how}{note}</li>")
                html_.append("</ul>\n")
                if n > len(entry.ended):
                    html_.append(f'  <a href="?post={pk}&amp;tab=ended">{words["all_of_them"]}</a>')
                html_.append("</details>\n")
        html_.append("</section>\n")
        out.append("".join(html_))
    if not out:
        return mark_safe(f'<p class="muted">{words["no_posts"]}</p>')
    return mark_safe("".join(out))  # every value above is escaped


def _roster_context(request: HttpRequest, pk: int, params=None) -> dict:
    """The overview (every post, the first people of each, group by group) or one post's page (?post=…),
    searchable (?q=…), one status a tab (?tab=waitlisted|ended), paginated (?page=…)."""
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
    can_change = scope.allows(request.user, Perm.CHANGE, a.org)
    words = _roster_words(get_language())
    for entry in view.sections:
        entry.people_html = _roster_rows(entry.people, can_change=can_change, words=words)
        entry.waitlisted_html = _roster_rows(entry.waitlisted, can_change=can_change, words=words)
    ctx = {"activity": a, "roster": view, "q": q, "can_change": can_change}
    csrf_token = None
    if can_change:
        # the token the cards' forms carry serves the page frame too (the csrf context processor would mask
        # the secret a second time, a random string each time); a view's context wins over the processors'
        csrf_token = ctx["csrf_token"] = get_token(request)
    ctx["sections_html"] = _roster_sections(
        request, view, a, q=q, can_change=can_change, words=words, csrf_token=csrf_token
    )
    return ctx


@login_required
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """Every post with its groups, its waitlist and those who left, capped per post: constant queries.
    ?manage=<sign-up> answers the small panel of one person (move, make leader, remove), loaded on demand."""
    manage = request.GET.get("manage", "")
    if manage.isdigit():
        a = _organizer_activity(request, pk)
        s, groups = selectors.roster_signup(actor=request.user, activity=a, signup_id=int(manage))
        ctx = {
            "activity": a,
            "s": s,
            "groups": groups,
            "can_change": scope.allows(request.user, Perm.CHANGE, a.org),
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
    _attempt(request, lambda: services.groups_build(actor=request.user, post_id=post_id), _("Groups updated."))
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
    _attempt(request, lambda: call(target), success)
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
            _raise_for_scope(exc)
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


# ---------------------------------------------------------------- reports


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.activity_get(actor=request.user, activity_id=pk)
    can_change = scope.allows(request.user, Perm.CHANGE, a.org)
    existing = ActivityReport.objects.filter(activity=a).prefetch_related("photos").first()
    if existing is None and not can_change:
        raise Http404
    form = forms.ReportForm(request.POST or None, initial={"summary": existing.summary if existing else ""})
    if request.method == "POST" and form.is_valid():
        if not can_change:
            raise DjangoPermissionDenied
        try:
            services.report_file(actor=request.user, activity_id=a.pk, summary=form.cleaned_data["summary"])
        except (ServiceError, ValidationError) as exc:
            _raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Report saved."))
            return redirect("activities:report", pk=a.pk)
    return render(
        request,
        "activities/report.html",
        {
            "activity": a,
            "report": existing,
            "form": form,
            "photo_form": forms.PhotoForm(),
            "can_change": can_change,
            "attendance": selectors.activity_attendance(activity=a),
        },
    )


@login_required
@require_POST
def report_photo(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        _attempt(
            request,
            lambda: services.report_add_photo(
                actor=request.user,
                activity_id=pk,
                upload=form.cleaned_data["image"],
                caption=form.cleaned_data["caption"],
            ),
            _("Photo added."),
        )
    return redirect("activities:report", pk=pk)


# ---------------------------------------------------------------- campaigns


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    year_raw = request.GET.get("year", "").strip()
    year = int(year_raw) if year_raw.isdigit() else None
    page = Paginator(selectors.campaign_list(actor=request.user, q=q, year=year), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "activities/campaign_list.html",
        {"page": page, "q": q, "year": year, "can_create": scope.has_any(request.user, Perm.CHANGE)},
    )


def _timeline(campaign, phases) -> list[dict]:
    """Phases as bars on the campaign's period: offset and width in per cent, today's marker."""
    total = (campaign.ends_on - campaign.starts_on).days + 1
    out = []
    for p in phases:
        left = (p.starts_on - campaign.starts_on).days * 100 / total
        width = ((p.ends_on - p.starts_on).days + 1) * 100 / total
        out.append({"phase": p, "left": round(left, 2), "width": round(max(width, 2), 2)})
    return out


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    c = selectors.campaign_get(actor=request.user, campaign_id=pk)
    phases = list(c.phases.all())
    today = timezone.localdate()
    total = (c.ends_on - c.starts_on).days + 1
    today_at = (today - c.starts_on).days * 100 / total if c.starts_on <= today <= c.ends_on else None
    return render(
        request,
        "activities/campaign_detail.html",
        {
            "campaign": c,
            "phases": phases,
            "timeline": _timeline(c, phases),
            "today": today,
            "today_at": round(today_at, 2) if today_at is not None else None,
            "figures": selectors.campaign_figures(campaign=c),
            "activities": selectors.campaign_activities(actor=request.user, campaign=c)[:200],
            "reports": selectors.campaign_reports(actor=request.user, campaign=c),
            "units": list(c.units.all()),
            "can_change": scope.allows(request.user, Perm.CHANGE, c.org),
            "copy_form": forms.CopyForm(initial={"year": c.starts_on.year + 1, "with_activities": True}),
        },
    )


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    if not scope.has_any(request.user, Perm.CHANGE):
        raise Http404
    form = forms.CampaignForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = services.CampaignInput(
            org_id=d["org"].pk,
            title=d["title"],
            starts_on=d["starts_on"],
            ends_on=d["ends_on"],
            theme=d["theme"],
            guidance=d["guidance"],
            requirements=d["requirements"],
            leading_group_id=d["leading_group"].pk if d["leading_group"] else None,
            unit_ids=[u.pk for u in d["units"]],
        )
        try:
            c = services.campaign_create(actor=request.user, data=data)
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Campaign created with the three usual phases; adjust them if needed."))
            return redirect("activities:campaign_detail", pk=c.pk)
    return render(request, "activities/campaign_form.html", {"form": form, "campaign": None})


def _campaign_for_change(request: HttpRequest, pk: int):
    c = selectors.campaign_get(actor=request.user, campaign_id=pk)
    if not scope.allows(request.user, Perm.VIEW, c.org):
        raise Http404
    if not scope.allows(request.user, Perm.CHANGE, c.org):
        raise DjangoPermissionDenied
    return c


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    c = _campaign_for_change(request, pk)
    form = forms.CampaignForm(request.POST or None, actor=request.user, initial=forms.CampaignForm.initial_for(c))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.campaign_update(
                actor=request.user,
                campaign_id=c.pk,
                unit_ids=[u.pk for u in d["units"]],
                org_id=d["org"].pk,
                leading_group_id=d["leading_group"].pk if d["leading_group"] else None,
                **{k: d[k] for k in ("title", "theme", "starts_on", "ends_on", "guidance", "requirements")},
            )
        except (ServiceError, ValidationError) as exc:
            _raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:campaign_detail", pk=c.pk)
    return render(request, "activities/campaign_form.html", {"form": form, "campaign": c})


@login_required
def campaign_phases(request: HttpRequest, pk: int) -> HttpResponse:
    c = _campaign_for_change(request, pk)
    initial = [
        {"name": p.name, "starts_on": p.starts_on, "ends_on": p.ends_on, "description": p.description}
        for p in c.phases.all()
    ]
    formset = forms.PhaseFormSet(request.POST or None, initial=initial, prefix="phases")
    if request.method == "POST" and formset.is_valid():
        phases = [
            services.PhaseInput(f["name"], f["starts_on"], f["ends_on"], f.get("description") or "")
            for f in formset.cleaned_data
            if f and not f.get("DELETE")
        ]
        try:
            services.campaign_set_phases(actor=request.user, campaign_id=c.pk, phases=phases)
        except (ServiceError, ValidationError) as exc:
            _raise_for_scope(exc)
            for message in [_message_of(exc)]:
                formset._non_form_errors = formset.error_class([message])
        else:
            messages.success(request, _("Phases saved."))
            return redirect("activities:campaign_detail", pk=c.pk)
    return render(request, "activities/campaign_phases.html", {"formset": formset, "campaign": c})


@login_required
@require_POST
def campaign_copy(request: HttpRequest, pk: int) -> HttpResponse:
    c = _campaign_for_change(request, pk)
    form = forms.CopyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect("activities:campaign_detail", pk=c.pk)
    new = _attempt(
        request,
        lambda: services.campaign_copy(
            actor=request.user,
            campaign_id=c.pk,
            year=form.cleaned_data["year"],
            with_activities=form.cleaned_data["with_activities"],
        ),
        _("Campaign copied. Its activities are drafts: check the dates and publish them."),
    )
    return redirect("activities:campaign_detail", pk=new.pk if new else c.pk)
