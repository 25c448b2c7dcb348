"""Excel pages for volunteers: import (with its template and error report) and export.

parse → authorize → one service (this package) → render. Importing needs Perm.CHANGE somewhere and
the template too; exporting needs what the list page needs (Perm.VIEW): it is that list, masked.
"""

import io
import uuid
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leifeng.core.errors import ServiceError
from leifeng.core.forms import apply_errors
from leifeng.core.scope import Perm
from leifeng.people import excel
from leifeng.people.policy import volunteer_policy
from leifeng.people.selectors import VolunteerFilters

ERRORS_SHOWN = 200
REPORT_DIR = "import-reports"
SESSION_REPORT = "people_import_report"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{excel.XLSX_CONTENT_TYPE}"}),
    )
    default_org = forms.TypedChoiceField(
        label=gettext_lazy("Default station"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=gettext_lazy("Used for rows whose 所属站点 (station) cell is empty."),
    )
    approve = forms.BooleanField(
        label=gettext_lazy("Approve the imported volunteers at once"),
        required=False,
        help_text=gettext_lazy("Only at stations where you may approve registrations; the others wait for approval."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Every volunteer in this file agreed to be registered (a minor's guardian too), "
            "and to keeping the e-mail address given."
        ),
    )

    def __init__(self, *args, stations: list[tuple[int, str]], can_approve: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_org"].choices = [("", _("— from the 所属站点 column —")), *stations]
        if len(stations) == 1:
            self.fields["default_org"].initial = stations[0][0]
        if not can_approve:
            del self.fields["approve"]


def _gate(user, perm: Perm) -> None:
    """Pages of this module exist only for people who hold `perm` somewhere: the same 404 otherwise."""
    if not volunteer_policy.anywhere(user, perm):
        raise Http404


def _xlsx_response(wb, filename: str) -> HttpResponse:
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _save_report(request, errors: list[excel.CellError]) -> str:
    """Keep the error report for this session only; a newer one replaces it."""
    old = request.session.get(SESSION_REPORT)
    if old:
        default_storage.delete(f"{REPORT_DIR}/{old}.xlsx")
    token = uuid.uuid4().hex
    buf = io.BytesIO()
    excel.error_report_workbook(errors).save(buf)
    default_storage.save(f"{REPORT_DIR}/{token}.xlsx", ContentFile(buf.getvalue()))
    request.session[SESSION_REPORT] = token
    return token


def _report_download(request, token: str):
    if not token or token != request.session.get(SESSION_REPORT):
        raise Http404
    name = f"{REPORT_DIR}/{token}.xlsx"
    if not default_storage.exists(name):
        raise Http404
    return FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=True,
        filename="导入错误报告.xlsx",
        content_type=excel.XLSX_CONTENT_TYPE,
    )


@login_required
def volunteer_import(request):
    """Upload form → all-or-nothing import → either the count or the table of row/column/reason."""
    _gate(request.user, Perm.CHANGE)
    if "report" in request.GET:
        return _report_download(request, request.GET["report"])
    kwargs = {
        "stations": excel.import_station_choices(actor=request.user),
        "can_approve": volunteer_policy.anywhere(request.user, Perm.APPROVE),
    }
    if request.method != "POST":
        return render(request, "people/import.html", {"form": ImportForm(**kwargs), **_limits()})
    form = ImportForm(request.POST, request.FILES, **kwargs)
    if form.is_valid():
        try:
            result = excel.volunteer_import(
                actor=request.user,
                file=form.cleaned_data["file"],
                default_org_id=form.cleaned_data["default_org"],
                approve=form.cleaned_data.get("approve", False),
                consent_confirmed=form.cleaned_data.get("confirm", False),
            )
        except ServiceError as exc:
            apply_errors(form, exc)
        else:
            ctx = {"result": result, "form": ImportForm(**kwargs), **_limits()}
            if not result.ok:
                ctx["report"] = _save_report(request, result.errors)
                ctx["errors_shown"] = result.errors[:ERRORS_SHOWN]
                ctx["error_rows"] = len({e.row for e in result.errors})
            return render(request, "people/import_result.html", ctx)
    return render(request, "people/import.html", {"form": form, **_limits()})


def _limits() -> dict:
    return {"max_mb": settings.IMPORT_MAX_BYTES // 2**20, "errors_limit": ERRORS_SHOWN}


@login_required
def volunteer_import_template(request):
    _gate(request.user, Perm.CHANGE)
    stations = excel.template_station_names(actor=request.user)
    return _xlsx_response(excel.template_workbook(stations=stations), "志愿者导入模板.xlsx")


@login_required
def volunteer_export(request):
    """The list page's filters (same query string) as .xlsx; `unmasked=1` for those who may see ID numbers."""
    _gate(request.user, Perm.VIEW)
    filters = VolunteerFilters.from_params(request.GET)
    unmasked = request.GET.get("unmasked") == "1"
    try:
        result = excel.volunteer_export(actor=request.user, filters=filters, unmasked=unmasked)
    except ServiceError as exc:
        messages.error(request, exc.message)
        params = request.GET.copy()
        params.pop("unmasked", None)
        return redirect(reverse("people:volunteer_list") + (f"?{params.urlencode()}" if params else ""))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        result.file,
        as_attachment=True,
        filename=f"志愿者_{stamp}.xlsx",
        content_type=excel.XLSX_CONTENT_TYPE,
    )
