"""The API root (config/api.py): one error format, OpenAPI, token and session auth."""

import re

import pytest
from django.test import Client

from leifeng.accounts import services
from leifeng.config.api import api

ROOT = "/api/v1"


@pytest.fixture
def bearer(tree, owner):
    _token, raw = services.token_create(actor=owner, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_401_when_unauthenticated(client, tree):
    err = assert_error(client.get(f"{ROOT}/accounts/me"), 401, "unauthorized")
    assert "Bearer" in err["message"]


def test_401_for_a_wrong_token(tree):
    response = Client(headers={"Authorization": "Bearer lf_not-a-token"}).get(f"{ROOT}/accounts/me")
    assert_error(response, 401, "unauthorized")


def test_404_for_a_missing_or_out_of_scope_object(bearer, outsider):
    missing = assert_error(bearer.get(f"{ROOT}/accounts/users/999999"), 404, "not_found")
    hidden = assert_error(bearer.get(f"{ROOT}/accounts/users/{outsider.pk}"), 404, "not_found")
    assert missing == hidden  # out of scope looks exactly like nonexistent


def test_404_for_an_unknown_path(bearer):
    assert_error(bearer.get(f"{ROOT}/no/such/thing"), 404, "not_found")


def test_422_names_the_field(bearer, tree):
    response = bearer.post(f"{ROOT}/accounts/users", {"username": "x"}, content_type="application/json")
    err = assert_error(response, 422, "invalid")
    assert {"display_name", "password", "role", "org_id"} <= set(err["fields"])
    page = assert_error(bearer.get(f"{ROOT}/accounts/users", {"page": "abc"}), 422, "invalid")
    assert "page" in page["fields"]
    bad_json = bearer.post(f"{ROOT}/accounts/tokens", "{not json", content_type="application/json")
    assert bad_json.status_code in (400, 422) and "error" in bad_json.json()


def test_400_service_error_with_fields(bearer, tree):
    payload = {
        "username": "new",
        "display_name": "新人",
        "password": "short",
        "role": "org_staff",
        "org_id": tree.st_a1.pk,
    }
    err = assert_error(bearer.post(f"{ROOT}/accounts/users", payload, content_type="application/json"), 400, "invalid")
    assert list(err["fields"]) == ["password"]
    assert err["message"].startswith("password: ")


def test_405_with_allow_header(bearer):
    response = bearer.put(f"{ROOT}/accounts/me", {}, content_type="application/json")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_pages_keep_their_html_errors(client, tree):
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_openapi_lists_every_router(client, tree):
    response = client.get(f"{ROOT}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    for path in ["/api/v1/accounts/token", "/api/v1/accounts/me", "/api/v1/accounts/users", "/api/v1/health"]:
        assert path in paths
    for prefix, router in api._routers:
        if prefix.strip("/") and router.path_operations:
            assert any(p.startswith(f"/api/v1/{prefix.strip('/')}/") for p in paths), prefix
    assert set(doc["components"]["securitySchemes"]) == {"TokenAuth", "SessionAuth"}


def test_every_list_endpoint_is_paginated(client, tree):
    """A GET whose response is a list must be wrapped as {items, count} (DESIGN §6)."""
    doc = client.get(f"{ROOT}/openapi.json").json()
    schemas = doc["components"]["schemas"]
    bare = []
    for path, ops in doc["paths"].items():
        get = ops.get("get")
        if not get:
            continue
        content = get["responses"].get("200", {}).get("content", {}).get("application/json", {})
        schema = content.get("schema", {})
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("type") == "array":
            bare.append(path)
    assert bare == [], f"bare lists: {bare}"


def test_docs_are_served_from_our_static_files(client, tree):
    response = client.get(f"{ROOT}/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    inline = [s for s in re.findall(r"<script([^>]*)>", html) if "src=" not in s and "application/json" not in s]
    assert inline == []  # nothing the CSP would block


# ---- auth ----------------------------------------------------------------------------------


def test_token_auth_works_and_revoked_tokens_are_refused(tree, owner):
    token, raw = services.token_create(actor=owner, name="app")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get(f"{ROOT}/accounts/me").json()["username"] == "owner"
    token.refresh_from_db()
    assert token.last_used_at is not None
    services.token_revoke(actor=owner, token_id=token.pk)
    assert_error(client.get(f"{ROOT}/accounts/me"), 401, "unauthorized")


def test_tokens_of_deactivated_accounts_are_refused(tree, owner, colleague):
    _token, raw = services.token_create(actor=colleague, name="app")
    services.user_set_active(actor=owner, user=colleague, active=False)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{ROOT}/accounts/me")
    assert_error(response, 401, "unauthorized")


def test_session_auth_reads_without_csrf_but_writes_need_it(tree, colleague):
    client = Client(enforce_csrf_checks=True)
    client.force_login(colleague)
    assert client.get(f"{ROOT}/accounts/me").json()["username"] == "colleague"
    refused = client.post(f"{ROOT}/accounts/tokens", {"name": "x"}, content_type="application/json")
    assert_error(refused, 403, "csrf_failed")
    client.get("/")  # a page sets the CSRF cookie, as in a browser
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        f"{ROOT}/accounts/tokens", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201


def test_bearer_writes_need_no_csrf(bearer):
    response = bearer.post(f"{ROOT}/accounts/tokens", {"name": "y"}, content_type="application/json")
    assert response.status_code == 201


def test_anonymous_write_gets_401_not_a_csrf_error(tree):
    response = Client(enforce_csrf_checks=True).post(
        f"{ROOT}/accounts/tokens", {"name": "x"}, content_type="application/json"
    )
    assert_error(response, 401, "unauthorized")


def test_health_needs_no_auth(client, tree):
    assert client.get(f"{ROOT}/health").json() == {"status": "ok"}


def test_500_keeps_the_format_and_hides_the_traceback(tree, owner, monkeypatch):
    from leifeng.accounts import selectors

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "token_list", boom)
    _token, raw = services.token_create(actor=owner, name="app")
    client = Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)
    response = client.get(f"{ROOT}/accounts/tokens")
    err = assert_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode() and err["fields"] == {}
