"""core.scope.users_with: who holds a permission at a node (a right held above reaches down)."""

from leifeng import testing
from leifeng.core import scope
from leifeng.core.roles import Perm, Role


def test_holders_at_the_node_and_above_not_elsewhere(tree, owner, colleague, outsider, center_admin, assessor):
    leader = testing.make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1)
    gone = testing.make_user("gone", role=Role.ORG_STAFF, org=tree.st_a1)
    gone.is_active = False
    gone.save()
    change = set(scope.users_with(Perm.CHANGE, tree.st_a1))
    assert change == {owner, colleague, center_admin}  # not the outsider, the assessor, a leader, a disabled account
    assert set(scope.users_with(Perm.VIEW, tree.st_a1)) == {owner, colleague, center_admin, assessor}
    assert set(scope.users_with(Perm.CHANGE, tree.st_a1, here_only=True)) == {owner, colleague}
    assert set(scope.users_with(Perm.LEAD_TEAM, tree.st_a2)) == {center_admin}
    assert leader in set(scope.users_with(Perm.LEAD_TEAM, tree.st_a1))


def test_each_account_once(tree, owner):
    testing.make_user("twice", role=Role.ORG_ADMIN, org=tree.st_a1)
    from leifeng.accounts.models import RoleAssignment, User

    twice = User.objects.get(username="twice")
    RoleAssignment.objects.create(user=twice, role=Role.ORG_STAFF, org=tree.sub_a)
    ids = list(scope.users_with(Perm.CHANGE, tree.st_a1).values_list("pk", flat=True))
    assert ids.count(twice.pk) == 1
