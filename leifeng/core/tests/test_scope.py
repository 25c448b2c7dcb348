import pytest
from django.http import Http404

from leifeng.core import scope
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org


def test_role_reaches_subtree_only(tree, owner, outsider, center_admin):
    assert set(scope.orgs(owner)) == {tree.st_a1}
    assert set(scope.orgs(outsider)) == {tree.st_b1}
    assert set(scope.orgs(center_admin)) == set(Org.objects.all())


def test_nested_roles_collapse_to_the_ancestor(tree, owner):
    from leifeng.core.testing import grant

    grant(owner, "org_staff", tree.sub_a)
    assert scope.paths(owner, Perm.VIEW) == (tree.sub_a.path,)
    assert set(scope.orgs(owner)) == {tree.sub_a, tree.st_a1, tree.st_a2}


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

    assert scope.orgs(AnonymousUser()).count() == 0
