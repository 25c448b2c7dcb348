"""Throttling (core.throttle) and the client address behind the proxy (core.net): what an attacker and a
resident would notice."""

import threading

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings
from django.urls import reverse

from leifeng.accounts.models import Role
from leifeng.core import throttle
from leifeng.core.models import ThrottleBucket
from leifeng.core.net import client_ip
from leifeng.people.models import Volunteer
from leifeng.testing import PASSWORD, make_user

PROXY = {"BEHIND_PROXY": True, "PROXY_COUNT": 1}


def _from(address: str) -> dict:
    """The headers nginx sends for a client at `address` (it appends the address it saw)."""
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"10.9.9.9, {address}"}


# ---- the client address ------------------------------------------------------------------------


def test_client_address_without_a_proxy_ignores_forwarded_headers():
    request = RequestFactory().get("/", **_from("203.0.113.7"))
    assert client_ip(request) == "127.0.0.1"


@override_settings(**PROXY)
def test_behind_the_proxy_the_address_nginx_saw_wins_over_a_forged_one():
    request = RequestFactory().get("/", **_from("203.0.113.7"))
    assert client_ip(request) == "203.0.113.7"  # not the forged 10.9.9.9 the client wrote itself


@override_settings(**PROXY)
def test_behind_the_proxy_a_request_that_skipped_it_keeps_its_own_address():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4")
    assert client_ip(request) == "198.51.100.4"
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(request) == "198.51.100.4"


def test_a_request_without_an_address_has_none():
    from django.http import HttpRequest

    assert client_ip(HttpRequest()) is None  # what force_login hands to the login signals (axes stores NULL)


# ---- failed logins: spraying across user names, and nobody locks the owner out --------------------


def _login(client, username, password, address):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **_from(address))


@override_settings(**PROXY)
def test_twenty_wrong_passwords_for_twenty_user_names_from_one_address_are_throttled(client, tree):
    statuses = [_login(client, f"user{i}", "wrong-password", "203.0.113.7").status_code for i in range(20)]
    assert statuses[:10] == [200] * 10  # the form again, "wrong user name or password"
    assert statuses[10:] == [429] * 10
    refused = _login(client, "user99", "wrong-password", "203.0.113.7")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "请求过于频繁" in refused.content.decode()
    # Another address is not affected.
    assert _login(client, "user0", "wrong-password", "198.51.100.4").status_code == 200


@override_settings(**PROXY)
def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, tree):
    make_user("zhangsan", role=Role.ORG_STAFF, org=tree.st_a1)
    for _ in range(6):
        _login(client, "zhangsan", "wrong-password", "203.0.113.7")
    assert _login(client, "zhangsan", PASSWORD, "203.0.113.7").status_code == 429  # the attacker's pair is locked
    client.cookies.clear()
    owner = _login(client, "zhangsan", PASSWORD, "198.51.100.4")  # the owner, from their own address
    assert owner.status_code == 302


def test_api_token_login_failures_count_too(client, tree, settings):
    settings.THROTTLE_RULES = [{**r, "rate": "3/15m"} if r["name"] == "login" else r for r in settings.THROTTLE_RULES]
    statuses = [
        client.post(
            "/api/v1/accounts/token", {"username": f"u{i}", "password": "x" * 8}, content_type="application/json"
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] != [429] * 3 and 429 not in statuses[:3]
    assert statuses[3:] == [429, 429]
    body = client.post(
        "/api/v1/accounts/token", {"username": "u9", "password": "x" * 8}, content_type="application/json"
    ).json()
    assert body["error"]["code"] == "throttled"


# ---- anonymous writes ----------------------------------------------------------------------------


def _register(client, phone: str, address: str = "203.0.113.7"):
    return client.post(reverse("people:register"), {"name": "张三", "phone": phone}, **_from(address))


def test_self_registration_per_address_and_per_phone(client, tree, settings):
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1
    settings.THROTTLE_RULES = [
        {"name": "register-ip", "views": ["people:register"], "key": "ip", "rate": "4/h"},
        {"name": "register-phone", "views": ["people:register"], "key": "phone", "rate": "2/h"},
    ]
    before = Volunteer.objects.count()
    statuses = [_register(client, "13900000001").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the same phone a third time within the hour
    assert _register(client, "13900000002").status_code == 200  # the address's 4th
    assert _register(client, "13900000003").status_code == 429  # the address's 5th
    assert _register(client, "13900000004", "198.51.100.4").status_code == 200  # elsewhere: fine
    assert Volunteer.objects.count() == before  # (the forms were incomplete; nothing refused was written)


def test_signed_in_staff_are_not_throttled(client_for, owner, settings):
    settings.THROTTLE_RULES = [{"name": "register-ip", "views": ["people:register"], "key": "ip", "rate": "1/h"}]
    client = client_for(owner)
    assert [client.post(reverse("people:register"), {}).status_code for _ in range(3)] != [429] * 3
    assert 429 not in [client.post(reverse("people:register"), {}).status_code for _ in range(3)]


def test_a_new_window_starts_afresh(db):
    assert throttle.hit("k", 60, now=1020.0)[0] == 1  # the minute 1020–1079
    assert throttle.hit("k", 60, now=1021.0)[0] == 2
    hits, left = throttle.hit("k", 60, now=1041.0)
    assert hits == 3 and left == 39
    assert throttle.peek("k", 60, now=1079.0)[0] == 3
    assert throttle.hit("k", 60, now=1080.0)[0] == 1  # the next minute
    assert throttle.peek("k", 60, now=1080.0)[0] == 1


def test_rates_parse_and_bad_ones_are_named():
    assert throttle.parse_rate("10/h") == (10, 3600)
    assert throttle.parse_rate("5/15m") == (5, 900)
    with pytest.raises(ValueError, match="'ten'"):
        throttle.parse_rate("ten")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_count_exactly():
    if connection.vendor != "postgresql":
        pytest.skip("row-level concurrency needs PostgreSQL")
    seen = []
    barrier = threading.Barrier(16)

    def one():
        from django.db import connection as c

        barrier.wait()
        seen.append(throttle.hit("burst", 3600, now=7200.0)[0])
        c.close()

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 17))
    assert ThrottleBucket.objects.get(key="burst").hits == 16
