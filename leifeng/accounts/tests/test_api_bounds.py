"""/api/v1/accounts/: ids beyond bigint are a 422 naming the field; the login's 401 is documented."""

import pytest

HUGE = 2**63 + 5


def _call(client, method, url, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "method,url,body,field",
    [
        ("get", "/api/v1/accounts/users/{huge}", None, "user_id"),
        ("delete", "/api/v1/accounts/tokens/{huge}", None, "token_id"),
        ("delete", "/api/v1/accounts/users/1/roles/{huge}", None, "role_id"),
        ("post", "/api/v1/accounts/users/{huge}/roles", {"role": "org_staff", "org_id": 1}, "user_id"),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, url, body, field, client_for, owner):
    """Found by the API fuzz: an id above bigint reached the database (a 500); now the schema refuses it."""
    response = _call(client_for(owner), method, url.format(huge=HUGE), body)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]


def test_a_wrong_password_answers_the_documented_401(client, owner):
    from leifeng.config.api import api

    documented = api.get_openapi_schema()["paths"]["/api/v1/accounts/token"]["post"]["responses"]
    body = {"username": "owner", "password": "wrong", "token_name": "x"}
    response = client.post("/api/v1/accounts/token", body, content_type="application/json")
    assert response.status_code == 401 and 401 in documented
    assert response.json()["error"]["code"] == "invalid_credentials"
