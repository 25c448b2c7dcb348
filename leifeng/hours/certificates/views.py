"""Certificate pages: my certificates, the staff queue, one certificate, the PDF and the public check.

parse → authorize → one service or selector → render. Out of scope is a 404 page, seen but not
allowed a 403 page. The verification page needs no login and shows only the frozen content.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from leifeng.core.errors import NotFound, ServiceError, field_errors
from leifeng.core.forms import apply_errors
from leifeng.core.idnumbers import IdType
from leifeng.core.pages import message_of, raise_for_scope
from leifeng.core.roles import Perm
from leifeng.hours.certificates import selectors, services
from leifeng.hours.models import CertificateStatus, RecordKind
from leifeng.hours.policy import certificate_policy
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org
from leifeng.teams.selectors import volunteer_of

PER_PAGE = 50
DATE = forms.DateInput(attrs={"type": "date"})


class RequestForm(forms.Form):
    org = forms.ModelChoiceField(
        label=gettext_lazy("Issuing organization"),
        queryset=Org.objects.none(),
        help_text=gettext_lazy("Only the organization that organized the service may certify it."),
    )
    period_from = forms.DateField(label=gettext_lazy("From"), widget=DATE)
    period_to = forms.DateField(label=gettext_lazy("To"), widget=DATE)

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class StaffRequestForm(RequestForm):
    volunteer_number = forms.CharField(label=gettext_lazy("Volunteer number"), max_length=20)

    field_order = ["volunteer_number", "org", "period_from", "period_to"]


class IssueForm(forms.Form):
    person_in_charge = forms.CharField(
        label=gettext_lazy("Person in charge"),
        max_length=50,
        required=False,
        help_text=gettext_lazy("Used only when the organization has no director or station head recorded."),
    )
    contact_phone = forms.CharField(
        label=gettext_lazy("Contact phone"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("Empty: the head's or the organization's phone."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=pgettext_lazy("certificate", "Reason"), max_length=200)


def _get(request: HttpRequest, pk: int):
    try:
        return selectors.certificate_get(actor=request.user, certificate_id=pk)
    except NotFound as exc:
        raise_for_scope(exc)


# ---------------------------------------------------------------- volunteer


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    """A volunteer's certificates and the form to ask an organizing node for one."""
    volunteer = volunteer_of(request.user)  # also primes user.volunteer for the menu
    orgs = selectors.certifying_orgs(volunteer=volunteer) if volunteer else Org.objects.none()
    form = RequestForm(request.POST or None, orgs=orgs)
    if request.method == "POST" and volunteer is not None and form.is_valid():
        d = form.cleaned_data
        try:
            services.certificate_request(
                actor=request.user, org_id=d["org"].pk, period_from=d["period_from"], period_to=d["period_to"]
            )
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Request sent to %(org)s.") % {"org": d["org"].name})
            return redirect("hours:my_certificates")
    page = Paginator(
        selectors.certificate_list(actor=request.user, filters=selectors.CertificateFilters(mine=True)), PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "hours/certificate_mine.html",
        {"volunteer": volunteer, "form": form, "page": page, "has_orgs": volunteer is not None and orgs.exists()},
    )


# ---------------------------------------------------------------- staff


@login_required
def certificate_queue(request: HttpRequest) -> HttpResponse:
    """Requests waiting at the nodes the actor may certify for (default: still to issue)."""
    if not certificate_policy.decides_anywhere(request.user):
        raise Http404
    filters = selectors.CertificateFilters.from_params(request.GET)
    if "status" not in request.GET:
        filters.status = CertificateStatus.REQUESTED
    filters.to_decide = True
    page = Paginator(selectors.certificate_list(actor=request.user, filters=filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    form = StaffRequestForm(request.POST or None, orgs=org_policy.orgs(request.user, Perm.CHANGE).order_by("path"))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cert = services.certificate_request(
                actor=request.user,
                volunteer_number=d["volunteer_number"],
                org_id=d["org"].pk,
                period_from=d["period_from"],
                period_to=d["period_to"],
            )
        except (ServiceError, ValidationError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Request recorded."))
            return redirect("hours:certificate_detail", pk=cert.pk)
    context = {"page": page, "filters": filters, "statuses": CertificateStatus.choices, "form": form}
    if request.htmx and request.method == "GET":
        return render(request, "hours/certificate_queue.html#results", context)
    return render(request, "hours/certificate_queue.html", context)


# ---------------------------------------------------------------- one certificate


def _detail(request: HttpRequest, cert, **forms_) -> HttpResponse:
    access = selectors.certificate_access(actor=request.user, cert=cert)
    return render(
        request,
        "hours/certificate_detail.html",
        {
            "cert": cert,
            "access": access,
            "content": content_context(cert.content) if cert.content else None,
            "preview": selectors.statement(
                volunteer_id=cert.volunteer_id,
                org_id=cert.org_id,
                period_from=cert.period_from,
                period_to=cert.period_to,
            )
            if cert.status == CertificateStatus.REQUESTED and access.decide
            else None,
            "issue_form": forms_.get("issue_form") or IssueForm(),
            "reason_form": forms_.get("reason_form") or ReasonForm(),
        },
    )


@login_required
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _get(request, pk))


def _act(request: HttpRequest, pk: int, call, form_name: str, form, success: str) -> HttpResponse:
    cert = _get(request, pk)
    if form.is_valid():
        try:
            call(cert, form.cleaned_data)
        except (ServiceError, ValidationError) as exc:
            raise_for_scope(exc)
            if isinstance(exc, ValidationError) and any(k in form.fields for k in field_errors(exc)):
                apply_errors(form, exc)
                return _detail(request, cert, **{form_name: form})
            messages.error(request, message_of(exc))
        else:
            messages.success(request, success)
        return redirect("hours:certificate_detail", pk=pk)
    return _detail(request, cert, **{form_name: form})


@login_required
@require_POST
def certificate_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda cert, d: services.certificate_issue(
            actor=request.user,
            certificate_id=cert.pk,
            person_in_charge=d["person_in_charge"],
            contact_phone=d["contact_phone"],
        ),
        "issue_form",
        IssueForm(request.POST),
        _("Certificate issued."),
    )


@login_required
@require_POST
def certificate_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda cert, d: services.certificate_refuse(actor=request.user, certificate_id=cert.pk, reason=d["reason"]),
        "reason_form",
        ReasonForm(request.POST),
        _("Request refused."),
    )


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda cert, d: services.certificate_revoke(actor=request.user, certificate_id=cert.pk, reason=d["reason"]),
        "reason_form",
        ReasonForm(request.POST),
        _("Certificate revoked."),
    )


@login_required
def certificate_download(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        cert, pdf = services.certificate_pdf(actor=request.user, certificate_id=pk)
    except ServiceError as exc:
        raise_for_scope(exc)
        messages.error(request, message_of(exc))
        return redirect("hours:certificate_detail", pk=pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response


# ---------------------------------------------------------------- public


def content_context(c: dict) -> dict:
    """The frozen content ready for a page: labels and dates from the stored codes and ISO strings."""
    by_kind = selectors.minutes_by_kind(c["rows"])
    return {
        **c,
        "id_type_label": IdType(c["id_type"]).label if c["id_type"] in IdType.values else c["id_type"],
        "period_from": date.fromisoformat(c["period_from"]),
        "period_to": date.fromisoformat(c["period_to"]),
        "issued_on": date.fromisoformat(c["issued_on"]),
        "rows": [
            {
                **r,
                "date": date.fromisoformat(r["date"]),
                "kind_label": RecordKind(r["kind"]).label if r["kind"] in RecordKind.values else r["kind"],
            }
            for r in c["rows"]
        ],
        "backfilled_hours": selectors.hours_text(by_kind[RecordKind.BACKFILLED]),
        "verified_hours": selectors.hours_text(by_kind[RecordKind.VERIFIED]),
    }


def certificate_verify(request: HttpRequest, code: str) -> HttpResponse:
    """Anyone with the code (printed as a QR code) checks the certificate: genuine, or revoked, or unknown."""
    try:
        cert = selectors.certificate_verify(code=code)
    except NotFound:
        return render(request, "hours/certificate_verify.html", {"cert": None, "code": code}, status=404)
    return render(
        request,
        "hours/certificate_verify.html",
        {
            "cert": cert,
            "genuine": cert.status == CertificateStatus.ISSUED,
            "revoked_at": selectors.revoked_at(cert),
            "content": content_context(cert.content),
        },
    )
