"""The orders policy: who runs a node's orders (staff_of), who sees an order, who may grab it."""

from datetime import timedelta

from leifeng import testing
from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core.roles import Perm
from leifeng.orders import services
from leifeng.orders.models import OrderStatus
from leifeng.orders.policy import order_policy, staff_of
from leifeng.orders.tests.factories import T0, leader_with_team, order_in, submit
from leifeng.teams.models import TeamCategory

S = OrderStatus


def test_staff_of_is_who_holds_change_at_the_node_itself(tree, owner, colleague, outsider, center_admin, assessor):
    leader = testing.make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1)
    gone = testing.make_user("gone", role=Role.ORG_STAFF, org=tree.st_a1, is_active=False)
    testing.grant(owner, Role.ORG_STAFF, tree.st_a1)  # both roles: still one recipient
    staff = list(staff_of(tree.st_a1))
    assert staff == sorted([owner, colleague], key=lambda u: u.pk)
    for other in (outsider, center_admin, assessor, leader, gone):
        assert other not in staff  # another subtree, an ancestor's, a role without CHANGE, an inactive account
    # the same people the role list named before (org_admin and org_staff at the node), active ones once each
    by_roles = {
        ra.user
        for ra in RoleAssignment.objects.filter(org=tree.st_a1, role__in=[Role.ORG_ADMIN, Role.ORG_STAFF])
        if ra.user.is_active
    }
    assert set(staff) == by_roles


def test_a_station_keeps_sight_of_what_it_passed_up_but_runs_only_its_own(tree, owner):
    order = submit(tree.st_a1)
    services.order_pass_up(actor=owner, order_id=order.pk, note="需要街道协调", now=T0)
    order.refresh_from_db()
    assert order_policy.visible(owner).filter(pk=order.pk).exists()
    assert order_policy.may_see(owner, order) and not order_policy.may_run(owner, order)
    assert not order_policy.visible(owner, Perm.CHANGE).filter(pk=order.pk).exists()
    assert not order_policy.owned(owner).filter(pk=order.pk).exists()  # owned by the sub-center now


def test_an_open_order_may_be_grabbed_by_leaders_of_matching_teams_only(tree, owner, outsider):
    leader, team = leader_with_team(tree)
    order = order_in(S.OPEN, tree=tree, staff=owner, leader=leader, team=team)
    order.category = TeamCategory.ELDERLY
    assert order_policy.may_grab(leader, order)
    other, _team = leader_with_team(tree, username="other", category=TeamCategory.HEALTH)
    assert not order_policy.may_grab(other, order)
    far, _far_team = leader_with_team(tree, username="far", org=tree.st_b1)
    assert not order_policy.may_grab(far, order)  # another line of the tree
    assert not order_policy.may_grab(outsider, order)
    services.order_grab(actor=leader, order_id=order.pk, team_id=team.pk, now=T0 + timedelta(hours=3))
    order.refresh_from_db()
    assert not order_policy.may_grab(leader, order)  # taken: nothing left to grab
    assert order_policy.visible(owner).filter(order_policy.assignee_q(leader), pk=order.pk).exists()


def test_audit_actions_of_events_keep_their_strings():
    import pytest

    from leifeng.orders.codes import AuditAction, ErrorCode, EventAction

    assert AuditAction.of_event(EventAction.DECLINED) is AuditAction.ORDER_DECLINED == "order.declined"
    assert AuditAction.ORDER_SUBMIT == "order.submit" and AuditAction.MENU_ITEM_UPDATE == "menu_item.update"
    assert (ErrorCode.NO_PARENT, ErrorCode.ALREADY_TAKEN) == ("no_parent", "already_taken")
    with pytest.raises(ValueError):  # an event that is never audited on its own has no audit action
        AuditAction.of_event(EventAction.JOINED)
