"""/api/v1/attendance/: check-in with Idempotency-Key, roll call, duration codes, kiosk token; three personas."""

import pytest
from django.utils import timezone

from leifeng.attendance import services
from leifeng.attendance.models import Attendance
from leifeng.attendance.tests.conftest import at, sign_up

pytestmark = pytest.mark.django_db
API = "/api/v1/attendance"


@pytest.fixture
def running(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(0, 10))


def test_check_in_with_idempotency_header(client_for, activity, post, vol, running):
    c = client_for(vol.user)
    token = services.kiosk_token(activity)
    r1 = c.post(f"{API}/check", {"token": token}, content_type="application/json", headers={"Idempotency-Key": "x1"})
    r2 = c.post(f"{API}/check", {"token": token}, content_type="application/json", headers={"Idempotency-Key": "x1"})
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["action"] == "in" and r1.json()["attendance"]["late"] is True
    assert r2.json()["replayed"] is True and r2.json()["attendance"]["id"] == r1.json()["attendance"]["id"]
    assert Attendance.objects.count() == 1


def test_check_in_errors_use_the_one_format(client_for, activity, post, vol, running):
    c = client_for(vol.user)
    missing = c.post(f"{API}/check", {"token": services.kiosk_token(activity)}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["error"]["fields"].get("key")
    stale = c.post(
        f"{API}/check",
        {"token": services.kiosk_token(activity, now=at(-1)), "key": "k"},
        content_type="application/json",
    )
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "stale_token"


def test_kiosk_token_three_personas(client_for, activity, owner, colleague, outsider, running):
    for user in (owner, colleague):
        r = client_for(user).get(f"{API}/activities/{activity.pk}/kiosk-token")
        assert r.status_code == 200 and r.json()["url"].startswith("http") and r.json()["valid_seconds"] == 60
    assert client_for(outsider).get(f"{API}/activities/{activity.pk}/kiosk-token").status_code == 404


def test_roll_call_api(client_for, post, vol, owner, outsider, running):
    body = {"volunteer_number": vol.number, "mark": "late"}
    assert (
        client_for(outsider).post(f"{API}/posts/{post.pk}/roll-call", body, content_type="application/json").status_code
        == 404
    )
    r = client_for(owner).post(f"{API}/posts/{post.pk}/roll-call", body, content_type="application/json")
    assert r.status_code == 200 and r.json()["presence"] == "open"
    roster = client_for(owner).get(f"{API}/posts/{post.pk}/roll-call")
    assert roster.json()["count"] == 1 and roster.json()["items"][0]["mark"] == "late"


def test_duration_code_api(client_for, post, vol, owner, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(2))
    r = client_for(owner).post(f"{API}/posts/{post.pk}/duration-codes", {}, content_type="application/json")
    assert r.status_code == 201
    done = client_for(vol.user).post(
        f"{API}/duration-code",
        {"code": r.json()["code"]},
        content_type="application/json",
        headers={"Idempotency-Key": "d"},
    )
    assert done.status_code == 200 and done.json()["attendance"]["minutes"] == 120


def test_attendance_list_query_count(
    client_for, activity, post, owner, outsider, make_volunteer, django_assert_num_queries
):
    for _i in range(6):
        v = make_volunteer()
        sign_up(post, v)
        services.roll_call_mark(actor=owner, post_id=post.pk, volunteer_id=v.pk, mark="present", now=at(0))
    c = client_for(owner)
    url = f"{API}/activities/{activity.pk}/attendance"
    assert client_for(outsider).get(url).status_code == 404
    c = client_for(owner)
    for size in (2, 6):
        # session with its account, roles and volunteer flag (accounts.middleware), activity with org, count,
        # page of presences with post, volunteer and record
        with django_assert_num_queries(4):
            r = c.get(url, {"page_size": size})
        assert r.json()["count"] == 6 and len(r.json()["items"]) == size


def test_mine(client_for, activity, post, vol, running):
    services.check(actor=vol.user, token=services.kiosk_token(activity), key="m")
    r = client_for(vol.user).get(f"{API}/mine")
    assert r.json()["count"] == 1
