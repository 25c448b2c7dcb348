"""The operator's admin pages for the tree open and show the data (treebeard's tree view included)."""

import pytest
from django.urls import reverse

from leifeng.orgs import services
from leifeng.orgs.models import LeadingGroupRole, PositionTitle, UnitKind
from leifeng.testing import make_user


@pytest.fixture
def operator(tree):
    return make_user("root", is_staff=True, is_superuser=True)


def test_admin_pages(tree, client_for, operator):
    school = services.unit_create(actor=operator, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)
    services.position_create(actor=operator, org=tree.st_a1, title=PositionTitle.STATION_HEAD, person_name="李明")
    group = services.leading_group_create(actor=operator, org=tree.st_a1, name="领导小组")
    services.leading_group_member_add(actor=operator, group=group, role=LeadingGroupRole.LEADER, person_name="张书记")
    client = client_for(operator)
    page = client.get(reverse("admin:orgs_org_changelist")).content.decode()
    assert "县新时代文明实践中心" in page  # the top level; the tree view drills down from there
    page = client.get(reverse("admin:orgs_org_change", args=[tree.st_a1.pk])).content.decode()
    assert "treebeard_position" in page and "treebeard_ref_node" in page  # treebeard's move fields
    assert "东关中学" in client.get(reverse("admin:orgs_unit_changelist")).content.decode()
    assert "李明" in client.get(reverse("admin:orgs_position_changelist")).content.decode()
    assert "张书记" in client.get(reverse("admin:orgs_leadinggroup_change", args=[group.pk])).content.decode()
    assert client.get(reverse("admin:orgs_unit_change", args=[school.pk])).status_code == 200
