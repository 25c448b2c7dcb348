"""Open311 clients: a key limited to Open311 for one third-party system (never a full API token in a URL)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit
from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm
from leifeng.orders.codes import AuditAction
from leifeng.orders.models import Open311Client
from leifeng.orgs.models import Org
from leifeng.orgs.policy import org_policy


@transaction.atomic
def open311_client_create(*, actor, name: str, org_id, user=None) -> tuple[Open311Client, str]:
    """A new Open311 key for `name` at `org_id` (and below), acting as `user` (default: the actor). The actor needs
    Perm.CHANGE at the node, and so does `user` (a key never does more than its account may). Returns the client and
    the raw key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Name the system that will use the key.")]})
    org = Org.objects.filter(pk=org_id).first() if str(org_id or "").isdigit() else None
    if org is None:
        raise NotFound()
    org_policy.require(actor, Perm.CHANGE, org)
    user = user or actor
    if not org_policy.allows_at(user, Perm.CHANGE, org):
        raise ValidationError({"user": [_("This account may not enter orders at %(org)s.") % {"org": org.name}]})
    raw = Open311Client.new_key()
    client = Open311Client.objects.create(
        name=name[:100], org=org, user=user, prefix=raw[:12], key_hash=Open311Client.hash(raw)
    )
    audit.record(
        actor=actor,
        action=AuditAction.OPEN311_CLIENT_CREATE,
        obj=client,
        org=org,
        changes={"name": [None, client.name], "user": [None, user.get_username()]},
    )
    return client, raw


@transaction.atomic
def open311_client_revoke(*, actor, client_id) -> Open311Client:
    """The key stops working at once."""
    client = Open311Client.objects.select_for_update().select_related("org").filter(pk=client_id).first()
    if client is None:
        raise NotFound()
    org_policy.require(actor, Perm.CHANGE, client.org)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action=AuditAction.OPEN311_CLIENT_REVOKE, obj=client, org=client.org)
    return client
