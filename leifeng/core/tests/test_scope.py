import pytest
from django.http import Http404

from leifeng.core import scope
from leifeng.core.scope import Perm
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org


def test_role_reaches_subtree_only(tree, owner, outsider, center_admin):
    assert set(org_policy.orgs(owner)) == {tree.st_a1}
    assert set(org_policy.orgs(outsider)) == {tree.st_b1}
    assert set(org_policy.orgs(center_admin)) == set(Org.objects.all())


def test_nested_roles_collapse_to_the_ancestor(tree, owner):
    from leifeng.testing import grant

    grant(owner, "org_staff", tree.sub_a)
    assert scope.paths(owner, Perm.VIEW) == (tree.sub_a.path,)
    assert set(org_policy.orgs(owner)) == {tree.sub_a, tree.st_a1, tree.st_a2}


def test_out_of_scope_is_404_like_missing(tree, owner):
    with pytest.raises(Http404):
        scope.get_or_404(Org.objects.all(), owner, Perm.VIEW, field="", pk=tree.st_b1.pk)
    with pytest.raises(Http404):
        scope.get_or_404(Org.objects.all(), owner, Perm.VIEW, field="", pk=999999)
    assert scope.get_or_404(Org.objects.all(), owner, Perm.VIEW, field="", pk=tree.st_a1.pk) == tree.st_a1


def test_assessor_reads_but_cannot_change(tree, assessor):
    assert scope.allows(assessor, Perm.VIEW, tree.st_a2)
    assert not scope.allows(assessor, Perm.CHANGE, tree.st_a2)
    assert not scope.allows(assessor, Perm.VIEW, tree.st_b1)


def test_anonymous_sees_nothing(tree):
    from django.contrib.auth.models import AnonymousUser

    assert org_policy.orgs(AnonymousUser()).count() == 0


def test_platform_admin_sees_and_may_do_everything(tree):
    from leifeng.testing import make_platform_admin

    operator = make_platform_admin(org=tree.st_b1)  # held anywhere, it reaches everywhere
    assert scope.paths(operator, Perm.MANAGE_ORG) is None
    assert set(org_policy.orgs(operator)) == set(Org.objects.all())
    assert all(scope.allows(operator, perm, tree.st_a2) for perm in Perm)
    assert scope.allows(operator, Perm.VIEW, None)  # objects without a node: operator only


def test_superuser_counts_as_platform_admin(tree):
    from leifeng.testing import make_user

    root = make_user("root", is_superuser=True, is_staff=True)
    assert scope.is_platform_admin(root)
    assert org_policy.orgs(root).count() == Org.objects.count()


def test_nested_and_parallel_roles(tree, owner):
    from leifeng.testing import grant

    grant(owner, "org_admin", tree.st_b1)  # a second, unrelated station
    assert scope.paths(owner, Perm.MANAGE_ORG) == tuple(sorted((tree.st_a1.path, tree.st_b1.path)))
    assert set(org_policy.orgs(owner, Perm.MANAGE_ORG)) == {tree.st_a1, tree.st_b1}
    grant(owner, "org_admin", tree.center)  # the ancestor swallows both
    assert scope.paths(owner, Perm.MANAGE_ORG) == (tree.center.path,)


def test_each_role_grants_its_permissions_only(tree):
    from leifeng.testing import make_user

    leader = make_user("leader", role="team_leader", org=tree.st_a1)
    assert scope.allows(leader, Perm.LEAD_TEAM, tree.st_a1)
    assert not scope.has_any(leader, Perm.VIEW)
    volunteer = make_user("vol", role="volunteer", org=tree.st_a1)
    assert all(not scope.has_any(volunteer, perm) for perm in Perm)


def test_assessor_reads_the_subtree_but_changes_approves_and_audits_nothing(tree, assessor):
    for perm in (Perm.CHANGE, Perm.APPROVE, Perm.VIEW_ID, Perm.MANAGE_ORG, Perm.AUDIT):
        assert not scope.has_any(assessor, perm), perm
    assert set(org_policy.orgs(assessor)) == {tree.sub_a, tree.st_a1, tree.st_a2}


def test_staff_changes_but_does_not_manage_or_audit(tree, colleague):
    assert scope.allows(colleague, Perm.CHANGE, tree.st_a1)
    assert scope.allows(colleague, Perm.VIEW_ID, tree.st_a1)
    assert not scope.has_any(colleague, Perm.MANAGE_ORG)
    assert not scope.has_any(colleague, Perm.AUDIT)


def test_roles_are_loaded_once_per_actor_and_forget_reloads(tree, owner, django_assert_num_queries):
    from leifeng.testing import grant

    scope.forget(owner)
    with django_assert_num_queries(1):
        scope.paths(owner, Perm.VIEW)
        scope.paths(owner, Perm.AUDIT)
        scope.has_any(owner, Perm.MANAGE_ORG)
    grant(owner, "org_admin", tree.sub_a)  # grant() forgets the cache, as services do
    assert scope.paths(owner, Perm.VIEW) == (tree.sub_a.path,)


def test_scoped_filters_through_a_foreign_key(tree, owner, outsider):
    from leifeng.accounts.models import RoleAssignment

    visible = scope.scoped(RoleAssignment.objects.all(), owner, Perm.MANAGE_ORG)
    assert {ra.user for ra in visible} == {owner}
    assert not scope.scoped(RoleAssignment.objects.all(), outsider, Perm.VIEW).filter(user=owner).exists()


def test_everywhere_survives_being_ored_with_a_narrower_condition(tree, owner):
    """`scope.q(...) | own` is how selectors add "and my own"; for the operator it must still mean everything
    (Django drops an *empty* Q from an OR, which once hid other nodes' certificates and orders from the operator)."""
    from django.db.models import Q

    from leifeng.testing import make_platform_admin

    operator = make_platform_admin(org=tree.st_b1)
    mine_only = Q(pk=tree.st_a1.pk)
    everything = Org.objects.filter(scope.q(operator, Perm.VIEW, field="") | mine_only)
    assert set(everything) == set(Org.objects.all())
    assert set(Org.objects.filter(scope.q(owner, Perm.VIEW, field="") | mine_only)) == set(
        Org.objects.filter(path__startswith=tree.st_a1.path)
    )
