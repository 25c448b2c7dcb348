"""accounts.policy: which accounts an administrator sees and may manage, which roles they may grant."""

from leifeng.accounts.models import Role
from leifeng.accounts.policy import account_policy, role_policy
from leifeng.testing import make_platform_admin


def test_an_account_is_seen_where_it_holds_a_role(tree, owner, colleague, outsider, center_admin):
    assert account_policy.sees(owner, colleague) and not account_policy.sees(outsider, colleague)
    assert set(account_policy.visible(owner)) == {owner, colleague}
    assert {owner, colleague, outsider} <= set(account_policy.visible(center_admin))
    assert set(role_policy.visible(owner).values_list("user__username", flat=True)) == {"owner", "colleague"}


def test_managing_an_account_needs_every_role_inside_the_subtree(tree, owner, colleague, center_admin):
    assert account_policy.may_manage(owner, colleague)
    assert not account_policy.may_manage(owner, owner)  # nobody manages their own account here
    assert not account_policy.may_manage(owner, center_admin)  # works above the owner's station
    assert account_policy.may_manage(center_admin, owner)


def test_only_platform_admins_grant_the_platform_role(tree, center_admin):
    operator = make_platform_admin(org=tree.center)
    assert not account_policy.may_grant_role(center_admin, Role.PLATFORM_ADMIN)
    assert account_policy.may_grant_role(center_admin, Role.ORG_STAFF)
    assert account_policy.may_grant_role(operator, Role.PLATFORM_ADMIN)
    assert not account_policy.may_manage(center_admin, operator)  # operators are the operator's
