"""Who may see and act on notifications and relays (built on `core.scope`): the one copy of each rule.

- a notification is its recipient's alone: nobody else sees it, whatever their roles;
- relays (短信接力) and their deliveries are seen by whoever holds Perm.VIEW at the relay's node and retried
  or sent by whoever holds Perm.CHANGE there;
- a relay reaches the holders of the chosen roles anywhere in the subtree of its node (`relay_recipients`):
  holders of roles, not of a permission, so it is not `scope.users_with`.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leifeng.accounts.models import RoleAssignment
from leifeng.core import scope
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.notifications.models import Delivery, Notification, Relay
from leifeng.orgs.models import Org


class NotificationPolicy(ModelPolicy):
    model = Notification

    def own(self, actor, qs: QuerySet | None = None) -> QuerySet:
        """The actor's own notifications (an anonymous visitor has none)."""
        qs = self.queryset() if qs is None else qs
        return qs.filter(recipient_id=getattr(actor, "pk", None))


class RelayPolicy(ModelPolicy):
    model = Relay
    org_field = "org"

    def is_staff(self, actor, perm: Perm = Perm.VIEW) -> bool:
        """May the actor see (VIEW) or send (CHANGE) relays anywhere?"""
        return scope.has_any(actor, perm)


class DeliveryPolicy(ModelPolicy):
    """Staff look after the deliveries of relays (a person's own messages are nobody else's business)."""

    model = Delivery
    org_field = "notification.relay.org"

    def queryset(self) -> QuerySet:
        return Delivery.objects.filter(notification__relay__isnull=False)


notification_policy = NotificationPolicy()
relay_policy = RelayPolicy()
delivery_policy = DeliveryPolicy()


def relay_recipients(*, org: Org, roles: Iterable[str]) -> QuerySet:
    """Active accounts holding one of `roles` at `org` or below (each once)."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(
            pk__in=RoleAssignment.objects.filter(org__path__startswith=org.path, role__in=list(roles)).values("user_id")
        )
        .order_by("pk")
    )


def home_nodes(user) -> list[Org]:
    """The nodes whose calendar feeds a person is offered: their volunteer station, else the nodes of their roles
    (the top nodes for a platform administrator)."""
    volunteer = getattr(user, "volunteer", None)
    if volunteer is not None:
        return [volunteer.org]
    roots = scope.paths(user, Perm.VIEW)
    if roots is None:
        return list(Org.objects.filter(depth=1).order_by("path"))
    return list(Org.objects.filter(path__in=roots).order_by("path"))
