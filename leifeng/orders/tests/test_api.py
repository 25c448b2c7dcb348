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
    # session, user, roles (scope), count, one page of orders with joined org/item/team/duplicate
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{API}/?page_size=3").json()["items"]) == 3
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{API}/?page_size=12").json()["items"]) == 12


def test_figures_over_the_api(client_for, tree, center_admin, owner, crew):
    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    data = client_for(center_admin).get(f"{API}/figures").json()
    assert data["total"]["volume"] == 1 and data["total"]["satisfaction"] == 5.0
