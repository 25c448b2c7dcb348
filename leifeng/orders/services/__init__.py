"""Writes about orders (点单 → 审单 → 派单 → 接单 → 评单): keyword-only, atomic, validated, audited.

Rules:
  * every status move goes through ORDER_TRANSITIONS (`_move`) and writes an OrderEvent (who, when,
    from → to, note) that the order page and the resident's tracking page show;
  * a resident needs no account: the order's unguessable `token` is their key (track, rate, cancel);
  * submission is idempotent: the same idempotency key returns the first order;
  * the same phone with the same menu item (or the same free text) still open is flagged as a possible duplicate;
  * review, dispatch, push-down, pass-up and merge need Perm.CHANGE at the node owning the order;
  * a team answers through its leader or deputy, a named volunteer for themselves; anyone may decline
    (DESIGN §4 rule 5): when nobody is left on the order it returns to dispatch;
  * grabbing (抢单) locks the order row (SELECT … FOR UPDATE): the first leader wins, the others get a conflict;
  * deadlines: each stage before service has `accept_by` (rule `order_accept_hours`); the service itself has
    `promised_by`; `orders_escalate_overdue` reminds, escalates one level up per missed deadline and
    closes unrated orders after `order_autoclose_days`.

One module per stage: menus, submission (点单), review (审单), dispatch (派单), assignments (接单), rating (评单),
deadlines; common.py holds `_move`, events and locks. Every public name is re-exported here.
"""

from leifeng.orders.policy import in_line, led_teams, staff_of, team_may_grab, team_may_serve
from leifeng.orders.services.assignments import CompletionInput, order_complete, order_decline, order_take
from leifeng.orders.services.common import (
    DEFAULT_PROMISE_HOURS,
    MAX_COMPLETION_PHOTOS,
    MAX_PHOTO_BYTES,
    MENU_FIELDS,
    PHOTO_MAX_SIDE,
    RESIDENT,
    SYSTEM,
    clean_photo,
)
from leifeng.orders.services.deadlines import orders_escalate_overdue
from leifeng.orders.services.dispatch import (
    order_dispatch,
    order_grab,
    order_open_grab,
    order_push_down,
    order_recall,
)
from leifeng.orders.services.menus import MenuItemInput, menu_item_create, menu_item_update
from leifeng.orders.services.open311 import open311_client_create, open311_client_revoke
from leifeng.orders.services.rating import order_follow_up, order_rate
from leifeng.orders.services.review import order_accept, order_cancel, order_merge, order_pass_up, order_reject
from leifeng.orders.services.submission import OrderInput, order_submit

__all__ = [
    "DEFAULT_PROMISE_HOURS",
    "MAX_COMPLETION_PHOTOS",
    "MAX_PHOTO_BYTES",
    "MENU_FIELDS",
    "PHOTO_MAX_SIDE",
    "RESIDENT",
    "SYSTEM",
    "CompletionInput",
    "MenuItemInput",
    "OrderInput",
    "clean_photo",
    "in_line",
    "led_teams",
    "menu_item_create",
    "menu_item_update",
    "open311_client_create",
    "open311_client_revoke",
    "order_accept",
    "order_cancel",
    "order_complete",
    "order_decline",
    "order_dispatch",
    "order_follow_up",
    "order_grab",
    "order_merge",
    "order_open_grab",
    "order_pass_up",
    "order_push_down",
    "order_rate",
    "order_recall",
    "order_reject",
    "order_submit",
    "order_take",
    "orders_escalate_overdue",
    "staff_of",
    "team_may_grab",
    "team_may_serve",
]
