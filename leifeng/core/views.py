from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

from leifeng.core import selectors
from leifeng.core.forms import AuditFilterForm

AUDIT_PER_PAGE = 50


def healthz(request):
    """For load balancers: the process answers and the database does too."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def audit_list(request):
    form = AuditFilterForm(request.GET)
    form.is_valid()
    qs = selectors.audit_event_list(actor=request.user, filters=form.filters())
    page = Paginator(qs, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    template = "core/audit_list.html#results" if request.htmx else "core/audit_list.html"
    return render(request, template, {"page": page, "form": form})
