"""Volunteer pages: parse → authorize → one service or selector → render (an htmx partial when request.htmx)."""

import io

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leifeng.core import errors
from leifeng.core.forms import apply_errors
from leifeng.core.idnumbers import Gender
from leifeng.core.pages import raise_for_scope
from leifeng.core.scope import Perm
from leifeng.people import selectors, services
from leifeng.people.forms import EditForm, FilterForm, RegisterForm, RejectForm, StaffVolunteerForm, SuspendForm
from leifeng.people.models import PoliticalStatus, RegistrationChannel, VolunteerStatus
from leifeng.people.policy import volunteer_policy

LOGIN_BACKEND = "leifeng.accounts.backends.PhoneOrUsernameBackend"
DETAIL = "people/volunteer_detail.html"


def _skill_names() -> list[str]:
    return list(selectors.skill_list().values_list("name", flat=True))


# --- self-service -----------------------------------------------------------------------------


def register(request):
    """Anonymous self-registration on a phone; the new account is logged in and sent to its profile."""
    if request.user.is_authenticated:
        return redirect("people:my_profile")
    kwargs = {"stations": selectors.station_choices(), "skill_names": _skill_names()}
    if request.method == "POST":
        form = RegisterForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                volunteer = services.volunteer_register(
                    actor=request.user,
                    data=form.to_input(),
                    channel=RegistrationChannel.SELF,
                    password=form.cleaned_data["password"],
                )
            except (ValidationError, errors.ServiceError) as exc:
                apply_errors(form, exc)
            else:
                login(request, volunteer.user, backend=LOGIN_BACKEND)
                messages.success(
                    request,
                    _("Thank you! Your volunteer number is %(number)s. Your station will review the registration.")
                    % {"number": volunteer.number},
                )
                return redirect("people:my_profile")
    else:
        org = request.GET.get("org", "")
        form = RegisterForm(initial={"org_id": int(org)} if org.isdigit() else None, **kwargs)
    return render(request, "people/register.html", {"form": form})


def register_qr(request, org_id: int):
    """A QR code of the station's self-registration link, to print on posters and desk cards.

    Public like the registration page itself, which lists every station anyway.
    """
    org = selectors.registration_station(org_id=org_id)
    url = request.build_absolute_uri(reverse("people:register") + f"?org={org.pk}")
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2, title=org.name)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="register-{org.pk}.svg"'
    return response


@login_required
def my_profile(request):
    volunteer = selectors.volunteer_for_user(user=request.user)
    ctx = {"v": volunteer}
    if volunteer is not None:
        ctx["skills"] = list(volunteer.skills.all())
        ctx["memberships"] = selectors.volunteer_memberships(volunteer=volunteer)
    return render(request, "people/my_profile.html", ctx)


@login_required
def resubmit(request):
    """The applicant corrects a rejected registration and sends it back to the station."""
    volunteer = selectors.volunteer_for_user(user=request.user)
    if volunteer is None:
        raise Http404
    if volunteer.status != VolunteerStatus.REJECTED:
        messages.info(request, _("Only a rejected registration can be corrected and resubmitted."))
        return redirect("people:my_profile")
    names = _skill_names()
    kwargs = {"stations": selectors.station_choices(), "skill_names": names, "with_consent": True}
    if request.method == "POST":
        form = EditForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.volunteer_resubmit(actor=request.user, data=form.to_input())
            except (ValidationError, errors.ServiceError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Resubmitted. Your station will review it again."))
                return redirect("people:my_profile")
    else:
        form = EditForm(initial=EditForm.initial_for(volunteer, set(names)), **kwargs)
    return render(request, "people/volunteer_form.html", {"form": form, "v": volunteer, "mode": "resubmit"})


# --- staff ------------------------------------------------------------------------------------


def _label_rows(rows) -> None:
    """Display labels looked up once per page: get_FOO_display() per cell costs more than the query."""
    labels = {
        "gender": dict(Gender.choices),
        "political_status": dict(PoliticalStatus.choices),
        "status": dict(VolunteerStatus.choices),
    }
    for v in rows:
        v.labels = {name: str(choices.get(getattr(v, name), "")) for name, choices in labels.items()}


@login_required
def volunteer_list(request):
    if not volunteer_policy.anywhere(request.user, Perm.VIEW):
        raise Http404
    filters = selectors.VolunteerFilters.from_params(request.GET)
    page = selectors.volunteer_page(actor=request.user, filters=filters, page=request.GET.get("page"))
    _label_rows(page.object_list)
    ctx = {
        "page": page,
        "detail_base": reverse("people:volunteer_list"),
        "filters": filters,
        "query": request.GET.urlencode(),
        "can_change": volunteer_policy.anywhere(request.user, Perm.CHANGE),
        "can_view_id": volunteer_policy.anywhere(request.user, Perm.VIEW_ID),
    }
    if request.htmx and request.htmx.target == "results":
        return render(request, "people/volunteer_list.html#results", ctx)
    ctx["filter_form"] = FilterForm(
        request.GET,
        orgs=selectors.org_filter_choices(actor=request.user),
        skill_names=_skill_names(),
    )
    return render(request, "people/volunteer_list.html", ctx)


@login_required
def volunteer_create(request):
    """Entry by staff (channel STAFF) into a station of their own subtree."""
    stations = selectors.station_choices(actor=request.user, perm=Perm.CHANGE)
    if not stations:
        raise Http404
    kwargs = {"stations": stations, "skill_names": _skill_names()}
    if request.method == "POST":
        form = StaffVolunteerForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                volunteer = services.volunteer_register(
                    actor=request.user, data=form.to_input(), channel=RegistrationChannel.STAFF
                )
            except (ValidationError, errors.ServiceError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Volunteer %(number)s registered.") % {"number": volunteer.number})
                return redirect("people:volunteer_detail", number=volunteer.number)
    else:
        form = StaffVolunteerForm(**kwargs)
    return render(request, "people/volunteer_form.html", {"form": form, "mode": "create"})


def _detail_context(request, volunteer, **extra) -> dict:
    actor = request.user
    return {
        "v": volunteer,
        "can_view_id": volunteer_policy.may_view_id(actor, volunteer),
        "can_approve": volunteer_policy.allows(actor, Perm.APPROVE, volunteer),
        "can_change": volunteer_policy.allows(actor, Perm.CHANGE, volunteer),
        "reject_form": RejectForm(),
        "suspend_form": SuspendForm(),
        **extra,
    }


@login_required
def volunteer_detail(request, number: str):
    volunteer = selectors.volunteer_get(actor=request.user, number=number)
    ctx = _detail_context(request, volunteer, skills=list(volunteer.skills.all()))
    return render(request, DETAIL, ctx)


@login_required
@require_POST
def volunteer_reveal_id(request, number: str):
    """Show the full ID number once, to roles that need it; the read is audited."""
    volunteer = selectors.volunteer_get(actor=request.user, number=number)
    try:
        full_id = services.volunteer_reveal_id(actor=request.user, volunteer=volunteer)
    except errors.ServiceError as exc:
        raise_for_scope(exc)
        raise
    ctx = _detail_context(request, volunteer, full_id=full_id)
    if request.htmx:
        response = render(request, f"{DETAIL}#id_box", ctx)
    else:
        ctx["skills"] = list(volunteer.skills.all())
        response = render(request, DETAIL, ctx)
    response["Cache-Control"] = "no-store"
    return response


def _decide(request, number: str, action, *, form_name: str = "", done: str = "") -> HttpResponse:
    """Approve / reject / suspend / reinstate: the same shape, a partial for htmx, else back to the page.

    `form_name` names the detail page's reason form ("reject_form", "suspend_form") for actions that take one.
    """
    volunteer = selectors.volunteer_get(actor=request.user, number=number)
    kwargs = {"reason": request.POST.get("reason", "")[:300]} if form_name else {}
    error, field_error = "", ""
    try:
        volunteer = action(actor=request.user, volunteer_id=volunteer.pk, **kwargs)
    except errors.ServiceError as exc:
        raise_for_scope(exc)
        error = exc.message
        if form_name and exc.field == "reason":
            field_error = exc.message
    if request.htmx:
        ctx = _detail_context(request, volunteer, action_error="" if field_error else error)
        if field_error:
            form = ctx[form_name].__class__(request.POST)
            form.is_valid()
            form.add_error("reason", field_error)
            ctx[form_name] = form
        # 200 even on a refusal: htmx swaps only 2xx responses, and the partial carries the error.
        return render(request, f"{DETAIL}#review", ctx)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("people:volunteer_detail", number=volunteer.number)


@login_required
@require_POST
def volunteer_approve(request, number: str):
    return _decide(request, number, services.volunteer_approve, done=_("Registration approved."))


@login_required
@require_POST
def volunteer_reject(request, number: str):
    done = _("Registration rejected.")
    return _decide(request, number, services.volunteer_reject, form_name="reject_form", done=done)


@login_required
@require_POST
def volunteer_suspend(request, number: str):
    done = _("Volunteer suspended.")
    return _decide(request, number, services.volunteer_suspend, form_name="suspend_form", done=done)


@login_required
@require_POST
def volunteer_reinstate(request, number: str):
    return _decide(request, number, services.volunteer_reinstate, done=_("Volunteer reinstated."))


@login_required
def volunteer_edit(request, number: str):
    volunteer = selectors.volunteer_get(actor=request.user, number=number)
    if not volunteer_policy.allows(request.user, Perm.CHANGE, volunteer):
        raise PermissionDenied
    names = _skill_names()
    kwargs = {"stations": selectors.station_choices(actor=request.user, perm=Perm.CHANGE), "skill_names": names}
    if request.method == "POST":
        form = EditForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.volunteer_update(actor=request.user, volunteer_id=volunteer.pk, data=form.to_input())
            except errors.ServiceError as exc:
                raise_for_scope(exc)
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("people:volunteer_detail", number=volunteer.number)
    else:
        form = EditForm(initial=EditForm.initial_for(volunteer, set(names)), **kwargs)
    return render(request, "people/volunteer_form.html", {"form": form, "v": volunteer, "mode": "edit"})
