"""Campaigns: the list, a campaign's page with its timeline and figures, creating, editing, phases, copying."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.activities import forms, selectors, services
from leifeng.activities.policy import campaign_policy
from leifeng.activities.views.common import PER_PAGE
from leifeng.core import scope
from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.pages import attempt, message_of, raise_for_scope
from leifeng.core.scope import Perm


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
            "can_change": campaign_policy.allows(request.user, Perm.CHANGE, c),
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
    if not campaign_policy.allows(request.user, Perm.VIEW, c):
        raise Http404
    if not campaign_policy.allows(request.user, Perm.CHANGE, c):
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
            raise_for_scope(exc)
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
            raise_for_scope(exc)
            for message in [message_of(exc)]:
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
    new = attempt(
        request,
        lambda: services.campaign_copy(
            actor=request.user,
            campaign_id=c.pk,
            year=form.cleaned_data["year"],
            with_activities=form.cleaned_data["with_activities"],
        ),
        _("Campaign copied. Its activities are drafts: check the dates and publish them."),
    )
    return redirect("activities:campaign_detail", pk=new.value.pk if new else c.pk)
