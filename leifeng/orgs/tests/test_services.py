import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied, ServiceError
from leifeng.core.models import AuditEvent
from leifeng.orgs import policy as org_policy
from leifeng.orgs import services
from leifeng.orgs.models import LeadingGroup, LeadingGroupRole, Org, OrgLevel, Position, PositionTitle, Unit, UnitKind
from leifeng.orgs.tests.conftest import make_uscc
from leifeng.testing import TeamFactory, VolunteerFactory


@pytest.fixture(autouse=True)
def english():
    """Messages are compared in the source language here; the page tests check the Chinese ones."""
    with translation.override("en"):
        yield


def fresh(org: Org) -> Org:
    return Org.objects.get(pk=org.pk)


def children_names(org: Org) -> list[str]:
    return [o.name for o in Org.objects.get_children(fresh(org))]


def assert_tree_sound() -> None:
    """treebeard's own consistency check: no bad paths, orphans, wrong depths or child counts."""
    assert Org.objects.find_problems() == ([], [], [], [], [])


# --- org_create ----------------------------------------------------------------------------------


def test_owner_adds_a_point_under_their_station(tree, owner):
    point = services.org_create(
        actor=owner, parent=tree.st_a1, name=" 东关广场实践点 ", level=OrgLevel.POINT, contact_phone="0371-6688 1234"
    )
    assert point.name == "东关广场实践点"
    assert point.path.startswith(tree.st_a1.path) and point.depth == tree.st_a1.depth + 1
    assert fresh(tree.st_a1).numchild == 1
    event = AuditEvent.objects.get(action="org.create")
    assert event.actor == owner and event.org_id == point.pk
    assert event.changes["name"] == [None, "东关广场实践点"]
    assert_tree_sound()


def test_a_station_may_sit_directly_under_the_center(tree, center_admin):
    station = services.org_create(actor=center_admin, parent=tree.center, name="县直属站", level=OrgLevel.STATION)
    assert station.depth == 2


@pytest.mark.parametrize(
    ("parent_attr", "level"),
    [("st_a1", OrgLevel.STATION), ("st_a1", OrgLevel.SUBCENTER), ("sub_a", OrgLevel.CENTER), ("sub_a", "county")],
)
def test_child_level_must_be_below_the_parent(tree, center_admin, parent_attr, level):
    with pytest.raises(ValidationError) as exc:
        services.org_create(actor=center_admin, parent=getattr(tree, parent_attr), name="新节点", level=level)
    assert "level" in exc.value.error_dict
    assert not Org.objects.filter(name="新节点").exists()


def test_create_needs_manage_org_at_the_parent(tree, owner, colleague, assessor, outsider):
    with pytest.raises(PermissionDenied):  # staff see the station but do not edit the tree
        services.org_create(actor=colleague, parent=tree.st_a1, name="点", level=OrgLevel.POINT)
    with pytest.raises(PermissionDenied):  # assessors read only
        services.org_create(actor=assessor, parent=tree.st_a2, name="点", level=OrgLevel.POINT)
    with pytest.raises(NotFound):  # out of scope looks missing
        services.org_create(actor=outsider, parent=tree.st_a1, name="点", level=OrgLevel.POINT)
    with pytest.raises(NotFound):
        services.org_create(actor=owner, parent=tree.st_a2, name="点", level=OrgLevel.POINT)
    assert not Org.objects.filter(name="点").exists()


def test_only_a_platform_admin_creates_roots(tree, center_admin, platform_admin):
    with pytest.raises(PermissionDenied):
        services.org_create(actor=center_admin, parent=None, name="邻县中心", level=OrgLevel.CENTER)
    root = services.org_create(actor=platform_admin, parent=None, name="邻县中心", level=OrgLevel.CENTER)
    assert root.depth == 1
    assert_tree_sound()


@pytest.mark.parametrize(("raw", "stored"), [("410102", "410102"), ("4101 0200 1001", "410102001001"), ("", "")])
def test_division_code_of_6_or_12_digits(tree, center_admin, raw, stored):
    org = services.org_create(
        actor=center_admin, parent=tree.sub_a, name="南关社区站", level=OrgLevel.STATION, division_code=raw
    )
    assert org.division_code == stored


@pytest.mark.parametrize("raw", ["41010", "4101021", "41010200100", "41010A", "4101020010011"])
def test_other_division_codes_are_refused(tree, center_admin, raw):
    with pytest.raises(ValidationError) as exc:
        services.org_create(
            actor=center_admin, parent=tree.sub_a, name="南关社区站", level=OrgLevel.STATION, division_code=raw
        )
    assert exc.value.message_dict["division_code"] == ["Administrative division code must be 6 or 12 digits."]


def test_create_refuses_blank_names_bad_phones_and_twin_siblings(tree, center_admin):
    with pytest.raises(ValidationError) as exc:
        services.org_create(actor=center_admin, parent=tree.sub_a, name="  ", level=OrgLevel.STATION)
    assert "name" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.org_create(
            actor=center_admin, parent=tree.sub_a, name="南关站", level=OrgLevel.STATION, contact_phone="call me"
        )
    assert "contact_phone" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.org_create(actor=center_admin, parent=tree.sub_a, name="东关社区站", level=OrgLevel.STATION)
    assert "name" in exc.value.error_dict
    # the same name elsewhere in the tree is fine
    services.org_create(actor=center_admin, parent=tree.sub_b, name="东关社区站", level=OrgLevel.STATION)


# --- org_update ----------------------------------------------------------------------------------


def test_owner_edits_their_station_and_the_change_is_audited(tree, owner):
    org = services.org_update(actor=owner, org=tree.st_a1, address="东关街1号", contact_name="李站长")
    assert fresh(org).address == "东关街1号"
    event = AuditEvent.objects.get(action="org.update")
    assert event.changes == {"address": ["", "东关街1号"], "contact_name": ["", "李站长"]}


def test_update_without_changes_writes_no_audit(tree, owner):
    services.org_update(actor=owner, org=tree.st_a1, name="东关社区站")
    assert not AuditEvent.objects.filter(action="org.update").exists()


def test_update_permissions(tree, colleague, outsider, owner):
    with pytest.raises(PermissionDenied):
        services.org_update(actor=colleague, org=tree.st_a1, address="x")
    with pytest.raises(NotFound):
        services.org_update(actor=outsider, org=tree.st_a1, address="x")
    with pytest.raises(NotFound):
        services.org_update(actor=owner, org=tree.sub_a, address="x")
    assert fresh(tree.st_a1).address == ""


def test_level_change_stays_between_parent_and_children(tree, center_admin):
    with pytest.raises(ValidationError) as exc:  # its stations would no longer be below it
        services.org_update(actor=center_admin, org=tree.sub_a, level=OrgLevel.STATION)
    assert "level" in exc.value.error_dict
    with pytest.raises(ValidationError):  # not above its sub-center parent
        services.org_update(actor=center_admin, org=tree.st_a1, level=OrgLevel.SUBCENTER)
    assert services.org_update(actor=center_admin, org=tree.st_a1, level=OrgLevel.POINT).level == OrgLevel.POINT


def test_rename_keeps_siblings_in_name_order_and_scopes_follow(tree, center_admin, owner):
    point = services.org_create(actor=owner, parent=tree.st_a1, name="东关实践点", level=OrgLevel.POINT)
    assert children_names(tree.sub_a) == ["东关社区站", "西街社区站"]
    services.org_update(actor=center_admin, org=tree.st_a2, name="丁字街社区站")  # 丁 sorts before 东
    assert children_names(tree.sub_a) == ["丁字街社区站", "东关社区站"]
    assert_tree_sound()
    # the owner's role still reaches exactly their station and its point
    again = type(owner).objects.get(pk=owner.pk)
    assert set(org_policy.orgs(again)) == {fresh(tree.st_a1), fresh(point)}


def test_renaming_a_root_resorts_the_roots(tree, platform_admin, owner):
    other = services.org_create(actor=platform_admin, parent=None, name="邻县中心", level=OrgLevel.CENTER)
    assert [o.name for o in Org.objects.get_root_nodes()] == ["县新时代文明实践中心", "邻县中心"]
    services.org_update(actor=platform_admin, org=other, name="东县中心")  # 东 sorts before 县
    assert [o.name for o in Org.objects.get_root_nodes()] == ["东县中心", "县新时代文明实践中心"]
    assert_tree_sound()
    again = type(owner).objects.get(pk=owner.pk)
    assert set(org_policy.orgs(again)) == {fresh(tree.st_a1)}  # the whole county shifted; the role followed


def test_rename_to_a_sibling_name_is_refused(tree, center_admin):
    with pytest.raises(ValidationError):
        services.org_update(actor=center_admin, org=tree.st_a2, name="东关社区站")


# --- org_move ------------------------------------------------------------------------------------


@pytest.fixture
def st_a2_with_points(tree, center_admin):
    p1 = services.org_create(actor=center_admin, parent=tree.st_a2, name="西街一号点", level=OrgLevel.POINT)
    p2 = services.org_create(actor=center_admin, parent=tree.st_a2, name="西街二号点", level=OrgLevel.POINT)
    return p1, p2


def test_move_carries_the_subtree(tree, center_admin, st_a2_with_points):
    p1, p2 = st_a2_with_points
    volunteer = VolunteerFactory(org=p1)
    sub_b_admin = testing.make_user("sub_b_admin", role=Role.ORG_ADMIN, org=tree.sub_b)

    moved = services.org_move(actor=center_admin, org=tree.st_a2, new_parent=tree.sub_b)

    assert moved.path.startswith(fresh(tree.sub_b).path) and moved.depth == 3
    for point in (p1, p2):
        point = fresh(point)
        assert point.path.startswith(moved.path) and point.depth == 4
    assert children_names(tree.sub_b) == ["北村站", "西街社区站"]
    assert children_names(tree.sub_a) == ["东关社区站"]
    assert (fresh(tree.sub_a).numchild, fresh(tree.sub_b).numchild) == (1, 2)
    assert_tree_sound()
    # scope follows the path: the volunteer at the moved point now belongs to sub_b's subtree
    assert scope.allows(sub_b_admin, scope.Perm.VIEW, fresh(p1))
    assert volunteer in scope.scoped(type(volunteer).objects.all(), sub_b_admin)
    event = AuditEvent.objects.get(action="org.move")
    assert event.changes["parent"] == [tree.sub_a.pk, tree.sub_b.pk]
    assert event.note == "3 nodes moved"


def test_move_up_past_shifting_siblings_keeps_the_tree_sound(tree, center_admin, owner):
    # 东关 sorts before 城关 and 长安 under the center, so the old branch shifts while the node moves out of it
    point = services.org_create(actor=owner, parent=tree.st_a1, name="东关实践点", level=OrgLevel.POINT)
    moved = services.org_move(actor=center_admin, org=tree.st_a1, new_parent=tree.center)
    assert children_names(tree.center) == ["东关社区站", "城关镇分中心", "长安街道分中心"]
    assert fresh(point).path.startswith(moved.path)
    assert children_names(tree.sub_a) == ["西街社区站"]
    assert_tree_sound()


def test_move_into_own_subtree_is_refused(tree, center_admin):
    for target in (tree.st_a1, tree.sub_a):
        with pytest.raises(ServiceError) as exc:
            services.org_move(actor=center_admin, org=tree.sub_a, new_parent=target)
        assert exc.value.code == "move_into_subtree"
    assert fresh(tree.st_a1).path.startswith(fresh(tree.sub_a).path)


def test_move_under_same_or_deeper_level_is_refused(tree, center_admin, owner):
    point = services.org_create(actor=owner, parent=tree.st_a1, name="点", level=OrgLevel.POINT)
    for target in (tree.st_b1, point):
        with pytest.raises(ServiceError) as exc:
            services.org_move(actor=center_admin, org=tree.st_a2, new_parent=target)
        assert exc.value.code == "level_order"
    with pytest.raises(ServiceError):
        services.org_move(actor=center_admin, org=tree.sub_a, new_parent=tree.sub_b)
    assert_tree_sound()
    assert not AuditEvent.objects.filter(action="org.move").exists()


def test_move_needs_manage_org_at_both_ends(tree, colleague, outsider):
    sub_a_admin = testing.make_user("sub_a_admin", role=Role.ORG_ADMIN, org=tree.sub_a)
    with pytest.raises(NotFound):  # may manage the node, but the target is outside their subtree
        services.org_move(actor=sub_a_admin, org=tree.st_a2, new_parent=tree.sub_b)
    with pytest.raises(PermissionDenied):
        services.org_move(actor=colleague, org=tree.st_a1, new_parent=tree.sub_a)
    with pytest.raises(NotFound):
        services.org_move(actor=outsider, org=tree.st_a1, new_parent=tree.sub_b)
    assert fresh(tree.st_a2).path.startswith(fresh(tree.sub_a).path)


def test_move_to_the_current_parent_changes_nothing(tree, center_admin):
    path = tree.st_a1.path
    services.org_move(actor=center_admin, org=tree.st_a1, new_parent=tree.sub_a)
    assert fresh(tree.st_a1).path == path
    assert not AuditEvent.objects.filter(action="org.move").exists()


def test_move_refuses_a_name_clash_at_the_target(tree, center_admin):
    services.org_create(actor=center_admin, parent=tree.sub_b, name="西街社区站", level=OrgLevel.STATION)
    with pytest.raises(ValidationError):
        services.org_move(actor=center_admin, org=tree.st_a2, new_parent=tree.sub_b)


# --- org_delete ----------------------------------------------------------------------------------


def test_delete_an_empty_node(tree, owner):
    point = services.org_create(actor=owner, parent=tree.st_a1, name="临时点", level=OrgLevel.POINT)
    services.org_delete(actor=owner, org=point)
    assert not Org.objects.filter(pk=point.pk).exists()
    assert fresh(tree.st_a1).numchild == 0
    event = AuditEvent.objects.get(action="org.delete")
    assert event.org_id == tree.st_a1.pk and event.object_id == str(point.pk)
    assert_tree_sound()


def test_delete_refuses_nodes_that_still_hold_something(tree, center_admin):
    with pytest.raises(ServiceError) as exc:
        services.org_delete(actor=center_admin, org=tree.sub_a)
    assert exc.value.code == "not_empty" and "2 child nodes" in exc.value.message

    VolunteerFactory(org=tree.st_a2)
    VolunteerFactory(org=tree.st_a2)
    TeamFactory(org=tree.st_a2)
    services.unit_create(actor=center_admin, org=tree.st_a2, name="西街小学", kind=UnitKind.SCHOOL)
    testing.make_user("staff2", role=Role.ORG_STAFF, org=tree.st_a2)
    with pytest.raises(ServiceError) as exc:
        services.org_delete(actor=center_admin, org=tree.st_a2)
    assert (
        exc.value.message
        == "西街社区站 still has 2 volunteers, 1 team, 1 unit, 1 account role; move or remove them first."
    )
    assert Org.objects.filter(pk=tree.st_a2.pk).exists()


def test_delete_is_for_whoever_manages_the_parent(tree, owner, outsider, center_admin, platform_admin):
    with pytest.raises(PermissionDenied):  # the station head cannot remove their own station
        services.org_delete(actor=owner, org=tree.st_a1)
    with pytest.raises(NotFound):
        services.org_delete(actor=outsider, org=tree.st_a1)
    with pytest.raises(PermissionDenied):  # roots belong to the platform admin
        services.org_delete(actor=center_admin, org=tree.center)
    root = services.org_create(actor=platform_admin, parent=None, name="空中心", level=OrgLevel.CENTER)
    services.org_delete(actor=platform_admin, org=root)
    assert not Org.objects.filter(pk=root.pk).exists()


# --- units ---------------------------------------------------------------------------------------


def test_unit_with_a_valid_credit_code(tree, colleague):
    code = make_uscc(1)
    unit = services.unit_create(
        actor=colleague,
        org=tree.st_a1,
        name="东关中学",
        kind=UnitKind.SCHOOL,
        credit_code=f" {code[:9].lower()}-{code[9:]}",
    )
    assert unit.credit_code == code
    assert AuditEvent.objects.get(action="unit.create").org_id == tree.st_a1.pk


def test_unit_credit_code_is_validated(tree, colleague):
    code = make_uscc(2)
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        services.unit_create(actor=colleague, org=tree.st_a1, name="某企业", kind=UnitKind.ENTERPRISE, credit_code=bad)
    assert exc.value.message_dict["credit_code"] == [
        "Unified social credit code is not valid: 18 digits or capital letters, the last one a check digit."
    ]


def test_unit_credit_code_is_unique_with_a_clear_error(tree, colleague, center_admin):
    code = make_uscc(3)
    services.unit_create(
        actor=center_admin, org=tree.st_b1, name="北村卫生院", kind=UnitKind.HOSPITAL, credit_code=code
    )
    with pytest.raises(ServiceError) as exc:
        services.unit_create(actor=colleague, org=tree.st_a1, name="东关医院", kind=UnitKind.HOSPITAL, credit_code=code)
    assert (exc.value.code, exc.value.field) == ("credit_code_taken", "credit_code")
    assert "北村" not in exc.value.message  # says nothing about the out-of-scope holder
    # units without a code do not collide
    services.unit_create(actor=colleague, org=tree.st_a1, name="一班", kind=UnitKind.SCHOOL)
    services.unit_create(actor=colleague, org=tree.st_a1, name="二班", kind=UnitKind.SCHOOL)


def test_unit_permissions(tree, assessor, outsider, colleague):
    with pytest.raises(PermissionDenied):
        services.unit_create(actor=assessor, org=tree.st_a1, name="某单位", kind=UnitKind.AGENCY)
    with pytest.raises(NotFound):
        services.unit_create(actor=outsider, org=tree.st_a1, name="某单位", kind=UnitKind.AGENCY)
    unit = services.unit_create(actor=colleague, org=tree.st_a1, name="某单位", kind=UnitKind.AGENCY)
    with pytest.raises(NotFound):
        services.unit_update(actor=outsider, unit=unit, name="改名")
    with pytest.raises(NotFound):  # cannot push a unit into another subtree
        services.unit_update(actor=colleague, unit=unit, org=tree.st_b1)
    assert Unit.objects.get(pk=unit.pk).name == "某单位"


def test_unit_requires_a_known_kind_and_a_name(tree, colleague):
    with pytest.raises(ValidationError) as exc:
        services.unit_create(actor=colleague, org=tree.st_a1, name="", kind="church")
    assert set(exc.value.error_dict) == {"name", "kind"}


def test_class_under_a_school(tree, colleague, center_admin):
    school = services.unit_create(actor=colleague, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)
    klass = services.unit_create(actor=colleague, org=tree.st_a1, parent=school, name="1001班", kind=UnitKind.SCHOOL)
    assert klass.parent == school
    with pytest.raises(ValidationError) as exc:  # one level only
        services.unit_create(actor=colleague, org=tree.st_a1, parent=klass, name="一组", kind=UnitKind.SCHOOL)
    assert "parent" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:  # same node as the school
        services.unit_create(actor=center_admin, org=tree.st_a2, parent=school, name="1002班", kind=UnitKind.SCHOOL)
    assert "parent" in exc.value.error_dict
    other = services.unit_create(actor=colleague, org=tree.st_a1, name="东关小学", kind=UnitKind.SCHOOL)
    with pytest.raises(ValidationError):  # a school with classes cannot become a class
        services.unit_update(actor=colleague, unit=school, parent=other)
    with pytest.raises(ValidationError):
        services.unit_update(actor=colleague, unit=other, parent=other)


def test_unit_moving_node_takes_its_classes(tree, center_admin):
    school = services.unit_create(actor=center_admin, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)
    klass = services.unit_create(actor=center_admin, org=tree.st_a1, parent=school, name="1001班", kind=UnitKind.SCHOOL)
    services.unit_update(actor=center_admin, unit=school, org=tree.st_a2, contact_phone="13900000000")
    assert Unit.objects.get(pk=klass.pk).org == tree.st_a2
    event = AuditEvent.objects.get(action="unit.update")
    assert event.changes["org"] == [tree.st_a1.pk, tree.st_a2.pk] and event.note == "1 sub-unit moved along"


def test_unit_update_refuses_a_taken_code(tree, colleague):
    services.unit_create(actor=colleague, org=tree.st_a1, name="甲", kind=UnitKind.ENTERPRISE, credit_code=make_uscc(4))
    unit = services.unit_create(actor=colleague, org=tree.st_a1, name="乙", kind=UnitKind.ENTERPRISE)
    with pytest.raises(ServiceError) as exc:
        services.unit_update(actor=colleague, unit=unit, credit_code=make_uscc(4))
    assert exc.value.code == "credit_code_taken"
    assert Unit.objects.get(pk=unit.pk).credit_code == ""


# --- positions and leading groups ----------------------------------------------------------------


def test_positions_lifecycle(tree, owner, colleague):
    pos = services.position_create(
        actor=owner, org=tree.st_a1, title=PositionTitle.STATION_HEAD, person_name="李明", phone="13800000001"
    )
    services.position_update(actor=owner, position=pos, title=PositionTitle.DEPUTY_STATION_HEAD)
    assert Position.objects.get(pk=pos.pk).title == PositionTitle.DEPUTY_STATION_HEAD
    with pytest.raises(PermissionDenied):
        services.position_delete(actor=colleague, position=pos)
    services.position_delete(actor=owner, position=pos)
    assert not Position.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "position.create",
        "position.update",
        "position.delete",
    ]


def test_position_validation_and_scope(tree, owner, outsider, colleague):
    with pytest.raises(ValidationError) as exc:
        services.position_create(actor=owner, org=tree.st_a1, title="boss", person_name="", phone="abc")
    assert set(exc.value.error_dict) == {"title", "person_name", "phone"}
    with pytest.raises(NotFound):
        services.position_create(actor=outsider, org=tree.st_a1, title=PositionTitle.MEMBER, person_name="王")
    with pytest.raises(PermissionDenied):
        services.position_create(actor=colleague, org=tree.st_a1, title=PositionTitle.MEMBER, person_name="王")


def test_leading_group_with_members(tree, owner, colleague, outsider):
    group = services.leading_group_create(actor=owner, org=tree.st_a1, name="学雷锋活动领导小组")
    with pytest.raises(ValidationError):
        services.leading_group_create(actor=owner, org=tree.st_a1, name="学雷锋活动领导小组")
    leader = services.leading_group_member_add(
        actor=owner, group=group, role=LeadingGroupRole.LEADER, person_name="张书记", job_title="党支部书记"
    )
    with pytest.raises(ServiceError) as exc:
        services.leading_group_member_add(actor=owner, group=group, role=LeadingGroupRole.LEADER, person_name="王")
    assert (exc.value.code, exc.value.field) == ("leader_taken", "role")
    services.leading_group_member_add(actor=owner, group=group, role=LeadingGroupRole.DEPUTY, person_name="王主任")
    with pytest.raises(PermissionDenied):
        services.leading_group_member_add(actor=colleague, group=group, role=LeadingGroupRole.MEMBER, person_name="x")
    with pytest.raises(NotFound):
        services.leading_group_member_remove(actor=outsider, member=leader)
    services.leading_group_member_remove(actor=owner, member=leader)
    services.leading_group_member_add(actor=owner, group=group, role=LeadingGroupRole.LEADER, person_name="赵")
    services.leading_group_update(actor=owner, group=group, name="新时代文明实践工作领导小组")
    assert LeadingGroup.objects.get(pk=group.pk).name == "新时代文明实践工作领导小组"
    services.leading_group_delete(actor=owner, group=group)
    assert not LeadingGroup.objects.exists()
    event = AuditEvent.objects.get(action="leading_group.delete")
    assert event.org_id == tree.st_a1.pk and len(event.changes["members"][0]) == 2


def test_leading_group_member_needs_a_valid_role(tree, owner):
    group = services.leading_group_create(actor=owner, org=tree.st_a1, name="领导小组")
    with pytest.raises(ValidationError) as exc:
        services.leading_group_member_add(actor=owner, group=group, role="chief", person_name="")
    assert set(exc.value.error_dict) == {"role", "person_name"}
