"""Pages for organizers: the activity list, creating and editing an activity with its posts and insurance,
its status transitions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.models import ActivityCategory, ActivityStatus, Post
from leifeng.activities.selectors import ActivityFilters
from leifeng.activities.views.common import PER_PAGE, organizer_activity
from leifeng.core import scope
from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.core.scope import Perm


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
    a = organizer_activity(request, pk, change=True)
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
            raise_for_scope(exc)
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
    a = organizer_activity(request, pk, change=True)
    form = forms.PostForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        attempt(
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
    a = organizer_activity(request, post.activity_id, change=True)
    form = forms.PostForm(request.POST or None, initial=forms.PostForm.initial_for(post))
    if request.method == "POST" and form.is_valid():
        try:
            services.post_update(actor=request.user, post_id=post.pk, **form.service_fields())
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:activity_edit", pk=a.pk)
    return render(request, "activities/post_form.html", {"form": form, "activity": a, "post": post})


@login_required
@require_POST
def post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    activity_id = selectors.post_for_organizer(actor=request.user, post_id=post_id).activity_id
    attempt(request, lambda: services.post_delete(actor=request.user, post_id=post_id), _("Post deleted."))
    return redirect("activities:activity_edit", pk=activity_id)


@login_required
@require_POST
def insurance_add(request: HttpRequest, pk: int) -> HttpResponse:
    a = organizer_activity(request, pk, change=True)
    form = forms.InsuranceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
    else:
        attempt(
            request,
            lambda: services.activity_add_insurance(actor=request.user, activity_id=a.pk, **form.cleaned_data),
            _("Insurance recorded."),
        )
    return redirect("activities:activity_edit", pk=a.pk)


STATUS_ACTIONS = {  # the buttons of the activity page: each calls the service that moves the status
    "publish": (services.activity_publish, gettext_lazy("Published: volunteers can sign up now.")),
    "start": (services.activity_start, gettext_lazy("The activity is under way.")),
    "finish": (services.activity_finish, gettext_lazy("The activity is finished: file its report.")),
    "unpublish": (services.activity_unpublish, gettext_lazy("Back to draft.")),
}


@login_required
@require_POST
def activity_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    organizer_activity(request, pk)
    if action == "cancel":
        reason = request.POST.get("reason", "")
        attempt(
            request,
            lambda: services.activity_cancel(actor=request.user, activity_id=pk, reason=reason),
            _("The activity is cancelled and every sign-up withdrawn."),
        )
        return redirect("activities:activity_detail", pk=pk)
    if action not in STATUS_ACTIONS:
        raise Http404
    fn, done = STATUS_ACTIONS[action]
    attempt(request, lambda: fn(actor=request.user, activity_id=pk), str(done))
    return redirect("activities:activity_detail", pk=pk)
