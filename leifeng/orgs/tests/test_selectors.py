import pytest
from django.http import Http404

from leifeng.orgs import selectors, services
from leifeng.orgs.models import LeadingGroupRole, OrgLevel, PositionTitle, UnitKind
from leifeng.orgs.selectors import UnitFilters
from leifeng.testing import TeamFactory, VolunteerFactory


def shape(nodes) -> list:
    """The tree as nested (name, [children]) pairs, easy to compare."""
    return [(n.org.name, shape(n.children)) for n in nodes]


# --- org_tree ------------------------------------------------------------------------------------


def test_tree_is_nested_from_one_query(tree, center_admin, django_assert_num_queries):
    center_admin._leifeng_roles = None  # make the role lookup part of the count
    with django_assert_num_queries(2):  # 1 the actor's roles, 2 every visible node with its counts
        roots = selectors.org_tree(actor=center_admin)
    assert shape(roots) == [
        (
            "县新时代文明实践中心",
            [
                ("城关镇分中心", [("北村站", [])]),
                ("长安街道分中心", [("东关社区站", []), ("西街社区站", [])]),
            ],
        )
    ]


def test_tree_roots_are_the_actors_subtrees(tree, owner, outsider, assessor):
    assert shape(selectors.org_tree(actor=owner)) == [("东关社区站", [])]
    assert shape(selectors.org_tree(actor=outsider)) == [("北村站", [])]
    assert shape(selectors.org_tree(actor=assessor)) == [("长安街道分中心", [("东关社区站", []), ("西街社区站", [])])]


def test_tree_with_two_separate_subtrees(tree, owner):
    from leifeng.testing import grant

    grant(owner, "org_staff", tree.st_b1)
    assert shape(selectors.org_tree(actor=owner)) == [("北村站", []), ("东关社区站", [])]


def test_tree_counts_own_and_subtree(tree, center_admin, owner):
    point = services.org_create(actor=owner, parent=tree.st_a1, name="东关实践点", level=OrgLevel.POINT)
    VolunteerFactory(org=tree.st_a1)
    VolunteerFactory(org=point)
    VolunteerFactory(org=point)
    VolunteerFactory(org=point, status="pending")
    TeamFactory(org=point)
    TeamFactory(org=point, is_active=False)
    TeamFactory(org=tree.st_b1)
    [center] = selectors.org_tree(actor=center_admin)
    assert (center.volunteers, center.volunteers_total, center.teams_total, center.node_total) == (0, 3, 2, 7)
    sub_a = center.children[1]
    st_a1 = sub_a.children[0]
    assert (st_a1.volunteers, st_a1.volunteers_total, st_a1.teams, st_a1.teams_total) == (1, 3, 0, 1)
    assert (st_a1.children[0].volunteers, st_a1.children[0].teams) == (2, 1)


# --- org_list / org_get / choices ----------------------------------------------------------------


def test_org_list_and_get(tree, owner, center_admin):
    rows = list(selectors.org_list(actor=center_admin, parent_id=tree.sub_a.pk))
    assert [(o.name, o.parent_id) for o in rows] == [("东关社区站", tree.sub_a.pk), ("西街社区站", tree.sub_a.pk)]
    assert [o.name for o in selectors.org_list(actor=center_admin, level=OrgLevel.SUBCENTER)] == [
        "城关镇分中心",
        "长安街道分中心",
    ]
    assert list(selectors.org_list(actor=owner, parent_id=tree.center.pk)) == []
    assert selectors.org_get(actor=center_admin, pk=tree.center.pk).parent_id is None
    with pytest.raises(Http404):
        selectors.org_get(actor=owner, pk=tree.sub_a.pk)


def test_move_targets(tree, center_admin, owner):
    targets = {o.name for o in selectors.move_targets(actor=center_admin, org=tree.st_a1)}
    assert targets == {"县新时代文明实践中心", "城关镇分中心"}  # not its parent, not stations, not itself
    assert {o.name for o in selectors.move_targets(actor=center_admin, org=tree.sub_a)} == set()
    point = services.org_create(actor=owner, parent=tree.st_a1, name="点", level=OrgLevel.POINT)
    assert list(selectors.move_targets(actor=owner, org=point)) == []  # owner manages only the parent


def test_levels_allowed_for(tree):
    assert selectors.levels_allowed_for(org=tree.st_a1) == ["station", "point"]
    assert selectors.levels_allowed_for(org=tree.center) == ["center", "subcenter", "station", "point"]


# --- units ---------------------------------------------------------------------------------------


@pytest.fixture
def units(tree, center_admin):
    school = services.unit_create(actor=center_admin, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)
    services.unit_create(actor=center_admin, org=tree.st_a1, parent=school, name="1001班", kind=UnitKind.SCHOOL)
    services.unit_create(actor=center_admin, org=tree.st_a2, name="西街社区卫生服务站", kind=UnitKind.HOSPITAL)
    services.unit_create(actor=center_admin, org=tree.st_b1, name="北村小学", kind=UnitKind.SCHOOL)
    return school


def unit_names(actor, **filters) -> list[str]:
    return [u.name for u in selectors.unit_list(actor=actor, filters=UnitFilters(**filters))]


def test_unit_list_scope_and_filters(tree, units, owner, assessor, center_admin):
    assert unit_names(owner) == ["东关中学", "1001班"]  # a class right after its school
    assert unit_names(assessor) == ["东关中学", "1001班", "西街社区卫生服务站"]
    assert unit_names(center_admin, kind="school") == ["东关中学", "1001班", "北村小学"]
    assert unit_names(center_admin, q="小学") == ["北村小学"]
    assert unit_names(center_admin, q="东关中学") == ["东关中学", "1001班"]  # a school finds its classes
    assert unit_names(center_admin, org_id=tree.sub_a.pk) == ["东关中学", "1001班", "西街社区卫生服务站"]
    assert unit_names(owner, org_id=tree.st_b1.pk) == []  # a node out of scope filters to nothing


def test_unit_filters_from_params():
    assert UnitFilters.from_params({"q": " 中学 ", "kind": "school", "org": "12"}) == UnitFilters("中学", "school", 12)
    assert UnitFilters.from_params({"org": "abc"}).org_id is None


def test_unit_get_and_parent_choices(tree, units, owner, outsider, assessor):
    assert selectors.unit_get(actor=owner, pk=units.pk) == units
    with pytest.raises(Http404):
        selectors.unit_get(actor=outsider, pk=units.pk)
    assert [u.name for u in selectors.unit_parent_choices(actor=owner)] == ["东关中学"]  # classes cannot nest
    assert list(selectors.unit_parent_choices(actor=assessor)) == []  # read-only


# --- positions and leading groups ----------------------------------------------------------------


def test_positions_in_title_order(tree, owner):
    for title, name in [
        (PositionTitle.MEMBER, "成员甲"),
        (PositionTitle.SPECIALIST, "专管员乙"),
        (PositionTitle.STATION_HEAD, "站长丙"),
        (PositionTitle.DEPUTY_STATION_HEAD, "副站长丁"),
    ]:
        services.position_create(actor=owner, org=tree.st_a1, title=title, person_name=name)
    assert [p.person_name for p in selectors.positions_of(org=tree.st_a1)] == [
        "站长丙",
        "副站长丁",
        "专管员乙",
        "成员甲",
    ]


def test_leading_group_members_leader_first(tree, owner, outsider):
    group = services.leading_group_create(actor=owner, org=tree.st_a1, name="领导小组")
    for role, name in [
        (LeadingGroupRole.MEMBER, "成员"),
        (LeadingGroupRole.OFFICE_HEAD, "办公室主任"),
        (LeadingGroupRole.DEPUTY, "副组长"),
        (LeadingGroupRole.LEADER, "组长"),
    ]:
        services.leading_group_member_add(actor=owner, group=group, role=role, person_name=name)
    [listed] = selectors.leading_groups_of(org=tree.st_a1)
    assert [m.person_name for m in listed.sorted_members] == ["组长", "副组长", "成员", "办公室主任"]
    with pytest.raises(Http404):
        selectors.leading_group_get(actor=outsider, pk=group.pk)
    member = group.members.first()
    with pytest.raises(Http404):
        selectors.leading_group_member_get(actor=outsider, pk=member.pk)
    assert selectors.leading_group_member_get(actor=owner, pk=member.pk) == member


def test_org_detail_shows_only_ancestors_in_scope(tree, owner, assessor, center_admin):
    assert selectors.org_detail(actor=owner, pk=tree.st_a1.pk).ancestors == []
    assert [a.name for a in selectors.org_detail(actor=assessor, pk=tree.st_a1.pk).ancestors] == ["长安街道分中心"]
    detail = selectors.org_detail(actor=center_admin, pk=tree.st_a1.pk)
    assert [a.name for a in detail.ancestors] == ["县新时代文明实践中心", "长安街道分中心"]
    assert [c.name for c in selectors.org_detail(actor=center_admin, pk=tree.sub_a.pk).children] == [
        "东关社区站",
        "西街社区站",
    ]


def test_counts_per_node_are_registered_by_the_apps_that_own_the_rows():
    """orgs sits below people and teams: they register what a node counts, orgs reads it through reverse relations."""
    from leifeng.orgs.selectors import NODE_COUNTS

    assert NODE_COUNTS["volunteer_count"][0] == "volunteers"
    assert NODE_COUNTS["team_count"][0] == "teams"
