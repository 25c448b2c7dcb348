from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render

from leifeng.core import selectors


def healthz(request):
    """For load balancers: the process answers and the database does too."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request):
    return render(request, "core/home.html", {"summary": selectors.home_summary(actor=request.user)})


@login_required
def audit_list(request):
    page = selectors.audit_event_page(actor=request.user, params=request.GET)
    return render(request, "core/audit_list.html", {"page": page, "q": request.GET})
