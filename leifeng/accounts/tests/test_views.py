import pytest
from django.urls import reverse

from leifeng.accounts import services
from leifeng.accounts.models import ApiToken, Role, User
from leifeng.core.models import AuditEvent
from leifeng.testing import PASSWORD, make_user

GOOD_PASSWORD = "Str0ng-passw0rd"


def make_staff(tree, n: int) -> None:
    for i in range(n):
        make_user(f"staff{i:03d}", role=Role.ORG_STAFF, org=tree.st_a1, display_name=f"员工{i}")


# ---- user list -----------------------------------------------------------------------------


def test_user_list_for_owner_shows_own_subtree(tree, owner, colleague, outsider, client_for):
    response = client_for(owner).get(reverse("accounts:user_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "colleague" in html and "专管员" in html
    assert "outsider" not in html


def test_user_list_colleague_gets_404(tree, colleague, client_for):
    assert client_for(colleague).get(reverse("accounts:user_list")).status_code == 404


def test_user_list_outsider_does_not_see_owner_accounts(tree, owner, colleague, outsider, client_for):
    html = client_for(outsider).get(reverse("accounts:user_list")).content.decode()
    assert "colleague" not in html and "owner" not in html
    assert "outsider" in html


def test_user_list_anonymous_goes_to_login(client, tree):
    response = client.get(reverse("accounts:user_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("n", [3, 60])
def test_user_list_query_count_does_not_grow(tree, owner, client_for, django_assert_num_queries, n):
    make_staff(tree, n)
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 count, 3 page of users,
    # 4 their in-scope roles with their nodes (prefetch)
    with django_assert_num_queries(4):
        response = client.get(reverse("accounts:user_list"))
    assert len(response.context["page"].object_list) == min(n + 1, 50)


def test_user_list_filters_and_pages(tree, owner, client_for):
    make_staff(tree, 60)
    make_user("leader", role=Role.TEAM_LEADER, org=tree.st_a1, phone="13812345678")
    client = client_for(owner)
    page2 = client.get(reverse("accounts:user_list"), {"page": 2})
    assert page2.context["page"].number == 2 and len(page2.context["page"].object_list) == 12
    by_role = client.get(reverse("accounts:user_list"), {"role": Role.TEAM_LEADER})
    assert [u.username for u in by_role.context["page"]] == ["leader"]
    by_phone = client.get(reverse("accounts:user_list"), {"q": "13812"})
    assert [u.username for u in by_phone.context["page"]] == ["leader"]


def test_user_list_htmx_returns_the_results_only(tree, owner, client_for):
    response = client_for(owner).get(reverse("accounts:user_list"), {"q": "owner"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "<html" not in html


# ---- create --------------------------------------------------------------------------------


def test_owner_creates_an_account(tree, owner, client_for):
    client = client_for(owner)
    assert client.get(reverse("accounts:user_create")).status_code == 200
    response = client.post(
        reverse("accounts:user_create"),
        {
            "username": "wangwu",
            "display_name": "王五",
            "phone": "13700000001",
            "password": GOOD_PASSWORD,
            "role": Role.ORG_STAFF,
            "org": tree.st_a1.pk,
        },
    )
    user = User.objects.get(username="wangwu")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert user.roles.get().org == tree.st_a1


def test_create_form_offers_only_own_nodes_and_shows_errors(tree, owner, client_for):
    client = client_for(owner)
    form = client.get(reverse("accounts:user_create")).context["form"]
    assert [int(pk) for pk, _ in form.fields["org"].choices] == [tree.st_a1.pk]
    assert Role.PLATFORM_ADMIN not in dict(form.fields["role"].choices)
    data = {"username": "x", "display_name": "X", "phone": "123", "password": "1", "role": "org_staff"}
    response = client.post(reverse("accounts:user_create"), {**data, "org": tree.st_b1.pk})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"org"}
    response = client.post(reverse("accounts:user_create"), {**data, "org": tree.st_a1.pk})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"phone", "password"}
    assert not User.objects.filter(username="x").exists()


def test_create_page_is_404_for_colleague(tree, colleague, client_for):
    assert client_for(colleague).get(reverse("accounts:user_create")).status_code == 404


# ---- detail, roles, access -----------------------------------------------------------------


def test_user_detail_three_personas(tree, owner, colleague, outsider, client_for):
    url = reverse("accounts:user_detail", args=[colleague.pk])
    response = client_for(owner).get(url)
    assert response.status_code == 200
    assert "组织工作人员" in response.content.decode()  # the role, in Chinese
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(colleague).get(reverse("accounts:user_detail", args=[owner.pk])).status_code == 404


def test_owner_grants_and_revokes_a_role(tree, owner, colleague, client_for):
    client = client_for(owner)
    response = client.post(
        reverse("accounts:user_role_grant", args=[colleague.pk]), {"role": Role.TEAM_LEADER, "org": tree.st_a1.pk}
    )
    assert response.status_code == 302
    ra = colleague.roles.get(role=Role.TEAM_LEADER)
    response = client.post(reverse("accounts:user_role_revoke", args=[colleague.pk, ra.pk]))
    assert response.status_code == 302
    assert list(colleague.roles.values_list("role", flat=True)) == [Role.ORG_STAFF]


def test_revoking_the_last_role_explains_why_not(tree, owner, colleague, client_for):
    ra = colleague.roles.get()
    response = client_for(owner).post(reverse("accounts:user_role_revoke", args=[colleague.pk, ra.pk]))
    assert response.status_code == 400
    assert "停用" in response.content.decode()  # "deactivate the account instead"
    assert colleague.roles.exists()


def test_outsider_cannot_grant_or_revoke(tree, owner, colleague, outsider, client_for):
    client = client_for(outsider)
    ra = colleague.roles.get()
    grant_url = reverse("accounts:user_role_grant", args=[colleague.pk])
    assert client.post(grant_url, {"role": Role.ORG_STAFF, "org": tree.st_b1.pk}).status_code == 404
    assert client.post(reverse("accounts:user_role_revoke", args=[colleague.pk, ra.pk])).status_code == 404
    assert colleague.roles.count() == 1


def test_deactivated_colleague_is_logged_out_at_once(tree, owner, colleague, client_for):
    from django.test import Client

    theirs = Client()
    theirs.force_login(colleague)
    assert theirs.get(reverse("home:home")).status_code == 200
    response = client_for(owner).post(reverse("accounts:user_set_active", args=[colleague.pk]), {"active": "0"})
    assert response.status_code == 302
    response = theirs.get(reverse("home:home"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_owner_resets_a_password(tree, owner, colleague, client_for):
    response = client_for(owner).post(
        reverse("accounts:user_password_reset", args=[colleague.pk]), {"password": GOOD_PASSWORD}
    )
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.check_password(GOOD_PASSWORD)


def test_owner_cannot_change_an_account_that_works_above(tree, owner, center_admin, client_for):
    from leifeng.testing import grant

    grant(center_admin, Role.ORG_STAFF, tree.st_a1)
    client = client_for(owner)
    page = client.get(reverse("accounts:user_detail", args=[center_admin.pk]))
    assert page.status_code == 200 and not page.context["can_manage"]
    response = client.post(reverse("accounts:user_password_reset", args=[center_admin.pk]), {"password": GOOD_PASSWORD})
    assert response.status_code == 400
    center_admin.refresh_from_db()
    assert not center_admin.check_password(GOOD_PASSWORD)


def test_user_edit(tree, owner, colleague, client_for):
    response = client_for(owner).post(
        reverse("accounts:user_detail", args=[colleague.pk]),
        {"display_name": "网格员小李", "phone": "13700000009", "email": ""},
    )
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert (colleague.display_name, colleague.phone) == ("网格员小李", "13700000009")


# ---- my account ----------------------------------------------------------------------------


def test_me_shows_my_roles(tree, owner, client_for):
    html = client_for(owner).get(reverse("accounts:me")).content.decode()
    assert "组织管理员" in html and "东关社区站" in html


def test_me_change_password_keeps_me_logged_in(tree, colleague, client_for):
    client = client_for(colleague)
    response = client.post(
        reverse("accounts:me_password"),
        {"old_password": PASSWORD, "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.check_password(GOOD_PASSWORD)
    assert client.get(reverse("accounts:me")).status_code == 200


def test_me_change_password_wrong_old(tree, colleague, client_for):
    response = client_for(colleague).post(
        reverse("accounts:me_password"),
        {"old_password": "nope", "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert response.status_code == 400
    assert "old_password" in response.context["password_form"].errors


def test_token_is_shown_once_and_can_be_revoked(tree, colleague, client_for):
    client = client_for(colleague)
    response = client.post(reverse("accounts:me_token_create"), {"name": "签到一体机"})
    raw = response.context["new_token"]
    assert raw.startswith("lf_") and raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    later = client.get(reverse("accounts:me")).content.decode()
    assert raw not in later and raw[:8] in later and "签到一体机" in later
    token = ApiToken.objects.get(user=colleague)
    assert client.post(reverse("accounts:me_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_cannot_revoke_someone_elses_token(tree, colleague, owner, client_for):
    client = client_for(colleague)
    client.post(reverse("accounts:me_token_create"), {"name": "mine"})
    token = ApiToken.objects.get()
    assert client_for(owner).post(reverse("accounts:me_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_account_writes_from_pages_are_audited(tree, owner, colleague, client_for):
    client_for(owner).post(reverse("accounts:user_set_active", args=[colleague.pk]), {"active": "0"})
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.org) == ("user.deactivate", owner, tree.st_a1)


@pytest.mark.parametrize("n", [1, 40])
def test_me_query_count_does_not_grow_with_tokens(tree, colleague, client_for, django_assert_num_queries, n):
    for i in range(n):
        token, _raw = services.token_create(actor=colleague, name=f"t{i}")
        if i >= 5:
            services.token_revoke(actor=colleague, token_id=token.pk)
    client = client_for(colleague)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 my roles with nodes,
    # 3 my tokens (bounded)
    with django_assert_num_queries(3):
        response = client.get(reverse("accounts:me"))
    assert len(response.context["tokens"]) == min(n, services.MAX_ACTIVE_TOKENS + 10)
