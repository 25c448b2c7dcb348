"""orgs.policy: nodes, units, positions and leading groups — each visibility rule once."""

import pytest

from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.scope import Perm
from leifeng.orgs.models import LeadingGroup, LeadingGroupMember
from leifeng.orgs.policy import leading_group_member_policy, org_policy, orgs


def test_require_is_404_out_of_sight_403_without_the_permission(tree, owner, colleague, outsider, platform_admin):
    org_policy.require(owner, Perm.MANAGE_ORG, tree.st_a1)
    with pytest.raises(NotFound):
        org_policy.require(outsider, Perm.MANAGE_ORG, tree.st_a1)
    with pytest.raises(PermissionDenied):
        org_policy.require(colleague, Perm.MANAGE_ORG, tree.st_a1)  # staff see the station, do not run it
    with pytest.raises(PermissionDenied):
        org_policy.require(owner, Perm.MANAGE_ORG, None)  # the top of the tree
    org_policy.require(platform_admin, Perm.MANAGE_ORG, None)
    assert org_policy.allows_at(platform_admin, Perm.MANAGE_ORG, None)
    assert not org_policy.allows_at(owner, Perm.MANAGE_ORG, None)


def test_whoever_manages_the_node_above_deletes(tree, owner, center_admin, platform_admin):
    assert not org_policy.may_delete(owner, tree.st_a1)  # their own station: the sub-center deletes it
    assert org_policy.may_delete(center_admin, tree.st_a1)
    assert not org_policy.may_delete(center_admin, tree.center)  # roots: the platform admin only
    assert org_policy.may_delete(platform_admin, tree.center)


def test_leading_group_members_follow_their_groups_node(tree, owner, outsider):
    group = LeadingGroup.objects.create(org=tree.st_a1, name="志愿服务领导小组")
    member = LeadingGroupMember.objects.create(group=group, person_name="李华", role="leader")
    assert list(leading_group_member_policy.visible(owner)) == [member]
    assert not leading_group_member_policy.visible(outsider).exists()
    assert set(orgs(owner)) == {tree.st_a1}
