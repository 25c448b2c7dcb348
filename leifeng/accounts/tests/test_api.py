import pytest
from django.test import Client

from leifeng.accounts import services
from leifeng.accounts.models import ApiToken, Role, User
from leifeng.core.models import AuditEvent
from leifeng.testing import PASSWORD, make_user

API = "/api/v1/accounts"
GOOD_PASSWORD = "Str0ng-passw0rd"


@pytest.fixture
def api_for():
    """api_for(user) → a client that sends `Authorization: Bearer <a new token of user>`."""

    def make(user) -> Client:
        _token, raw = services.token_create(actor=user, name="test")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


def make_staff(tree, n: int) -> None:
    for i in range(n):
        make_user(f"staff{i:03d}", role=Role.ORG_STAFF, org=tree.st_a1)


# ---- POST /token ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["colleague", "13900009999"])
def test_token_login_by_user_name_or_phone(client, tree, colleague, typed):
    colleague.phone = "13900009999"
    colleague.save()
    response = client.post(
        f"{API}/token", {"username": typed, "password": PASSWORD, "token_name": "app"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("lf_") and body["name"] == "app"
    assert ApiToken.objects.get(pk=body["id"]).key_hash == ApiToken.hash(body["token"])
    me = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["username"] == "colleague"


def test_token_login_wrong_password(client, tree, colleague):
    response = client.post(f"{API}/token", {"username": "colleague", "password": "x"}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()


def test_token_login_is_throttled_like_the_login_page(client, tree, colleague):
    for _ in range(5):
        client.post(f"{API}/token", {"username": "colleague", "password": "x"}, content_type="application/json")
    response = client.post(
        f"{API}/token", {"username": "colleague", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert not ApiToken.objects.exists()


# ---- /me and /tokens -----------------------------------------------------------------------


def test_me_lists_all_my_roles(tree, owner, api_for):
    body = api_for(owner).get(f"{API}/me").json()
    assert body["username"] == "owner"
    assert [(r["role"], r["org_name"]) for r in body["roles"]] == [("org_admin", "东关社区站")]


def test_tokens_list_create_revoke(tree, colleague, api_for, django_assert_num_queries):
    client = api_for(colleague)
    created = client.post(f"{API}/tokens", {"name": "second"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["token"].startswith("lf_")
    # 1 token lookup with its user, 2 count, 3 page
    with django_assert_num_queries(3):
        listed = client.get(f"{API}/tokens").json()
    assert listed["count"] == 2 and {t["name"] for t in listed["items"]} == {"test", "second"}
    assert "token" not in listed["items"][0] and "key_hash" not in listed["items"][0]
    token_id = created.json()["id"]
    assert client.delete(f"{API}/tokens/{token_id}").status_code == 204
    revoked = Client(headers={"Authorization": f"Bearer {created.json()['token']}"}).get(f"{API}/me")
    assert revoked.status_code == 401


def test_cannot_revoke_another_users_token(tree, colleague, owner, api_for):
    theirs, _ = services.token_create(actor=owner, name="owner's")
    response = api_for(colleague).delete(f"{API}/tokens/{theirs.pk}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


# ---- /users --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 60])
def test_users_list_query_count_is_constant(tree, owner, api_for, django_assert_num_queries, n):
    make_staff(tree, n)
    client = api_for(owner)
    client.get(f"{API}/me")  # the token's first use stamps last_used_at (one UPDATE, then at most every 5 min)
    # 1 token lookup with its user, 2 actor's roles (scope), 3 count, 4 page, 5 in-scope roles (prefetch)
    with django_assert_num_queries(5):
        body = client.get(f"{API}/users", {"page_size": 50}).json()
    assert body["count"] == n + 1 and len(body["items"]) == min(n + 1, 50)


def test_users_list_three_personas(tree, owner, colleague, outsider, api_for):
    names = [u["username"] for u in api_for(owner).get(f"{API}/users").json()["items"]]
    assert names == ["colleague", "owner"]
    assert api_for(colleague).get(f"{API}/users").status_code == 404
    names = [u["username"] for u in api_for(outsider).get(f"{API}/users").json()["items"]]
    assert names == ["outsider"]


def test_users_list_filters(tree, owner, colleague, api_for):
    body = api_for(owner).get(f"{API}/users", {"role": "org_staff"}).json()
    assert [u["username"] for u in body["items"]] == ["colleague"]


def test_create_user(tree, owner, api_for):
    payload = {
        "username": "zhaoliu",
        "display_name": "赵六",
        "password": GOOD_PASSWORD,
        "phone": "13600000001",
        "role": "org_staff",
        "org_id": tree.st_a1.pk,
    }
    response = api_for(owner).post(f"{API}/users", payload, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "zhaoliu" and body["roles"][0]["org_id"] == tree.st_a1.pk
    assert AuditEvent.objects.filter(action="user.create", actor=owner).exists()


def test_create_user_errors(tree, owner, outsider, colleague, api_for):
    payload = {"username": "z", "display_name": "Z", "password": "1", "role": "org_staff", "org_id": tree.st_a1.pk}
    bad = api_for(owner).post(f"{API}/users", {**payload, "phone": "12"}, content_type="application/json")
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"phone", "password"}
    assert api_for(outsider).post(f"{API}/users", payload, content_type="application/json").status_code == 404
    assert api_for(colleague).post(f"{API}/users", payload, content_type="application/json").status_code == 404
    missing = api_for(owner).post(f"{API}/users", {"username": "z"}, content_type="application/json")
    assert missing.status_code == 422 and "display_name" in missing.json()["error"]["fields"]
    assert not User.objects.filter(username="z").exists()


def test_grant_and_revoke_roles(tree, owner, colleague, outsider, api_for):
    client = api_for(owner)
    url = f"{API}/users/{colleague.pk}/roles"
    response = client.post(url, {"role": "team_leader", "org_id": tree.st_a1.pk}, content_type="application/json")
    assert response.status_code == 201 and response.json()["role"] == "team_leader"
    role_id = response.json()["id"]
    assert api_for(outsider).delete(f"{url}/{role_id}").status_code == 404
    elsewhere = {"role": "org_staff", "org_id": tree.st_b1.pk}
    assert api_for(outsider).post(url, elsewhere, content_type="application/json").status_code == 404
    assert api_for(colleague).delete(f"{url}/{role_id}").status_code == 404
    assert client.delete(f"{url}/{role_id}").status_code == 204
    assert list(colleague.roles.values_list("role", flat=True)) == ["org_staff"]


def test_grant_errors_are_in_the_one_format(tree, owner, colleague, api_for):
    client = api_for(owner)
    url = f"{API}/users/{colleague.pk}/roles"
    above = client.post(url, {"role": "org_staff", "org_id": tree.sub_a.pk}, content_type="application/json")
    assert above.status_code == 404
    platform = client.post(url, {"role": "platform_admin", "org_id": tree.st_a1.pk}, content_type="application/json")
    assert platform.status_code == 403 and platform.json()["error"]["code"] == "platform_role"
    dup = client.post(url, {"role": "org_staff", "org_id": tree.st_a1.pk}, content_type="application/json")
    assert dup.status_code == 409 and dup.json()["error"]["fields"] == {"role": [dup.json()["error"]["message"]]}
    last = client.delete(f"{url}/{colleague.roles.get().pk}")
    assert last.status_code == 400 and last.json()["error"]["code"] == "last_role"
