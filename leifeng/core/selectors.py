from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404

from leifeng.core import scope
from leifeng.core.models import AuditEvent
from leifeng.core.scope import Perm


def home_summary(*, actor) -> dict:
    """Counts for the home page, each within the actor's own scope."""
    from leifeng.people.models import Volunteer, VolunteerStatus
    from leifeng.teams.models import Team

    out: dict = {"can_view": scope.has_any(actor, Perm.VIEW)}
    if out["can_view"]:
        out.update(
            scope.scoped(Volunteer.objects.all(), actor).aggregate(
                volunteers=Count("id", filter=Q(status=VolunteerStatus.APPROVED)),
                pending=Count("id", filter=Q(status=VolunteerStatus.PENDING)),
            )
        )
        out["teams"] = scope.scoped(Team.objects.all(), actor).count()
        out["orgs"] = scope.orgs(actor).count()
    return out


def audit_event_page(*, actor, params, per_page: int = 50):
    """Audit events of objects in the actor's subtree (org admins); filters: action, object type."""
    if not scope.has_any(actor, Perm.AUDIT):
        raise Http404
    qs = scope.scoped(AuditEvent.objects.select_related("actor", "org"), actor, Perm.AUDIT)
    if action := params.get("action"):
        qs = qs.filter(action=action)
    if object_type := params.get("object_type"):
        qs = qs.filter(object_type=object_type)
    return Paginator(qs, per_page).get_page(params.get("page"))
