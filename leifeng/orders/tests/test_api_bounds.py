"""What the API fuzz found in /api/v1/orders/: nulls for NOT NULL columns, ids beyond bigint, the public POST."""

import pytest

from leifeng.config.api import api
from leifeng.orders.models import MenuItem
from leifeng.orders.tests.factories import menu_item, submit

API = "/api/v1/orders"
HUGE = 2**63 + 5


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.parametrize("field", ["points", "active", "title", "expected_minutes", "category"])
def test_menu_item_patch_refuses_null_for_a_not_null_column(field, client_for, tree, owner):
    item = menu_item(tree.st_a1)
    before = MenuItem.objects.values().get(pk=item.pk)
    response = client_for(owner).patch(f"{API}/menu-items/{item.pk}", {field: None}, content_type="application/json")
    assert field in _error(response, 422)["fields"]
    assert MenuItem.objects.values().get(pk=item.pk) == before


def test_menu_item_patch_leaves_out_what_is_not_sent(client_for, tree, owner):
    item = menu_item(tree.st_a1)
    response = client_for(owner).patch(f"{API}/menu-items/{item.pk}", {"points": 7}, content_type="application/json")
    assert response.status_code == 200 and response.json()["points"] == 7
    item.refresh_from_db()
    assert item.points == 7 and item.active


@pytest.mark.parametrize("field", ["points", "expected_minutes"])
def test_menu_item_numbers_beyond_the_column_are_422(field, client_for, tree, owner):
    body = {"org_id": tree.st_a1.pk, "title": "理发", field: 2**40}
    assert (
        field
        in _error(client_for(owner).post(f"{API}/menu-items", body, content_type="application/json"), 422)["fields"]
    )
    assert not MenuItem.objects.exists()


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("get", "/{huge}", None, "order_id"),
        ("get", "/{huge}/events", None, "order_id"),
        ("post", "/{huge}/accept", {}, "order_id"),
        ("patch", "/menu-items/{huge}", {"points": 1}, "item_id"),
        ("get", "/menu?station={huge}", None, "station"),
        ("get", "/?org={huge}", None, "org"),
        ("post", "/{id}/merge", {"into_id": "{huge}"}, "into_id"),
        ("post", "/{id}/push-down", {"org_id": "{huge}"}, "org_id"),
        ("post", "/{id}/dispatch", {"volunteer_ids": [1, "{huge}"]}, "volunteer_ids.1"),
        ("post", "/", {"org_id": "{huge}", "resident_name": "赵", "resident_phone": "13912340000"}, "org_id"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, path, body, field, client_for, tree, owner):
    order = submit(tree.st_a1)
    url = API + path.format(huge=HUGE, id=order.pk)
    if body is not None:
        body = {
            k: (HUGE if v == "{huge}" else [HUGE if x == "{huge}" else x for x in v] if isinstance(v, list) else v)
            for k, v in body.items()
        }
    c = client_for(owner)
    response = getattr(c, method)(url, body, content_type="application/json") if body is not None else c.get(url)
    assert field in _error(response, 422)["fields"]


def test_the_order_form_is_documented_as_open_to_anonymous_callers():
    operation = api.get_openapi_schema()["paths"]["/api/v1/orders/"]["post"]
    assert {} in operation["security"]  # the empty requirement: no credentials needed
    assert {"TokenAuth": []} in operation["security"]  # a staff token is still read


def test_the_order_reason_schemas_keep_their_own_names():
    """Two different schemas with one class name share one component, and the document lies about one of them."""
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert "reason" not in schemas["OrderReasonIn"].get("required", [])
    assert "reason" in schemas["ReasonIn"]["required"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", 91, 1e30])
def test_a_position_that_is_no_coordinate_is_422_naming_it(value, client, tree):
    body = {"org_id": tree.st_a1.pk, "resident_name": "赵", "resident_phone": "13912340000", "latitude": value}
    assert "latitude" in _error(client.post(f"{API}/", body, content_type="application/json"), 422)["fields"]
