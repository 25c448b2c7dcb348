"""Open311 GeoReport v2: every response validated against the project's schemas, in JSON and in XML."""

import json
import re
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from leifeng.accounts.models import ApiToken
from leifeng.orders import services
from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.tests.factories import T0, menu_item, submit

SCHEMAS = Path(__file__).resolve().parent.parent / "open311" / "schemas"
_docs = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
REGISTRY = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in _docs.values())
LISTS = {"endpoints", "formats", "attributes", "values"}
BOOLS = {"metadata", "variable", "required"}
NUMBERS = {"lat", "long"}


def validate(name: str, data) -> None:
    Draft202012Validator(_docs[name], registry=REGISTRY, format_checker=FormatChecker()).validate(data)


def xml_to_data(el: ET.Element, parent: str = ""):
    """XML back into the JSON shape (lists for repeated elements, typed scalars), to validate the same way."""
    kids = list(el)
    if el.tag in LISTS:
        return [xml_to_data(k, el.tag) for k in kids]
    if not kids:
        text = el.text
        if text is None:
            return None
        if el.tag in BOOLS:
            return {"true": True, "false": False}[text]
        if el.tag == "order" or (el.tag == "code" and parent == "error"):
            return int(text)
        if el.tag in NUMBERS:
            return float(text)
        return text
    return {k.tag: xml_to_data(k, el.tag) for k in kids}


def get_both(client, path: str, schema: str, expect: int = 200, **params):
    """GET path.json and path.xml; both valid against `schema` and equal once parsed."""
    rj = client.get(f"/open311/v2/{path}.json", params)
    assert rj.status_code == expect, rj.content
    assert rj["Content-Type"].startswith("application/json")
    data = rj.json()
    validate(schema, data)
    rx = client.get(f"/open311/v2/{path}.xml", params)
    assert rx.status_code == expect
    assert rx["Content-Type"].startswith("text/xml")
    root = ET.fromstring(rx.content)
    parsed = [xml_to_data(c, c.tag) for c in root] if isinstance(data, list) else xml_to_data(root)
    validate(schema, parsed)
    assert parsed == data
    return data, root


@pytest.fixture
def menu(tree):
    return {
        "repair": menu_item(tree.st_a1, title="家政维修 <水电>", category="elderly"),
        "law": menu_item(tree.sub_a, title="法律援助", category="legal"),
    }


def open311_key(user, org, name: str = "12345热线") -> str:
    """An Open311 client key at `org` acting as `user`, made the way the operator makes one."""
    return services.open311_client_create(actor=user, name=name, org_id=org.pk)[1]


@pytest.fixture
def api_key(owner, tree):
    return open311_key(owner, tree.st_a1)


@pytest.fixture
def outsider_key(outsider, tree):
    return open311_key(outsider, tree.st_b1)


def full_api_token(user) -> str:
    raw = ApiToken.new_key()
    ApiToken.objects.create(user=user, name="app", prefix=raw[:8], key_hash=ApiToken.hash(raw))
    return raw


def test_discovery(client, db):
    data, root = get_both(client, "discovery", "discovery.json")
    assert root.tag == "discovery"
    assert data["endpoints"][0]["url"].endswith("/open311/v2")


def test_services_list_and_jurisdiction(client, tree, menu):
    data, root = get_both(client, "services", "services.json")
    assert root.tag == "services" and [c.tag for c in root] == ["service", "service", "service"]
    assert {s["service_code"] for s in data} == {str(menu["repair"].pk), str(menu["law"].pk), "other"}
    assert {s["service_name"] for s in data[:2]} == {"家政维修 <水电>", "法律援助"}
    # XML escapes what it must
    raw = client.get("/open311/v2/services.xml").content.decode()
    assert "家政维修 &lt;水电&gt;" in raw
    # a station sees its own menu and the menus above it; its sibling station sees only the sub-center's
    data, _ = get_both(client, "services", "services.json", jurisdiction_id=tree.st_a2.pk)
    assert [s["service_code"] for s in data] == [str(menu["law"].pk), "other"]
    data, _ = get_both(client, "services", "errors.json", expect=404, jurisdiction_id="999999")
    assert data[0]["code"] == 404


def test_service_definition(client, menu):
    data, root = get_both(client, f"services/{menu['repair'].pk}", "service-definition.json")
    assert root.tag == "service_definition"
    assert [a["code"] for a in data["attributes"]] == [
        "preferred_time",
        "preferred_time_end",
        "time_slot",
        "address_detail",
    ]
    data, _ = get_both(client, "services/424242", "errors.json", expect=404)
    assert "service_code" in data[0]["description"]


def post(client, fmt="json", **fields):
    return client.post(f"/open311/v2/requests.{fmt}", fields)


def good(menu, key, **kw):
    data = {
        "api_key": key,
        "service_code": menu["repair"].pk,
        "address_string": "东关社区3号楼",
        "first_name": "大妈",
        "last_name": "王",
        "phone": "13912345678",
        "description": "水龙头坏了",
        "attribute[time_slot]": "weekend",
        "attribute[address_detail]": "2单元301",
    }
    data.update(kw)
    return data


def test_post_creates_an_order_entered_by_the_key_holder(client, tree, owner, menu, api_key):
    r = post(client, **good(menu, api_key, idempotency_key="abc"))
    assert r.status_code == 200, r.content
    body = r.json()
    validate("post-response.json", body)
    order = Order.objects.get()
    assert body[0]["service_request_id"] == order.number
    assert order.org == tree.st_a1 and order.entered_by == owner and order.menu_item == menu["repair"]
    assert order.resident_name == "王 大妈" and order.address == "东关社区3号楼 2单元301"
    assert "周末" in order.description or "Weekends" in order.description
    # a retry with the same key returns the same order
    again = post(client, **good(menu, api_key, idempotency_key="abc")).json()
    assert again[0]["service_request_id"] == order.number and Order.objects.count() == 1
    # XML answer has the specification's shape
    rx = post(client, "xml", **good(menu, api_key, phone="13800001111"))
    root = ET.fromstring(rx.content)
    assert root.tag == "service_requests" and root[0].tag == "request"
    validate("post-response.json", [xml_to_data(c) for c in root])


@pytest.mark.parametrize(
    ("change", "status", "word"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "lf_wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "999999"}, 404, "service_code"),
        ({"address_string": ""}, 400, "address_string"),
        ({"phone": ""}, 400, "phone"),
        ({"phone": "12"}, 400, "phone"),
        ({"lat": "95", "long": "108"}, 400, "lat"),
        ({"attribute[preferred_time]": "next week"}, 400, "preferred_time"),
    ],
)
def test_post_errors_say_which_field(client, menu, api_key, change, status, word):
    for fmt in ("json", "xml"):
        r = post(client, fmt, **good(menu, api_key, **change))
        assert r.status_code == status
        data = r.json() if fmt == "json" else [xml_to_data(c, c.tag) for c in ET.fromstring(r.content)]
        validate("errors.json", data)
        assert data[0]["code"] == status and word in data[0]["description"]
    assert not Order.objects.exists()


def test_post_needs_a_station_and_rights_there(client, tree, menu, api_key, outsider_key):
    # the sub-center's menu item: which station? the client must say
    r = post(client, **good(menu, api_key, service_code=menu["law"].pk))
    assert r.status_code == 400 and "jurisdiction_id" in r.json()[0]["description"]
    r = post(client, **good(menu, api_key, service_code=menu["law"].pk, jurisdiction_id=tree.st_a1.pk))
    assert r.status_code == 200
    # nor for a station outside the key's scope
    r = post(client, **good(menu, api_key, service_code=menu["law"].pk, jurisdiction_id=tree.st_a2.pk))
    assert r.status_code == 403
    # free text: the "other" service
    r = post(client, **good(menu, api_key, service_code="other", jurisdiction_id=tree.st_a1.pk, phone="13800003333"))
    assert r.status_code == 200 and Order.objects.filter(menu_item__isnull=True).count() == 1
    # another subtree's key may not enter orders here
    r = post(client, **good(menu, outsider_key))
    assert r.status_code == 403


def test_get_requests_filters_and_privacy(client, tree, owner, menu, api_key, outsider_key, settings):
    now = T0
    a = submit(tree.st_a1, now=now, menu_item_id=menu["repair"].pk, latitude="34.1", longitude="108.9")
    b = submit(tree.st_a1, now=now, resident_phone="13800002222", description="帮忙买药")
    services.order_reject(actor=owner, order_id=b.pk, reason="不在服务范围", now=now + timedelta(hours=1))
    Order.objects.update(created_at=now)
    params = {"start_date": "2026-11-01T00:00:00+08:00"}
    data, root = get_both(client, "requests", "requests.json", **params)
    assert root.tag == "service_requests"
    assert [r["service_request_id"] for r in data] == [b.number, a.number] or {
        r["service_request_id"] for r in data
    } == {a.number, b.number}
    by_id = {r["service_request_id"]: r for r in data}
    assert by_id[b.number]["status"] == "closed" and "不在服务范围" in by_id[b.number]["status_notes"]
    assert by_id[a.number]["status"] == "open" and by_id[a.number]["agency_responsible"] == "东关社区站"
    # anonymous: nothing personal at all
    assert "address" not in by_id[a.number] and "description" not in by_id[a.number]
    raw = client.get("/open311/v2/requests.json", params).content.decode()
    assert "王大妈" not in raw and "13912345678" not in raw
    # with a key in scope: address and point too, still no name or phone
    data, _ = get_both(client, "requests", "requests.json", api_key=api_key, **params)
    full = {r["service_request_id"]: r for r in data}[a.number]
    assert full["lat"] == pytest.approx(34.1) and full["address"]
    raw = client.get("/open311/v2/requests.json", {"api_key": api_key, **params}).content.decode()
    assert "王大妈" not in raw and "13912345678" not in raw
    # an outsider's key sees none of them
    data, _ = get_both(client, "requests", "requests.json", api_key=outsider_key, **params)
    assert data == []
    # filters
    data, _ = get_both(client, "requests", "requests.json", status="closed", **params)
    assert [r["service_request_id"] for r in data] == [b.number]
    data, _ = get_both(client, "requests", "requests.json", service_code=menu["repair"].pk, **params)
    assert [r["service_request_id"] for r in data] == [a.number]
    data, _ = get_both(client, "requests", "requests.json", service_code="other", **params)
    assert [r["service_request_id"] for r in data] == [b.number]
    data, _ = get_both(client, "requests", "requests.json", service_request_id=f"{a.number},{b.pk}")
    assert {r["service_request_id"] for r in data} == {a.number, b.number}
    data, _ = get_both(client, "requests", "requests.json", end_date="2026-11-01T00:00:00+08:00")
    assert data == []
    # without dates: the last 90 days only
    Order.objects.filter(pk=a.pk).update(created_at=now - timedelta(days=400))
    data, _ = get_both(client, "requests", "requests.json", service_request_id="")
    assert a.number not in {r["service_request_id"] for r in data}
    data, _ = get_both(client, "requests", "errors.json", expect=400, start_date="yesterday")
    assert "start_date" in data[0]["description"]


def test_get_one_request(client, tree, menu, api_key, outsider_key):
    order = submit(tree.st_a1, menu_item_id=menu["repair"].pk)
    data, root = get_both(client, f"requests/{order.number}", "requests.json")
    assert len(data) == 1 and data[0]["status_notes"] == str(OrderStatus.SUBMITTED.label)
    get_both(client, f"requests/{order.number}", "requests.json", api_key=api_key)
    # out of the key's scope answers like a missing request
    data, _ = get_both(client, f"requests/{order.number}", "errors.json", expect=404, api_key=outsider_key)
    assert data[0]["code"] == 404
    get_both(client, "requests/D999999", "errors.json", expect=404)


def test_wrong_method(client, db):
    r = client.post("/open311/v2/services.json")
    assert r.status_code == 405
    validate("errors.json", r.json())


# ------------------------------------------------------------------ Open311 keys, never full API tokens


def test_a_full_api_token_is_refused_by_name_and_changes_nothing(client, tree, owner, menu):
    token = full_api_token(owner)
    for fmt in ("json", "xml"):
        r = post(client, fmt, **good(menu, token))
        assert r.status_code == 403
    data = post(client, **good(menu, token)).json()
    validate("errors.json", data)
    assert data[0]["description"].startswith("api_key") and "Open311" in data[0]["description"]
    assert not Order.objects.exists()
    order = submit(tree.st_a1, now=T0)
    for path in ("requests", f"requests/{order.number}"):  # reading with it is refused too, not served as public
        r = client.get(f"/open311/v2/{path}.json", {"api_key": token})
        assert r.status_code == 403 and "Open311" in r.json()[0]["description"]


def test_an_open311_key_is_not_an_api_token(client, api_key):
    r = client.get("/api/v1/orders/", headers={"Authorization": f"Bearer {api_key}"})
    assert r.status_code == 401


def test_a_key_works_at_its_node_and_below_only(client, tree, menu):
    from leifeng.accounts.models import Role
    from leifeng.testing import make_user

    head = make_user("fenzhongxin", role=Role.ORG_ADMIN, org=tree.sub_a)  # may enter orders at both stations
    narrow = open311_key(head, tree.st_a1, name="东关网格系统")
    wide = open311_key(head, tree.sub_a, name="街道热线")
    west = dict(service_code=menu["law"].pk, jurisdiction_id=tree.st_a2.pk)
    r = post(client, **good(menu, narrow, **west))
    assert r.status_code == 403 and "西街社区站" in r.json()[0]["description"]
    assert not Order.objects.exists()
    assert post(client, **good(menu, wide, **west)).status_code == 200
    order = Order.objects.get()
    assert client.get(f"/open311/v2/requests/{order.number}.json", {"api_key": narrow}).status_code == 404
    full = client.get(f"/open311/v2/requests/{order.number}.json", {"api_key": wide}).json()[0]
    assert "address" in full  # the detailed view, within its reach


def test_a_revoked_key_stops_at_once(client, tree, owner, menu, api_key):
    from leifeng.orders.models import Open311Client

    services.open311_client_revoke(actor=owner, client_id=Open311Client.objects.get().pk)
    r = post(client, **good(menu, api_key))
    assert r.status_code == 403 and r.json()[0]["description"] == "api_key 无效。"
    assert not Order.objects.exists()


def test_making_a_key_needs_rights_at_the_node_and_is_audited(tree, owner, outsider):
    from django.core.exceptions import ValidationError

    from leifeng.core.errors import NotFound
    from leifeng.core.models import AuditEvent
    from leifeng.orders.codes import AuditAction
    from leifeng.orders.models import Open311Client

    with pytest.raises(NotFound):
        services.open311_client_create(actor=outsider, name="x", org_id=tree.st_a1.pk)
    with pytest.raises(ValidationError) as exc:  # the account it acts as must be able to enter orders there
        services.open311_client_create(actor=owner, name="x", org_id=tree.st_a1.pk, user=outsider)
    assert "user" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.open311_client_create(actor=owner, name=" ", org_id=tree.st_a1.pk)
    assert "name" in exc.value.error_dict
    assert not Open311Client.objects.exists()
    client, raw = services.open311_client_create(actor=owner, name="12345热线", org_id=tree.st_a1.pk)
    assert raw.startswith("o311_") and client.key_hash == Open311Client.hash(raw) and raw not in client.prefix + "…"
    assert AuditEvent.objects.filter(action=AuditAction.OPEN311_CLIENT_CREATE, object_id=str(client.pk)).exists()


def test_the_operator_makes_a_key_in_the_admin_and_sees_it_once(admin_client, tree, menu, client):
    from leifeng.orders.models import Open311Client

    admin = admin_client.get("/admin/").wsgi_request.user
    r = admin_client.post(
        "/admin/orders/open311client/add/", {"name": "12345热线", "org": tree.st_a1.pk, "user": admin.pk}, follow=True
    )
    assert r.status_code == 200
    found = Open311Client.objects.get()
    shown = [str(m) for m in r.context["messages"]]
    raw = next(re.search(r"o311_[\w-]+", m).group(0) for m in shown if "o311_" in m)
    assert Open311Client.hash(raw) == found.key_hash
    assert post(client, **good(menu, raw)).status_code == 200
    page = admin_client.get(f"/admin/orders/open311client/{found.pk}/change/").content.decode()
    assert raw not in page
