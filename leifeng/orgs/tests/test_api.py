"""/api/v1/orgs/ as each persona sees it; one error format; lists paginated with constant queries."""

import pytest

from leifeng.accounts.models import ApiToken
from leifeng.core.models import AuditEvent
from leifeng.orgs import services
from leifeng.orgs.models import Org, OrgLevel, Unit, UnitKind
from leifeng.orgs.tests.conftest import make_uscc
from leifeng.testing import VolunteerFactory

BASE = "/api/v1/orgs/"


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["items"]]


def assert_not_found(response) -> None:
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.fixture
def point(tree, center_admin):
    return services.org_create(actor=center_admin, parent=tree.st_a1, name="东关广场实践点", level=OrgLevel.POINT)


@pytest.fixture
def school(tree, center_admin):
    return services.unit_create(
        actor=center_admin, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL, credit_code=make_uscc(20)
    )


# --- nodes ---------------------------------------------------------------------------------------


def test_list_is_scoped_and_in_tree_order(tree, client_for, owner, outsider, center_admin):
    assert names(client_for(owner).get(BASE)) == ["东关社区站"]
    assert names(client_for(outsider).get(BASE)) == ["北村站"]
    body = client_for(center_admin).get(BASE).json()
    assert body["count"] == 6
    assert [r["name"] for r in body["items"]] == [
        "县新时代文明实践中心",
        "城关镇分中心",
        "北村站",
        "长安街道分中心",
        "东关社区站",
        "西街社区站",
    ]
    first = body["items"][0]
    assert first["parent_id"] is None and first["level"] == "center" and first["child_count"] == 2


def test_list_filters_by_level_and_parent(tree, client_for, owner, center_admin):
    client = client_for(center_admin)
    assert names(client.get(BASE, {"level": "station"})) == ["北村站", "东关社区站", "西街社区站"]
    assert names(client.get(BASE, {"parent": tree.sub_a.pk})) == ["东关社区站", "西街社区站"]
    assert client.get(BASE, {"level": "county"}).status_code == 422
    assert names(client_for(owner).get(BASE, {"parent": tree.sub_b.pk})) == []  # out of scope: nothing


def test_list_query_count_is_constant(tree, client_for, center_admin, django_assert_num_queries):
    client = client_for(center_admin)
    client.get(BASE)

    def expected():
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT for the page,
        # 3 one page of nodes, parent_id from a correlated subquery
        return django_assert_num_queries(3)

    with expected():
        assert len(client.get(BASE, {"page_size": 2}).json()["items"]) == 2
    for i in range(20):
        services.org_create(actor=center_admin, parent=tree.st_a2, name=f"西街{i}号点", level=OrgLevel.POINT)
    with expected():
        assert len(client.get(BASE, {"page_size": 50}).json()["items"]) == 26


def test_list_with_a_bearer_token(tree, owner, client):
    raw = ApiToken.new_key()
    ApiToken.objects.create(user=owner, name="app", prefix=raw[:8], key_hash=ApiToken.hash(raw))
    response = client.get(BASE, headers={"Authorization": f"Bearer {raw}"})
    assert names(response) == ["东关社区站"]
    assert client.get(BASE).status_code == 401


def test_get_node_for_the_personas(tree, client_for, owner, colleague, outsider, assessor):
    url = f"{BASE}{tree.st_a1.pk}"
    body = client_for(owner).get(url).json()
    assert body["name"] == "东关社区站" and body["parent_id"] == tree.sub_a.pk and body["level_display"] == "实践站"
    assert client_for(colleague).get(url).status_code == 200
    assert client_for(assessor).get(url).status_code == 200
    assert_not_found(client_for(outsider).get(url))
    assert_not_found(client_for(owner).get(f"{BASE}999999"))


def test_create_child(tree, client_for, owner):
    payload = {"parent_id": tree.st_a1.pk, "name": "东关广场实践点", "level": "point", "division_code": "410102001001"}
    response = client_for(owner).post(BASE, payload, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["parent_id"] == tree.st_a1.pk and body["depth"] == 4 and body["division_code"] == "410102001001"
    assert Org.objects.get(pk=body["id"]).path.startswith(tree.st_a1.path)


def test_create_refusals_use_the_error_format(tree, client_for, owner, colleague, outsider, center_admin):
    payload = {"parent_id": tree.st_a1.pk, "name": "点", "level": "point"}
    response = client_for(colleague).post(BASE, payload, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert_not_found(client_for(outsider).post(BASE, payload, content_type="application/json"))
    response = client_for(owner).post(BASE, payload | {"level": "station"}, content_type="application/json")
    assert response.status_code == 400 and "level" in response.json()["error"]["fields"]
    response = client_for(owner).post(BASE, payload | {"division_code": "12345"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"division_code": ["行政区划代码须为 6 位或 12 位数字。"]}
    response = client_for(center_admin).post(BASE, payload | {"parent_id": None}, content_type="application/json")
    assert response.status_code == 403
    assert not Org.objects.filter(name="点").exists()


def test_patch_node(tree, client_for, owner, colleague, outsider):
    url = f"{BASE}{tree.st_a1.pk}"
    assert_not_found(client_for(outsider).patch(url, {"address": "x"}, content_type="application/json"))
    response = client_for(colleague).patch(url, {"address": "x"}, content_type="application/json")
    assert response.status_code == 403
    response = client_for(owner).patch(url, {"address": "东关街1号"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["address"] == "东关街1号"
    assert response.json()["name"] == "东关社区站"  # untouched
    assert AuditEvent.objects.get(action="org.update").changes == {"address": ["", "东关街1号"]}


def test_move_node_with_its_subtree(tree, client_for, center_admin, outsider):
    point = services.org_create(actor=center_admin, parent=tree.st_a2, name="西街一号点", level=OrgLevel.POINT)
    url = f"{BASE}{tree.st_a2.pk}/move"
    assert_not_found(client_for(outsider).post(url, {"parent_id": tree.sub_b.pk}, content_type="application/json"))
    response = client_for(center_admin).post(url, {"parent_id": tree.sub_b.pk}, content_type="application/json")
    assert response.status_code == 200 and response.json()["parent_id"] == tree.sub_b.pk
    assert Org.objects.get(pk=point.pk).path.startswith(Org.objects.get(pk=tree.st_a2.pk).path)
    response = client_for(center_admin).post(
        f"{BASE}{tree.sub_a.pk}/move", {"parent_id": tree.st_a1.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "move_into_subtree"
    assert response.json()["error"]["fields"] == {"parent": ["节点不能移到自身或自己的下级节点之下。"]}


def test_move_target_out_of_scope_is_404(tree, client_for, owner, point):
    url = f"{BASE}{point.pk}/move"
    assert_not_found(client_for(owner).post(url, {"parent_id": tree.st_a2.pk}, content_type="application/json"))


def test_delete_node(tree, client_for, owner, outsider, center_admin, point):
    assert_not_found(client_for(outsider).delete(f"{BASE}{point.pk}"))
    VolunteerFactory(org=point)
    response = client_for(owner).delete(f"{BASE}{point.pk}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_empty"
    assert "1 名志愿者" in response.json()["error"]["message"]
    empty = services.org_create(actor=center_admin, parent=tree.st_a1, name="空点", level=OrgLevel.POINT)
    assert client_for(owner).delete(f"{BASE}{empty.pk}").status_code == 204
    assert not Org.objects.filter(pk=empty.pk).exists()


# --- units ---------------------------------------------------------------------------------------


def test_unit_list_scoped_and_filtered(tree, client_for, owner, outsider, center_admin, school):
    services.unit_create(actor=center_admin, org=tree.st_b1, name="北村卫生院", kind=UnitKind.HOSPITAL)
    assert names(client_for(owner).get(f"{BASE}units")) == ["东关中学"]
    assert names(client_for(outsider).get(f"{BASE}units")) == ["北村卫生院"]
    client = client_for(center_admin)
    assert names(client.get(f"{BASE}units", {"kind": "hospital"})) == ["北村卫生院"]
    assert names(client.get(f"{BASE}units", {"org": tree.sub_a.pk})) == ["东关中学"]
    assert names(client.get(f"{BASE}units", {"q": make_uscc(20).lower()})) == ["东关中学"]
    row = client.get(f"{BASE}units", {"q": "东关"}).json()["items"][0]
    assert row["org_name"] == "东关社区站" and row["kind_display"] == "学校" and row["credit_code"] == make_uscc(20)


def test_unit_list_query_count_is_constant(tree, client_for, owner, django_assert_num_queries):
    client = client_for(owner)
    client.get(f"{BASE}units")
    school = services.unit_create(actor=owner, org=tree.st_a1, name="东关中学", kind=UnitKind.SCHOOL)

    def expected():
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT for the page,
        # 3 one page of units with node and parent unit joined
        return django_assert_num_queries(3)

    with expected():
        client.get(f"{BASE}units", {"page_size": 1})
    for i in range(30):
        services.unit_create(actor=owner, org=tree.st_a1, name=f"{1001 + i}班", kind=UnitKind.SCHOOL, parent=school)
    with expected():
        body = client.get(f"{BASE}units", {"page_size": 100}).json()
    assert body["count"] == 31 and {r["parent_name"] for r in body["items"]} == {None, "东关中学"}


def test_unit_create_and_credit_code_errors(tree, client_for, colleague, outsider, assessor, school):
    url = f"{BASE}units"
    payload = {"org_id": tree.st_a1.pk, "name": "东关医院", "kind": "hospital", "credit_code": make_uscc(21)}
    response = client_for(colleague).post(url, payload, content_type="application/json")
    assert response.status_code == 201 and response.json()["credit_code"] == make_uscc(21)

    response = client_for(colleague).post(url, payload | {"name": "又一家"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "credit_code_taken",
        "message": "该统一社会信用代码已登记在另一个单位名下。",
        "fields": {"credit_code": ["该统一社会信用代码已登记在另一个单位名下。"]},
    }
    response = client_for(colleague).post(
        url, payload | {"credit_code": "91110000600037341X"}, content_type="application/json"
    )
    assert response.status_code == 400 and "credit_code" in response.json()["error"]["fields"]

    klass = {"org_id": tree.st_a1.pk, "name": "1001班", "kind": "school", "parent_id": school.pk}
    response = client_for(colleague).post(url, klass, content_type="application/json")
    assert response.status_code == 201 and response.json()["parent_name"] == "东关中学"

    assert_not_found(client_for(outsider).post(url, payload | {"credit_code": ""}, content_type="application/json"))
    bad_parent = payload | {"org_id": tree.st_b1.pk, "credit_code": "", "parent_id": school.pk}
    assert_not_found(client_for(outsider).post(url, bad_parent, content_type="application/json"))
    response = client_for(assessor).post(url, payload | {"credit_code": ""}, content_type="application/json")
    assert response.status_code == 403
    assert Unit.objects.count() == 3


def test_unit_get_and_patch(tree, client_for, owner, colleague, outsider, assessor, school):
    url = f"{BASE}units/{school.pk}"
    assert client_for(owner).get(url).json()["name"] == "东关中学"
    assert_not_found(client_for(outsider).get(url))
    assert_not_found(client_for(outsider).patch(url, {"name": "x"}, content_type="application/json"))
    assert client_for(assessor).patch(url, {"name": "x"}, content_type="application/json").status_code == 403
    response = client_for(colleague).patch(url, {"contact_phone": "0371-66881234"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["contact_phone"] == "0371-66881234"
    assert response.json()["credit_code"] == make_uscc(20)  # untouched

    klass = services.unit_create(actor=colleague, org=tree.st_a1, name="1001班", kind=UnitKind.SCHOOL, parent=school)
    response = client_for(colleague).patch(
        f"{BASE}units/{klass.pk}", {"parent_id": None}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["parent_id"] is None
    response = client_for(colleague).patch(url, {"org_id": tree.st_b1.pk}, content_type="application/json")
    assert_not_found(response)
    assert Unit.objects.get(pk=school.pk).org_id == tree.st_a1.pk
