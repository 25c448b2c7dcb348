"""people.policy: who sees which volunteers, who may register where, who sees full ID numbers — each rule once."""

import pytest

from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.scope import Perm
from leifeng.people.models import Volunteer
from leifeng.people.policy import volunteer_policy
from leifeng.testing import VolunteerFactory


@pytest.fixture
def here_and_there(tree):
    return VolunteerFactory(org=tree.st_a1), VolunteerFactory(org=tree.st_b1)


def _listed(actor, org_id=None) -> set[int]:
    where = volunteer_policy.list_q(actor, org_id)
    qs = Volunteer.objects.all() if where is None else Volunteer.objects.filter(where)
    return set(qs.values_list("pk", flat=True))


def test_the_list_scope_is_the_actors_subtree(tree, owner, center_admin, here_and_there):
    here, there = here_and_there
    assert _listed(owner) == {here.pk}
    assert _listed(center_admin) == {here.pk, there.pk}
    assert _listed(center_admin, tree.st_b1.pk) == {there.pk}
    assert _listed(owner, tree.st_b1.pk) == set()  # a node out of scope narrows to nothing, not to everything


def test_require_is_404_out_of_sight_and_403_without_the_permission(owner, outsider, assessor, here_and_there):
    here, _ = here_and_there
    volunteer_policy.require(owner, Perm.APPROVE, here)
    with pytest.raises(NotFound):
        volunteer_policy.require(outsider, Perm.APPROVE, here)
    with pytest.raises(PermissionDenied):
        volunteer_policy.require(assessor, Perm.APPROVE, here)  # sees the station, does not approve
    with pytest.raises(NotFound):
        volunteer_policy.require(owner, Perm.VIEW, None)


def test_staff_register_into_their_subtree_anyone_registers_themselves(tree, owner, outsider):
    assert volunteer_policy.may_register_at(owner, tree.st_a1, self_service=False)
    assert not volunteer_policy.may_register_at(outsider, tree.st_a1, self_service=False)
    assert volunteer_policy.may_register_at(None, tree.st_a1, self_service=True)
    assert set(volunteer_policy.stations(owner, Perm.CHANGE)) == {tree.st_a1}
    assert {tree.st_a1, tree.st_a2, tree.st_b1} <= set(volunteer_policy.stations())


def test_full_id_numbers_need_view_id_over_every_row(owner, here_and_there):
    here, there = here_and_there
    assert volunteer_policy.may_view_id(owner, here) and not volunteer_policy.may_view_id(owner, there)
    assert volunteer_policy.all_ids_visible(owner, Volunteer.objects.filter(pk=here.pk))
    assert not volunteer_policy.all_ids_visible(owner, Volunteer.objects.all())  # 北村站's volunteer is not theirs
