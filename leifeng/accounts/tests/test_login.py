"""Logging in (DESIGN §8): by phone or user name, argon2 hashes, throttled failures (django-axes)."""

import importlib

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import override_settings
from django.urls import reverse

from leifeng.accounts.models import Role
from leifeng.testing import PASSWORD, make_user


@pytest.fixture
def staff(tree):
    return make_user("zhangsan", role=Role.ORG_STAFF, org=tree.st_a1, phone="13912345678", display_name="张三")


def login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


@pytest.mark.parametrize("typed", ["zhangsan", "13912345678", "+86 139-1234-5678"])
def test_login_by_user_name_or_phone(client, staff, typed):
    response = login(client, typed, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home:home")
    assert client.get(reverse("home:home")).context["user"] == staff


def test_wrong_password_shows_the_form_again(client, staff):
    response = login(client, "zhangsan", "nope")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not response.context["user"].is_authenticated


def test_five_failures_lock_the_account_out(client, staff):
    statuses = [login(client, "zhangsan", "wrong-password").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure already answers with the lockout
    response = login(client, "zhangsan", PASSWORD)  # the right password, too late
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert "登录失败次数过多" in response.content.decode()
    assert not client.get(reverse("home:home")).wsgi_request.user.is_authenticated


def test_phone_and_user_name_share_one_failure_counter(client, staff):
    for typed in ["zhangsan", "13912345678", "+86 13912345678", "zhangsan", "139 1234 5678"]:
        login(client, typed, "wrong-password")
    assert login(client, "zhangsan", PASSWORD).status_code == 429


def test_four_failures_then_success_resets_the_counter(client, staff):
    for _ in range(4):
        login(client, "zhangsan", "wrong-password")
    assert login(client, "zhangsan", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        login(client, "zhangsan", "wrong-password")
    assert login(client, "zhangsan", PASSWORD).status_code == 302


def test_lockout_of_one_account_leaves_others_alone(client, staff, tree):
    make_user("lisi", role=Role.ORG_STAFF, org=tree.st_a1)
    for _ in range(5):
        login(client, "zhangsan", "wrong-password")
    assert login(client, "lisi", PASSWORD).status_code == 302


def test_deactivated_account_cannot_log_in(client, staff):
    staff.is_active = False
    staff.save()
    assert login(client, "zhangsan", PASSWORD).status_code == 200


def test_real_settings_hash_new_passwords_with_argon2():
    """settings_test uses MD5 for speed; production must use argon2 (DESIGN §8)."""
    real = importlib.import_module("leifeng.config.settings")
    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=real.PASSWORD_HASHERS):
        encoded = make_password("Str0ng-passw0rd")
        assert encoded.startswith("argon2$argon2id$")
        assert identify_hasher(encoded).algorithm == "argon2"


def test_login_page_is_chinese_and_mobile_ready(client, tree):
    html = client.get(reverse("accounts:login")).content.decode()
    assert "登录" in html and "手机号或用户名" in html
    assert 'name="viewport"' in html
