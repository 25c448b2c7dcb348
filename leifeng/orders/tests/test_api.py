"""/api/v1/orders/: the resident without an account, staff transitions, personas, one error format."""

import pytest

from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.tests.factories import menu_item, order_in, submit

S = OrderStatus
API = "/api/v1/orders"


def test_resident_places_an_order_idempotently_and_tracks_it(client, tree):
    item = menu_item(tree.st_a1)
    menu = client.get(f"{API}/menu?station={tree.st_a1.pk}").json()
    assert [m["title"] for m in menu["items"]] == [item.title]
    body = {"org_id": tree.st_a1.pk, "resident_name": "赵大爷", "resident_phone": "13912340000", "address": "3号楼"}
    body["menu_item_id"] = item.pk
    first = client.post(f"{API}/", body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    again = client.post(f"{API}/", body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and Order.objects.count() == 1
    token = first.json()["token"]
    assert client.get(f"{API}/track/{token}").json()["status"] == "submitted"
    assert client.get(f"{API}/track/wrong-token").status_code == 404


def test_bad_input_names_the_field(client, tree):
    response = client.post(
        f"{API}/",
        {"org_id": tree.st_a1.pk, "resident_name": "", "resident_phone": "1"},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert {"resident_name", "resident_phone", "description"} <= set(error["fields"])


@pytest.mark.parametrize("path", ["/", "/{id}", "/{id}/events"])
def test_three_personas(path, client_for, tree, owner, colleague, outsider):
    order = submit(tree.st_a1)
    url = f"{API}{path.format(id=order.pk)}"
    for user, status in ((owner, 200), (colleague, 200), (outsider, 200 if path == "/" else 404)):
        response = client_for(user).get(url)
        assert response.status_code == status
        if path == "/":
            ids = [o["id"] for o in response.json()["items"]]
            assert (order.pk in ids) is (user is not outsider)


def test_transitions_over_the_api_and_refusals_in_one_format(client_for, tree, owner, outsider, crew):
    leader, team = crew
    order = order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team)
    staff = client_for(owner)
    assert staff.post(f"{API}/{order.pk}/accept", {}, content_type="application/json").json()["error"]["code"] == (
        "invalid_transition"
    )
    r = staff.post(f"{API}/{order.pk}/dispatch", {"team_id": team.pk}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    assert (
        client_for(outsider)
        .post(f"{API}/{order.pk}/recall", {"reason": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    lead = client_for(leader)
    assert [o["id"] for o in lead.get(f"{API}/mine").json()["items"]] == [order.pk]
    assert lead.post(f"{API}/{order.pk}/take").json()["status"] == "taken"
    done = lead.post(f"{API}/{order.pk}/complete", {"notes": "好了", "minutes": 30}, content_type="application/json")
    assert done.json()["status"] == "completed"
    token = Order.objects.get(pk=order.pk).token
    rated = client_for(leader).post(f"{API}/track/{token}/rate", {"rating": 5}, content_type="application/json")
    assert rated.json()["status"] == "closed"
    events = staff.get(f"{API}/{order.pk}/events").json()["items"]
    assert [e["action"] for e in events][-4:] == ["dispatched", "taken", "completed", "rated"]


def test_list_query_count_is_constant(client_for, tree, owner, django_assert_max_num_queries):
    for i in range(12):
        submit(tree.st_a1, resident_phone=f"1391234{i:04d}")
    client = client_for(owner)
    # session with its account, roles and volunteer flag (accounts.middleware), count,
    # one page of orders with joined org/item/team/duplicate (3; the bound keeps its one query of slack)
    with django_assert_max_num_queries(4):
        assert len(client.get(f"{API}/?page_size=3").json()["items"]) == 3
    with django_assert_max_num_queries(4):
        assert len(client.get(f"{API}/?page_size=12").json()["items"]) == 12


def test_figures_over_the_api(client_for, tree, center_admin, owner, crew):
    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    data = client_for(center_admin).get(f"{API}/figures").json()
    assert data["total"]["volume"] == 1 and data["total"]["satisfaction"] == 5.0


# ---------------------------------------------------------------- per-status counts and the Excel exports


def test_figures_count_each_status_like_the_inbox_tabs(client_for, tree, center_admin, owner, colleague, crew):
    from django.urls import reverse

    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team, resident_phone="13800000001")
    submit(tree.st_a1, resident_phone="13800000002")
    submit(tree.st_b1, resident_phone="13800000003")
    for user in (owner, colleague, center_admin):
        client = client_for(user)
        data = client.get(f"{API}/figures").json()
        counts = {row["status"]: row["count"] for row in data["statuses"]}
        assert [row["status"] for row in data["statuses"]] == list(S.values)  # every status, zero or not
        tabs = {value: n for value, _label, n in client.get(reverse("orders:inbox")).context["tabs"]}
        assert counts == tabs
    assert counts == {**dict.fromkeys(S.values, 0), "closed": 1, "accepted": 1, "submitted": 2}
    owner_counts = {r["status"]: r["count"] for r in client_for(owner).get(f"{API}/figures").json()["statuses"]}
    assert owner_counts["submitted"] == 1
    labels = {r["status"]: r["label"] for r in client_for(owner).get(f"{API}/figures").json()["statuses"]}
    assert labels["submitted"] == "待审单"


def _workbook(response) -> dict[str, list[tuple]]:
    import io

    import openpyxl

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def test_orders_export_over_the_api_is_the_pages_export(client_for, tree, owner, colleague, outsider, crew):
    from django.urls import reverse

    from leifeng.core.models import AuditEvent

    mine = submit(tree.st_a1, description="需要修水管")
    submit(tree.st_a1, resident_phone="13800003333", description="第二单")
    theirs = submit(tree.st_b1, resident_phone="13500000000", description="北村的需求")
    query = "?status=submitted&q=水管"
    for user in (owner, colleague):
        client = client_for(user)
        api = _workbook(client.get(f"{API}/export.xlsx{query}"))
        page = _workbook(client.get(reverse("orders:inbox_export") + query))
        assert api == page
        assert [r[0] for r in api["工单"][1:]] == [mine.number]
    everything = _workbook(client_for(owner).get(f"{API}/export.xlsx"))["工单"]
    assert len(everything) == 3 and theirs.number not in [r[0] for r in everything]
    outside = _workbook(client_for(outsider).get(f"{API}/export.xlsx"))["工单"]
    assert [r[0] for r in outside[1:]] == [theirs.number]
    assert AuditEvent.objects.filter(action="order.export", actor=owner, changes__count=1).count() == 2
    leader, _team = crew
    refused = client_for(leader).get(f"{API}/export.xlsx")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"


def test_figures_export_over_the_api_is_the_pages_export(client_for, tree, owner, colleague, outsider, crew):
    from django.test import Client
    from django.urls import reverse

    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    for user in (owner, colleague):
        c = client_for(user)
        api = _workbook(c.get(f"{API}/figures.xlsx?org={tree.st_a1.pk}"))
        assert api == _workbook(c.get(reverse("orders:figures_export") + f"?org={tree.st_a1.pk}"))
        assert api["统计"][1][:3] == (tree.st_a1.name, 1, 1) and ("已办结", 1) in api["按状态"]
    # another subtree's node answers 404, like a node that does not exist
    assert client_for(outsider).get(f"{API}/figures.xlsx?org={tree.st_a1.pk}").status_code == 404
    assert client_for(outsider).get(f"{API}/figures.xlsx?org=999999").status_code == 404
    assert _workbook(client_for(outsider).get(f"{API}/figures.xlsx"))["统计"][1][:2] == (tree.st_b1.name, 0)
    assert client_for(leader).get(f"{API}/figures.xlsx").status_code == 404
    assert Client().get(f"{API}/figures.xlsx").status_code == 401
    assert Client().get(f"{API}/export.xlsx").status_code == 401


def test_orders_export_query_count_does_not_grow_with_the_orders(client_for, tree, owner, django_assert_num_queries):
    client = client_for(owner)
    submit(tree.st_a1)
    # session with its account, roles and volunteer flag (accounts.middleware), the orders with their nodes,
    # items, teams and duplicates (one query, streamed), the audit row's node (scope.orgs), the audit insert
    with django_assert_num_queries(4) as one:
        _workbook(client.get(f"{API}/export.xlsx"))
    for i in range(20):
        submit(tree.st_a1, resident_phone=f"1381234{i:04d}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(_workbook(client.get(f"{API}/export.xlsx"))["工单"]) == 22


def test_figures_export_query_count_does_not_grow_with_the_orders(
    client_for, tree, owner, crew, django_assert_num_queries
):
    leader, team = crew
    client = client_for(owner)
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    # session with its account, roles and volunteer flag (accounts.middleware); the node (scope.orgs); the
    # subtree's figures: aggregate + durations; the nodes just below st_a1 (none); the ids of the teams that served
    # (DISTINCT); those teams; the team's aggregate + durations; the counts per status; the audit insert. Grows
    # with the nodes and teams shown, not the orders.
    with django_assert_num_queries(11) as one:
        _workbook(client.get(f"{API}/figures.xlsx"))
    for i in range(10):
        order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team, resident_phone=f"1381234{i:04d}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert _workbook(client.get(f"{API}/figures.xlsx"))["统计"][1][1] == 11
