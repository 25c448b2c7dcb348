"""An activity's report: its summary, photos and attendance."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.models import ActivityReport
from leifeng.activities.policy import activity_policy
from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, raise_for_scope
from leifeng.core.scope import Perm


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    a = selectors.activity_get(actor=request.user, activity_id=pk)
    can_change = activity_policy.allows(request.user, Perm.CHANGE, a)
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
            raise_for_scope(exc)
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
        attempt(
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
