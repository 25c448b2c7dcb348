"""What the activities pages share: the page size and the organizer's activity."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest

from leifeng.activities.models import Activity
from leifeng.activities.policy import activity_policy
from leifeng.core.scope import Perm

PER_PAGE = 50


def organizer_activity(request: HttpRequest, pk: int, *, change: bool = False) -> Activity:
    """The activity for its organizers (Perm.VIEW at its node): read by key and checked in Python, the same
    404 as `selectors.activity_get` gives them (they see everything VIEW covers) without its volunteer
    subqueries, which cost more than the roster itself."""
    a = Activity.objects.select_related("org", "campaign", "lead_unit").filter(pk=pk).first()
    if a is None or not activity_policy.allows(request.user, Perm.VIEW, a):
        raise Http404
    if change and not activity_policy.allows(request.user, Perm.CHANGE, a):
        raise DjangoPermissionDenied
    return a
