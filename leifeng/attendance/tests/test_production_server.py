"""Lei Feng Day's requests through the production server itself (granian, docs/operations.md) over HTTP.

The other tests call the WSGI entry point in process; this one starts the server as production runs it, on the
test database, and sends what a phone and a kiosk send, over one keep-alive connection: the burst paths must
answer there too, with Django's headers, and whatever they hand over must reach Django intact (body included).
"""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from leifeng.accounts.models import ApiToken
from leifeng.accounts.services import token_create
from leifeng.activities.models import Activity, Post, Signup
from leifeng.attendance import services
from leifeng.attendance.models import Attendance, CheckRequest
from leifeng.attendance.tests.conftest import sign_up
from leifeng.testing import ProductionServer

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the server is another process: it sees committed rows only
    pytest.mark.skipif(connection.vendor != "postgresql", reason="another process cannot open SQLite's :memory:"),
]


def phone(volunteer) -> str:
    row, raw = token_create(actor=volunteer.user, name="手机")
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return raw


def test_check_in_and_sign_up_through_the_production_server(tree, owner, make_volunteer):
    now = timezone.now()
    activity = Activity.objects.create(
        org=tree.st_a1, title="文明交通劝导", category="other", address="东关路口", status="published", created_by=owner
    )
    post = Post.objects.create(
        activity=activity,
        title="路口劝导岗",
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(hours=2),
        quota=20,
    )
    later = Post.objects.create(
        activity=activity,
        title="明日岗",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        quota=20,
    )
    li, wang = make_volunteer(name="李娜"), make_volunteer(name="王芳")
    sign_up(post, li)
    li_bearer, wang_bearer = phone(li), phone(wang)
    code = json.dumps({"token": services.kiosk_token(activity)}).encode()
    key = uuid.uuid4().hex

    with ProductionServer() as server:
        assert server.request("GET", "/healthz")[0] == 200
        status, headers, body = server.request(
            "POST", "/api/v1/attendance/check", code, Authorization=f"Bearer {li_bearer}", Idempotency_Key=key
        )
        assert status == 200, body
        assert body["action"] == "in" and body["replayed"] is False and body["attendance"]["post_id"] == post.pk
        assert headers["content-language"] == "zh-hans" and headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in headers and headers["x-content-type-options"] == "nosniff"

        # the phone did not hear the answer and sends it again: the same presence, said to be a replay
        status, _, again = server.request(
            "POST", "/api/v1/attendance/check", code, Authorization=f"Bearer {li_bearer}", Idempotency_Key=key
        )
        assert status == 200 and again["replayed"] is True
        assert again["attendance"]["id"] == body["attendance"]["id"]

        # not signed up: handed to Django, which reads the body again and refuses in its own words
        status, _, refused = server.request(
            "POST", "/api/v1/attendance/check", code, Authorization=f"Bearer {wang_bearer}", Idempotency_Key="w1"
        )
        assert status in (400, 409) and refused["error"]["message"]

        # a sign-up for tomorrow, in English
        status, headers, signup = server.request(
            "POST",
            f"/api/v1/activities/posts/{later.pk}/signups",
            Authorization=f"Bearer {wang_bearer}",
            Accept_Language="en",
        )
        assert status == 201 and signup["status"] == "confirmed", signup
        assert headers["content-language"] == "en"

    assert Attendance.objects.filter(volunteer=li).count() == 1 and Attendance.objects.count() == 1
    assert CheckRequest.objects.filter(key=key).count() == 1
    assert not CheckRequest.objects.filter(key="w1").exists()
    assert Signup.objects.get(volunteer=wang).post_id == later.pk
    later.refresh_from_db()
    assert later.filled == 1
