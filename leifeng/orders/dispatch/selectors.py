"""Reads of the dispatch board: what the actor may dispatch, and one order to suggest candidates for."""

from django.db.models import QuerySet

from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm
from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.policy import order_policy


def dispatchable(actor) -> QuerySet[Order]:
    """Orders awaiting dispatch that the actor may dispatch (Perm.CHANGE at the owning node), oldest first."""
    return (
        order_policy.visible(actor, Perm.CHANGE)
        .filter(status=OrderStatus.ACCEPTED)
        .select_related("org", "menu_item", "team")
        .order_by("created_at", "id")
    )


def order_to_dispatch(*, actor, order_id: int) -> Order:
    """One order the actor may dispatch (its menu item loaded for the reasons); NotFound otherwise."""
    order = Order.objects.select_related("org", "menu_item").filter(pk=order_id).first()
    if order is None or not order_policy.may_run(actor, order):
        raise NotFound()
    return order


def may_dispatch_all(actor, order_ids) -> bool:
    """The actor may dispatch somewhere, and every listed order lies where they may (missing ones count as not)."""
    if not order_policy.is_staff(actor, Perm.CHANGE):
        return False
    ids = set(order_ids or ())
    return not ids or order_policy.visible(actor, Perm.CHANGE, Order.objects.filter(pk__in=ids)).count() == len(ids)
