"""Pages, as each persona sees them (Chinese is the default language, so that is what we assert)."""

import pytest
from django.urls import reverse

from leifeng.core.models import AuditEvent
from leifeng.orgs import services
from leifeng.orgs.models import (
    LeadingGroup,
    LeadingGroupMember,
    LeadingGroupRole,
    Org,
    OrgLevel,
    Position,
    PositionTitle,
    Unit,
    UnitKind,
)
from leifeng.orgs.tests.conftest import make_uscc
from leifeng.testing import TeamFactory, VolunteerFactory


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def point(tree, center_admin):
    return services.org_create(actor=center_admin, parent=tree.st_a1, name="东关广场实践点", level=OrgLevel.POINT)


@pytest.fixture
def school(tree, center_admin):
    return services.unit_create(
        actor=center_admin, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL, credit_code=make_uscc(10)
    )


@pytest.fixture
def group(tree, center_admin):
    group = services.leading_group_create(actor=center_admin, org=tree.st_a1, name="学雷锋活动领导小组")
    services.leading_group_member_add(
        actor=center_admin, group=group, role=LeadingGroupRole.LEADER, person_name="张书记", job_title="党支部书记"
    )
    return group


# --- the tree page -------------------------------------------------------------------------------


def test_tree_shows_each_persona_their_own_subtree(tree, client_for, owner, outsider, center_admin):
    page = html(client_for(owner).get(reverse("orgs:tree")))
    assert "东关社区站" in page and "北村站" not in page and "长安街道分中心" not in page
    page = html(client_for(outsider).get(reverse("orgs:tree")))
    assert "北村站" in page and "东关社区站" not in page
    page = html(client_for(center_admin).get(reverse("orgs:tree")))
    assert all(
        name in page for name in ("县新时代文明实践中心", "长安街道分中心", "东关社区站", "西街社区站", "北村站")
    )
    assert "新时代文明实践中心</span>" in page and "分中心（所）</span>" in page and "实践站</span>" in page
    assert reverse("orgs:org_create_root") not in page  # roots are for the platform admin


def test_tree_counts_volunteers_and_teams_per_subtree(tree, client_for, center_admin, point):
    VolunteerFactory(org=tree.st_a1)
    VolunteerFactory(org=point)
    VolunteerFactory(org=point, status="pending")  # not counted: not a volunteer yet
    TeamFactory(org=tree.st_a1)
    page = html(client_for(center_admin).get(reverse("orgs:tree")))
    assert "2 名志愿者 · 1 支队伍" in page  # 东关社区站 with its point
    assert "1 名志愿者 · 0 支队伍" in page  # the point alone


def test_tree_query_count_does_not_grow_with_nodes(tree, client_for, center_admin, django_assert_num_queries):
    client = client_for(center_admin)
    client.get(reverse("orgs:tree"))  # warm up the session

    def expected():
        # 1 session with its account, roles (scope, cached for the request) and the menu's
        # "has a volunteer profile?" flag (accounts.middleware),
        # 2 the whole visible tree with volunteer and team counts as correlated subqueries
        return django_assert_num_queries(2)

    with expected():
        assert client.get(reverse("orgs:tree")).status_code == 200
    for i in range(15):
        services.org_create(actor=center_admin, parent=tree.st_a2, name=f"西街{i}号点", level=OrgLevel.POINT)
        VolunteerFactory(org=tree.st_a2)
    with expected():
        page = html(client.get(reverse("orgs:tree")))
    assert "西街14号点" in page


def test_tree_for_someone_without_nodes(tree, client, db):
    from leifeng.testing import make_user

    client.force_login(make_user("plain"))
    assert "没有可查看的组织节点" in html(client.get(reverse("orgs:tree")))


def test_tree_needs_login(client, tree):
    assert client.get(reverse("orgs:tree")).status_code == 302


# --- node pages ----------------------------------------------------------------------------------


def test_node_detail_for_the_three_personas(tree, client_for, owner, colleague, outsider, point, school, group):
    url = reverse("orgs:org_detail", args=[tree.st_a1.pk])
    page = html(client_for(owner).get(url))
    assert "东关广场实践点" in page and "东关中学" in page and "张书记" in page and "组长" in page
    assert reverse("orgs:org_edit", args=[tree.st_a1.pk]) in page
    assert reverse("orgs:org_delete", args=[tree.st_a1.pk]) not in page  # only from the node above

    page = html(client_for(colleague).get(url))
    assert "东关中学" in page
    assert reverse("orgs:org_edit", args=[tree.st_a1.pk]) not in page
    assert reverse("orgs:unit_create") in page  # staff enter units

    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).get(reverse("orgs:org_detail", args=[point.pk])).status_code == 404
    assert client_for(owner).get(reverse("orgs:org_detail", args=[999999])).status_code == 404


def test_node_detail_query_count_does_not_grow(tree, client_for, center_admin, django_assert_num_queries):
    client = client_for(center_admin)
    url = reverse("orgs:org_detail", args=[tree.st_a1.pk])
    client.get(url)

    def add_rows(n: int, start: int) -> None:
        for i in range(start, start + n):
            services.org_create(actor=center_admin, parent=tree.st_a1, name=f"实践点{i}", level=OrgLevel.POINT)
            services.unit_create(actor=center_admin, org=tree.st_a1, name=f"单位{i}", kind=UnitKind.ENTERPRISE)
            services.position_create(
                actor=center_admin, org=tree.st_a1, title=PositionTitle.MEMBER, person_name=f"成员{i}"
            )
            group = services.leading_group_create(actor=center_admin, org=tree.st_a1, name=f"小组{i}")
            services.leading_group_member_add(
                actor=center_admin, group=group, role=LeadingGroupRole.MEMBER, person_name=f"组员{i}"
            )

    def expected():
        # 1 session with its account, roles and volunteer flag (accounts.middleware),
        # 2 the node (parent_id as a subquery), 3 its ancestors in scope, 4 children with volunteer and team
        # counts, 5 units with their parent unit, 6 positions, 7 leading groups, 8 their members (one prefetch)
        return django_assert_num_queries(8)

    add_rows(1, 0)
    with expected():
        client.get(url)
    add_rows(10, 1)
    with expected():
        page = html(client.get(url))
    assert "实践点10" in page and "单位10" in page and "成员10" in page and "组员10" in page


def test_assessor_reads_but_sees_no_edit_actions(tree, client_for, assessor):
    response = client_for(assessor).get(reverse("orgs:org_detail", args=[tree.st_a2.pk]))
    assert response.status_code == 200
    page = html(response)
    for name in ("org_edit", "org_move", "org_create", "position_create", "leading_group_create"):
        assert reverse(f"orgs:{name}", args=[tree.st_a2.pk]) not in page
    assert client_for(assessor).get(reverse("orgs:org_edit", args=[tree.st_a2.pk])).status_code == 403
    assert client_for(assessor).get(reverse("orgs:org_detail", args=[tree.st_b1.pk])).status_code == 404


def test_owner_adds_a_point(tree, client_for, owner):
    url = reverse("orgs:org_create", args=[tree.st_a1.pk])
    client = client_for(owner)
    page = html(client.get(url))
    assert '<option value="point"' in page and '<option value="station"' not in page
    response = client.post(url, {"name": "东关广场实践点", "level": "point", "division_code": "410102001001"})
    point = Org.objects.get(name="东关广场实践点")
    assert response.status_code == 302 and response.url == reverse("orgs:org_detail", args=[point.pk])
    assert point.path.startswith(tree.st_a1.path)


def test_create_shows_service_errors_on_the_form(tree, client_for, owner):
    response = client_for(owner).post(
        reverse("orgs:org_create", args=[tree.st_a1.pk]), {"name": "点", "level": "point", "division_code": "1234"}
    )
    assert response.status_code == 200
    assert "行政区划代码须为 6 位或 12 位数字" in html(response)
    assert not Org.objects.filter(name="点").exists()


def test_create_child_for_the_personas(tree, client_for, colleague, outsider):
    url = reverse("orgs:org_create", args=[tree.st_a1.pk])
    assert client_for(colleague).get(url).status_code == 403
    assert client_for(colleague).post(url, {"name": "点", "level": "point"}).status_code == 403
    assert client_for(outsider).post(url, {"name": "点", "level": "point"}).status_code == 404
    assert client_for(outsider).get(reverse("orgs:org_create_root")).status_code == 403
    assert not Org.objects.filter(name="点").exists()


def test_platform_admin_adds_a_root(tree, client_for, platform_admin):
    client = client_for(platform_admin)
    assert reverse("orgs:org_create_root") in html(client.get(reverse("orgs:tree")))
    response = client.post(reverse("orgs:org_create_root"), {"name": "邻县中心", "level": "center"})
    assert response.status_code == 302
    assert Org.objects.get(name="邻县中心").depth == 1


def test_edit_node(tree, client_for, owner, colleague, outsider):
    url = reverse("orgs:org_edit", args=[tree.st_a1.pk])
    data = {"name": "东关社区站", "level": "station", "address": "东关街1号", "contact_phone": "0371-66881234"}
    assert client_for(outsider).post(url, data).status_code == 404
    assert client_for(colleague).post(url, data).status_code == 403
    client = client_for(owner)
    assert 'value="东关社区站"' in html(client.get(url))
    assert client.post(url, data).status_code == 302
    assert Org.objects.get(pk=tree.st_a1.pk).address == "东关街1号"


def test_move_page_offers_only_valid_targets_and_moves(tree, client_for, center_admin):
    client = client_for(center_admin)
    url = reverse("orgs:org_move", args=[tree.st_a2.pk])
    page = html(client.get(url))
    assert f'value="{tree.sub_b.pk}"' in page and f'value="{tree.center.pk}"' in page
    for not_a_target in (tree.sub_a, tree.st_a1, tree.st_a2, tree.st_b1):  # current parent, same level, itself
        assert f'value="{not_a_target.pk}"' not in page
    response = client.post(url, {"parent": tree.sub_b.pk})
    assert response.status_code == 302
    assert Org.objects.get(pk=tree.st_a2.pk).path.startswith(Org.objects.get(pk=tree.sub_b.pk).path)
    follow = html(client.get(response.url))
    assert "西街社区站 已移至 城关镇分中心 之下" in follow


def test_move_page_refuses_a_target_outside_the_choices(tree, client_for, center_admin):
    response = client_for(center_admin).post(reverse("orgs:org_move", args=[tree.st_a2.pk]), {"parent": tree.st_a1.pk})
    assert response.status_code == 200 and "errorlist" in html(response)
    assert Org.objects.get(pk=tree.st_a2.pk).path.startswith(Org.objects.get(pk=tree.sub_a.pk).path)


def test_move_page_for_the_personas(tree, client_for, owner, colleague, outsider, point):
    page = html(client_for(owner).get(reverse("orgs:org_move", args=[point.pk])))
    assert "您管理的节点中没有可以容纳此节点的" in page
    assert client_for(colleague).get(reverse("orgs:org_move", args=[point.pk])).status_code == 403
    assert client_for(outsider).get(reverse("orgs:org_move", args=[point.pk])).status_code == 404
    response = client_for(outsider).post(reverse("orgs:org_move", args=[tree.st_a1.pk]), {"parent": tree.sub_b.pk})
    assert response.status_code == 404


def test_delete_node(tree, client_for, owner, outsider, center_admin, point):
    url = reverse("orgs:org_delete", args=[point.pk])
    assert client_for(outsider).post(url).status_code == 404
    assert client_for(owner).post(reverse("orgs:org_delete", args=[tree.st_a1.pk])).status_code == 403
    client = client_for(owner)
    assert "确认" in html(client.get(url))
    response = client.post(url)
    assert response.url == reverse("orgs:org_detail", args=[tree.st_a1.pk])
    assert not Org.objects.filter(pk=point.pk).exists()


def test_delete_refused_shows_what_is_left(tree, client_for, center_admin):
    client = client_for(center_admin)
    response = client.post(reverse("orgs:org_delete", args=[tree.sub_a.pk]), follow=True)
    assert "长安街道分中心 仍有 2 个下级节点，请先移走或删除" in html(response)
    assert Org.objects.filter(pk=tree.sub_a.pk).exists()


# --- units ---------------------------------------------------------------------------------------


def test_unit_list_is_scoped_and_searchable(tree, client_for, owner, outsider, center_admin, school):
    services.unit_create(actor=center_admin, org=tree.st_b1, name="北村卫生院", kind=UnitKind.HOSPITAL)
    page = html(client_for(owner).get(reverse("orgs:unit_list")))
    assert "东关中学" in page and "北村卫生院" not in page
    page = html(client_for(outsider).get(reverse("orgs:unit_list")))
    assert "北村卫生院" in page and "东关中学" not in page
    client = client_for(center_admin)
    page = html(client.get(reverse("orgs:unit_list"), {"q": "卫生"}))
    assert "北村卫生院" in page and "东关中学" not in page
    page = html(client.get(reverse("orgs:unit_list"), {"kind": "school"}))
    assert "东关中学" in page and "北村卫生院" not in page
    page = html(client.get(reverse("orgs:unit_list"), {"org": tree.sub_b.pk}))
    assert "北村卫生院" in page and "东关中学" not in page
    page = html(client.get(reverse("orgs:unit_list"), {"q": make_uscc(10)}))
    assert "东关中学" in page


def test_unit_list_htmx_returns_only_the_results(tree, client_for, owner, school):
    response = client_for(owner).get(reverse("orgs:unit_list"), {"q": "东关"}, headers={"HX-Request": "true"})
    page = html(response)
    assert "东关中学" in page and "<html" not in page and 'id="f-q"' not in page


def test_unit_list_query_count_does_not_grow_with_rows(tree, client_for, owner, django_assert_num_queries):
    client = client_for(owner)
    client.get(reverse("orgs:unit_list"))

    def expected():
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT of units for the pager,
        # 3 the nodes for the filter select, 4 one page of units with node and parent unit joined
        return django_assert_num_queries(4)

    services.unit_create(actor=owner, org=tree.st_a1, name="单位0", kind=UnitKind.ENTERPRISE)
    with expected():
        client.get(reverse("orgs:unit_list"))
    school = services.unit_create(actor=owner, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)
    for i in range(1, 60):  # more than a page, some of them classes of a school
        services.unit_create(
            actor=owner, org=tree.st_a1, name=f"单位{i}", kind=UnitKind.SCHOOL, parent=school if i % 2 else None
        )
    with expected():
        page = html(client.get(reverse("orgs:unit_list")))
    assert "61 个单位" in page and "东关中学 /" in page
    with expected():
        client.get(reverse("orgs:unit_list"), {"page": 2})


def test_unit_create_by_staff(tree, client_for, colleague):
    client = client_for(colleague)
    url = reverse("orgs:unit_create")
    page = html(client.get(url, {"org": tree.st_a1.pk}))
    assert f'<option value="{tree.st_a1.pk}" selected>' in page and f'value="{tree.st_b1.pk}"' not in page
    data = {"org": tree.st_a1.pk, "name": "东关中学", "kind": "school", "credit_code": make_uscc(11)}
    response = client.post(url, data)
    unit = Unit.objects.get(name="东关中学")
    assert response.url == reverse("orgs:unit_detail", args=[unit.pk])
    data = {"org": tree.st_a1.pk, "name": "1001班", "kind": "school", "parent": unit.pk}
    assert client.post(url, data).status_code == 302
    page = html(client.get(reverse("orgs:unit_detail", args=[unit.pk])))
    assert "1001班" in page and "下属单位" in page


def test_unit_form_shows_credit_code_errors(tree, client_for, colleague, center_admin):
    services.unit_create(
        actor=center_admin, org=tree.st_b1, name="北村卫生院", kind=UnitKind.HOSPITAL, credit_code=make_uscc(12)
    )
    client = client_for(colleague)
    data = {"org": tree.st_a1.pk, "name": "某企业", "kind": "enterprise", "credit_code": "91110000600037341X"}
    assert "统一社会信用代码无效" in html(client.post(reverse("orgs:unit_create"), data))
    data["credit_code"] = make_uscc(12)
    page = html(client.post(reverse("orgs:unit_create"), data))
    assert "该统一社会信用代码已登记在另一个单位名下" in page and "北村" not in page
    assert not Unit.objects.filter(name="某企业").exists()


def test_unit_pages_for_the_personas(tree, client_for, owner, colleague, outsider, assessor, school):
    detail = reverse("orgs:unit_detail", args=[school.pk])
    edit = reverse("orgs:unit_edit", args=[school.pk])
    assert client_for(outsider).get(detail).status_code == 404
    assert client_for(outsider).post(edit, {"name": "x"}).status_code == 404
    data = {"org": tree.st_a1.pk, "name": "外站单位", "kind": "school"}  # a node outside their scope
    assert client_for(outsider).post(reverse("orgs:unit_create"), data).status_code == 200
    assert not Unit.objects.filter(name="外站单位").exists()
    assert client_for(assessor).get(edit).status_code == 403
    assert reverse("orgs:unit_edit", args=[school.pk]) not in html(client_for(assessor).get(detail))
    client = client_for(colleague)
    data = {"org": tree.st_a1.pk, "name": "东关第一中学", "kind": "school", "credit_code": school.credit_code}
    assert client.post(edit, data).status_code == 302
    assert Unit.objects.get(pk=school.pk).name == "东关第一中学"
    assert client_for(owner).get(detail).status_code == 200


# --- positions and leading groups ----------------------------------------------------------------


def test_positions_pages(tree, client_for, owner, colleague, outsider):
    url = reverse("orgs:position_create", args=[tree.st_a1.pk])
    assert client_for(colleague).get(url).status_code == 403
    assert client_for(outsider).get(url).status_code == 404
    client_for(owner).post(url, {"title": PositionTitle.STATION_HEAD, "person_name": "李明", "phone": "13800000001"})
    position = Position.objects.get()
    page = html(client_for(owner).get(reverse("orgs:org_detail", args=[tree.st_a1.pk])))
    assert "站长" in page and "李明" in page
    edit = reverse("orgs:position_edit", args=[position.pk])
    delete = reverse("orgs:position_delete", args=[position.pk])
    assert client_for(outsider).get(edit).status_code == 404
    assert client_for(outsider).post(delete).status_code == 404
    assert client_for(colleague).post(delete).status_code == 403
    client_for(owner).post(edit, {"title": PositionTitle.SPECIALIST, "person_name": "李明", "phone": ""})
    assert Position.objects.get().title == PositionTitle.SPECIALIST
    client_for(owner).post(delete)
    assert not Position.objects.exists()


def test_leading_group_pages(tree, client_for, owner, colleague, outsider):
    client_for(owner).post(reverse("orgs:leading_group_create", args=[tree.st_a1.pk]), {"name": "学雷锋活动领导小组"})
    group = LeadingGroup.objects.get()
    add = reverse("orgs:leading_group_member_add", args=[group.pk])
    client_for(owner).post(add, {"role": "leader", "person_name": "张书记", "job_title": "党支部书记"})
    client_for(owner).post(add, {"role": "office_head", "person_name": "刘主任"})
    response = client_for(owner).post(add, {"role": "leader", "person_name": "王"})
    assert response.status_code == 400 and "本小组已有组长" in html(response)
    page = html(client_for(owner).get(reverse("orgs:leading_group_detail", args=[group.pk])))
    assert page.index("张书记") < page.index("刘主任") and "办公室主任" in page

    member = LeadingGroupMember.objects.get(person_name="张书记")
    remove = reverse("orgs:leading_group_member_remove", args=[member.pk])
    assert client_for(outsider).post(remove).status_code == 404
    assert client_for(colleague).post(remove).status_code == 403
    assert client_for(colleague).post(add, {"role": "member", "person_name": "x"}).status_code == 403
    assert client_for(outsider).get(reverse("orgs:leading_group_detail", args=[group.pk])).status_code == 404
    assert "张书记" in html(client_for(colleague).get(reverse("orgs:leading_group_detail", args=[group.pk])))
    client_for(owner).post(remove)
    assert not LeadingGroupMember.objects.filter(pk=member.pk).exists()

    client_for(owner).post(reverse("orgs:leading_group_edit", args=[group.pk]), {"name": "新时代文明实践领导小组"})
    assert LeadingGroup.objects.get().name == "新时代文明实践领导小组"
    assert client_for(outsider).post(reverse("orgs:leading_group_delete", args=[group.pk])).status_code == 404
    client_for(owner).post(reverse("orgs:leading_group_delete", args=[group.pk]))
    assert not LeadingGroup.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="leading_group.").count() == 6
