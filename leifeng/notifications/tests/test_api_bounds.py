"""/api/v1/notifications/: ids beyond bigint are a 422 naming the field."""

import pytest

HUGE = 2**63 + 5


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "method,url,body,field",
    [
        ("get", "/api/v1/notifications/{huge}", None, "notification_id"),
        ("post", "/api/v1/notifications/{huge}/read", {}, "notification_id"),
        ("get", "/api/v1/notifications/relays/{huge}", None, "relay_id"),
        ("post", "/api/v1/notifications/deliveries/{huge}/retry", {}, "delivery_id"),
        ("post", "/api/v1/notifications/relays/", {"org_id": HUGE, "message": "x"}, "org_id"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, url, body, field, client_for, owner):
    """Found by the API fuzz: an id above bigint reached the database (a 500); now the schema refuses it."""
    response = _call(client_for(owner), method, url.format(huge=HUGE), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
