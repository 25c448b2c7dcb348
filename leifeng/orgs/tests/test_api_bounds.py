"""/api/v1/orgs/: ids beyond bigint are a 422 naming the field."""

import pytest

HUGE = 2**63 + 5


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "method,url,body,field",
    [
        ("get", "/api/v1/orgs/{huge}", None, "org_id"),
        ("patch", "/api/v1/orgs/{huge}", {"name": "x"}, "org_id"),
        ("post", "/api/v1/orgs/1/move", {"parent_id": HUGE}, "parent_id"),
        ("get", "/api/v1/orgs/units/{huge}", None, "unit_id"),
        ("get", "/api/v1/orgs/units?org={huge}", None, "org"),
        ("post", "/api/v1/orgs/units", {"org_id": HUGE, "name": "x"}, "org_id"),
        ("get", "/api/v1/orgs/?parent={huge}", None, "parent"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, url, body, field, client_for, owner):
    """Found by the API fuzz: an id above bigint reached the database (a 500); now the schema refuses it."""
    response = _call(client_for(owner), method, url.format(huge=HUGE), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
