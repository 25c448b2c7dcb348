from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from leifeng.home import selectors


@login_required
def home(request):
    """A dashboard by role: counts of the subtree for staff, one's own registration and teams for a volunteer."""
    return render(request, "home/home.html", {"summary": selectors.home_summary(actor=request.user)})
