"""The kiosk check-in through the production WSGI entry point (leifeng/config/wsgi.py → attendance/fast.py).

On PostgreSQL the common case is answered before Django (no Django cursor runs); everything else is handed to
Django. Either way the phone must see exactly what the API always answered: these tests send real WSGI requests
and compare the two paths. On SQLite the fast path stands aside and the same answers come from Django.
"""

import json
import threading
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from leifeng.accounts.models import ApiToken
from leifeng.accounts.services import token_create
from leifeng.attendance import services
from leifeng.attendance.models import Attendance, CheckRequest
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.testing import DjangoQueries, wsgi_call

PATH = "/api/v1/attendance/check"
pytestmark = pytest.mark.django_db(transaction=True)  # real commits, as under gunicorn
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast path serves PostgreSQL only")


def send(body, *, token: str | None = None, key: str | None = None, host: str = "testserver", **headers):
    """A check-in through the WSGI application, as gunicorn makes it: (status, headers, JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if token:
        headers["authorization"] = f"Bearer {token}"
    if key:
        headers["idempotency_key"] = key
    return wsgi_call("POST", PATH, raw, host=host, **headers)


@pytest.fixture
def running(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(0, 10))


@pytest.fixture
def bearer(vol):
    """A phone's token, used a moment ago (a first use goes through Django, which stamps last_used_at)."""
    row, raw = token_create(actor=vol.user, name="手机")
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=at(0, 9))
    return raw


@pytest.fixture
def code(activity):
    return services.kiosk_token(activity, now=at(0, 10))


@on_postgres
def test_check_in_answered_before_django_with_the_same_answer(
    activity, post, vol, bearer, code, make_volunteer, running
):
    with DjangoQueries() as fast:
        status, headers, body = send({"token": code}, token=bearer, key="k1")
    assert status == 200 and fast.count == 0
    att = Attendance.objects.get()
    assert body == {
        "action": "in",
        "replayed": False,
        "attendance": {
            "id": att.pk,
            "activity_id": activity.pk,
            "post_id": post.pk,
            "volunteer_id": vol.pk,
            "volunteer_number": "",
            "volunteer_name": "",
            "status": "open",
            "checked_in_at": DjangoJSONEncoder().default(at(0, 10)),
            "checked_out_at": None,
            "method_in": "kiosk",
            "method_out": "",
            "late": True,
            "auto_closed": False,
            "minutes": None,
        },
    }
    assert att.checked_in_at == at(0, 10) and att.late and att.method_in == "kiosk"
    request = CheckRequest.objects.get(key="k1")
    assert request.attendance_id == att.pk and request.action == "in" and request.user_id == vol.user_id

    # someone else through Django (fast path switched off): the same shape, the same headers
    other = make_volunteer(name="王芳")
    sign_up(post, other)
    other_row, other_bearer = token_create(actor=other.user, name="手机")
    ApiToken.objects.filter(pk=other_row.pk).update(last_used_at=at(0, 9))
    with override_settings(LEIFENG_FAST_PATHS=False), DjangoQueries() as full:
        status2, headers2, body2 = send({"token": code}, token=other_bearer, key="k2")
    assert status2 == 200 and full.count > 0
    assert body2["attendance"] | {"id": 0, "volunteer_id": 0} == body["attendance"] | {"id": 0, "volunteer_id": 0}
    assert {k: v for k, v in headers.items() if k != "Content-Length"} == {
        k: v for k, v in headers2.items() if k != "Content-Length"
    }


@on_postgres
def test_english_speakers_get_the_language_django_would_pick(activity, post, vol, bearer, code, running):
    status, headers, _ = send({"token": code}, token=bearer, key="en", accept_language="en-US,en;q=0.9")
    assert status == 200 and headers["Content-Language"] == "en"


def test_a_retry_is_replayed_and_a_second_scan_checks_out(activity, post, vol, bearer, code, running):
    first = send({"token": code}, token=bearer, key="a")[2]
    retry = send({"token": code}, token=bearer, key="a")[2]
    assert retry["replayed"] is True and retry["attendance"]["id"] == first["attendance"]["id"]
    status, _, out = send({"token": code, "key": "b"}, token=bearer)  # the key may also come in the body
    assert status == 200 and out["action"] == "out" and out["attendance"]["id"] == first["attendance"]["id"]
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 2


def test_refusals_come_from_the_api_unchanged_and_write_nothing(activity, post, post2, vol, bearer, running):
    stale = services.kiosk_token(activity, now=at(-1))
    cases = [
        (send({"token": stale}, token=bearer, key="s"), 400, "stale_token"),
        (send({"token": "1:abc:def"}, token=bearer, key="t"), 400, None),
        (send({"token": services.kiosk_token(activity)}, token="lf_wrong", key="w"), 401, None),
        (send({"token": services.kiosk_token(activity)}, token=bearer), 400, "invalid"),  # no key anywhere
        (send(b"{not json", token=bearer, key="j"), 400, None),
        (send({"token": services.kiosk_token(activity), "lat": "north"}, token=bearer, key="l"), 422, None),
    ]
    for (status, headers, body), want_status, want_code in cases:
        assert status == want_status, body
        assert headers["Content-Type"].startswith("application/json") and "error" in body
        if want_code:
            assert body["error"]["code"] == want_code
    assert Attendance.objects.count() == 0 and CheckRequest.objects.count() == 0


def test_someone_not_signed_up_is_told_so(activity, post, make_volunteer, running):
    stranger = make_volunteer(name="路人")
    raw = token_create(actor=stranger.user, name="手机")[1]
    status, _, body = send({"token": services.kiosk_token(activity)}, token=raw, key="x")
    assert status == 400 and body["error"]["code"] == "not_signed_up"
    assert Attendance.objects.count() == 0


def test_an_unknown_host_is_refused_as_django_does(activity, post, vol, bearer, code, running):
    status, _, body = send({"token": code}, token=bearer, key="h", host="evil.example")
    assert status == 400 and Attendance.objects.count() == 0


def test_too_early_and_no_show_rows_take_the_full_path(activity, post, vol, bearer, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: at(-2))
    status, _, body = send({"token": services.kiosk_token(activity)}, token=bearer, key="early")
    assert status == 400 and body["error"]["code"] == "too_early"
    Attendance.objects.create(activity=activity, post=post, volunteer=vol, status="absent")  # marked too soon
    monkeypatch.setattr(timezone, "now", lambda: at(0, 20))
    status, _, body = send({"token": services.kiosk_token(activity)}, token=bearer, key="late")
    assert status == 200 and body["action"] == "in"
    assert list(Attendance.objects.values_list("status", flat=True)) == ["open"]  # the no-show became a presence


@on_postgres
def test_a_retry_storm_makes_one_record(activity, post, vol, bearer, code, running):
    key = uuid.uuid4().hex
    barrier = threading.Barrier(8)
    answers, errors = [], []

    def one():
        try:
            barrier.wait()
            answers.append(send({"token": code}, token=bearer, key=key))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and {a[0] for a in answers} == {200}
    assert len({a[2]["attendance"]["id"] for a in answers}) == 1
    assert sum(not a[2]["replayed"] for a in answers) == 1
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 1


@on_postgres
def test_a_withdrawn_sign_up_is_not_checked_in(activity, post, vol, bearer, code, running):
    vol.signups.update(status="withdrawn")
    status, _, body = send({"token": code}, token=bearer, key="gone")
    assert status == 400 and body["error"]["code"] == "not_signed_up"
    assert Attendance.objects.count() == 0


@on_postgres
def test_a_token_not_used_lately_is_stamped_by_the_check_in(activity, post, vol, code, running):
    row, raw = token_create(actor=vol.user, name="新手机")  # never used: last_used_at is empty
    with DjangoQueries() as fast:
        status, _, body = send({"token": code}, token=raw, key="first")
    assert status == 200 and body["action"] == "in" and fast.count == 0
    row.refresh_from_db()
    assert row.last_used_at == at(0, 10)


@on_postgres
def test_retries_are_replayed_before_django_with_djangos_answer(
    activity, post, vol, bearer, code, make_volunteer, running
):
    send({"token": code}, token=bearer, key="in-1")
    send({"token": code}, token=bearer, key="out-1")  # checks out: the ledger gives minutes
    for key in ("in-1", "out-1"):
        with DjangoQueries() as fast:
            status, headers, body = send({"token": code}, token=bearer, key=key)
        with override_settings(LEIFENG_FAST_PATHS=False):
            status2, headers2, body2 = send({"token": code}, token=bearer, key=key)
        assert status == status2 == 200 and fast.count == 0
        assert body == body2 and body["replayed"] is True
        assert {k: v for k, v in headers.items() if k != "Content-Length"} == {
            k: v for k, v in headers2.items() if k != "Content-Length"
        }
    assert body["action"] == "out" and body["attendance"]["volunteer_name"] == vol.name
    other = make_volunteer(name="王芳")
    sign_up(post, other)
    other_row, other_bearer = token_create(actor=other.user, name="手机")
    status, _, body = send({"token": code}, token=other_bearer, key="in-1")  # someone else's key
    assert status == 409 and body["error"]["code"] == "key_reused"
    assert Attendance.objects.count() == 1 and CheckRequest.objects.count() == 2


def _counting_runs(monkeypatch) -> list:
    """The burst statements the check-in sends (leifeng.attendance.fast.run, still executing for real)."""
    from leifeng.attendance import fast

    sent = []
    real = fast.run

    def counted(sql, params, **kw):
        sent.append(sql)
        return real(sql, params, **kw)

    monkeypatch.setattr(fast, "run", counted)
    return sent


def _phone_of(make_volunteer, post, name: str, *, used: bool = True) -> str:
    person = make_volunteer(name=name)
    sign_up(post, person)
    row, raw = token_create(actor=person.user, name="手机")
    if used:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=at(0, 9))
    return raw


@on_postgres
def test_once_an_activity_is_seen_a_check_in_is_one_round_trip(
    activity, post, vol, bearer, code, make_volunteer, running, monkeypatch
):
    assert send({"token": code}, token=bearer, key="warm")[0] == 200  # reads the activity: two statements
    sent = _counting_runs(monkeypatch)
    fresh = _phone_of(make_volunteer, post, "王芳", used=False)  # never used: the statement stamps it too
    with DjangoQueries() as fast:
        status, headers, body = send({"token": code}, token=fresh, key="one")
    assert status == 200 and fast.count == 0 and len(sent) == 1
    third = _phone_of(make_volunteer, post, "赵磊", used=False)
    with override_settings(LEIFENG_FAST_PATHS=False):
        status2, headers2, body2 = send({"token": code}, token=third, key="two")
    assert status2 == 200
    assert body["attendance"] | {"id": 0, "volunteer_id": 0} == body2["attendance"] | {"id": 0, "volunteer_id": 0}
    assert {k: v for k, v in headers.items() if k != "Content-Length"} == {
        k: v for k, v in headers2.items() if k != "Content-Length"
    }
    att = Attendance.objects.get(pk=body["attendance"]["id"])
    assert att.status == "open" and att.late and att.checked_in_at == at(0, 10) and att.method_in == "kiosk"
    assert CheckRequest.objects.get(key="one").attendance_id == att.pk
    assert ApiToken.objects.get(key_hash=ApiToken.hash(fresh)).last_used_at == at(0, 10)
    # the retry of it: answered from the key in the same single statement, then the replay
    del sent[:]
    status, _, again = send({"token": code}, token=fresh, key="one")
    assert status == 200 and again["replayed"] is True and again["attendance"]["id"] == att.pk
    assert Attendance.objects.count() == 3


@on_postgres
def test_a_new_kiosk_secret_is_read_again_and_the_old_codes_refused(
    activity, post, vol, bearer, code, make_volunteer, running
):
    from leifeng.activities.models import new_kiosk_secret

    assert send({"token": code}, token=bearer, key="warm")[0] == 200
    activity.kiosk_secret = new_kiosk_secret()
    activity.save(update_fields=["kiosk_secret"])
    phone = _phone_of(make_volunteer, post, "王芳")
    status, _, body = send({"token": code}, token=phone, key="old-code")  # a photo of the old screen
    assert status == 400 and body["error"]["code"] == "bad_token"
    assert not CheckRequest.objects.filter(key="old-code").exists() and Attendance.objects.count() == 1
    new_code = services.kiosk_token(activity, now=at(0, 10))
    status, _, body = send({"token": new_code}, token=phone, key="new-code")
    assert status == 200 and body["action"] == "in" and Attendance.objects.count() == 2


@on_postgres
def test_a_geofence_set_after_the_activity_was_seen_is_enforced(
    activity, post, vol, bearer, code, make_volunteer, running
):
    assert send({"token": code}, token=bearer, key="warm")[0] == 200
    type(activity).objects.filter(pk=activity.pk).update(geofence_m=200, latitude=34.3416, longitude=108.9398)
    phone = _phone_of(make_volunteer, post, "王芳")
    status, _, body = send({"token": code}, token=phone, key="no-position")
    assert status == 400 and body["error"]["code"] == "position_needed"
    assert Attendance.objects.count() == 1 and not CheckRequest.objects.filter(key="no-position").exists()
    status, _, body = send({"token": code, "lat": 34.3417, "lng": 108.9399}, token=phone, key="here")
    assert status == 200 and body["action"] == "in"


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (b'"lat": NaN, "lng": 108.9398', "lat"),  # NaN: no distance is "farther" than it, so it passed any fence
        (b'"lat": 34.3416, "lng": NaN', "lng"),
        (b'"lat": Infinity, "lng": 108.9398', "lat"),  # broke the haversine: a 500
        (b'"lat": 34.3416, "lng": -Infinity', "lng"),
        (b'"lat": 91, "lng": 108.9398', "lat"),
        (b'"lat": 34.3416, "lng": 180.5', "lng"),
    ],
)
@pytest.mark.parametrize("fast_paths", [True, False])
def test_a_non_finite_or_impossible_position_is_refused_naming_the_field_on_both_paths(
    activity, post, vol, bearer, code, running, position, field, fast_paths
):
    type(activity).objects.filter(pk=activity.pk).update(geofence_m=200, latitude=34.3416, longitude=108.9398)
    raw = b'{"token": "' + code.encode() + b'", ' + position + b"}"
    with override_settings(LEIFENG_FAST_PATHS=fast_paths):
        assert send({"token": code, "lat": 34.3417, "lng": 108.9399}, token=bearer, key="warm")[0] == 200
        Attendance.objects.all().delete()
        CheckRequest.objects.all().delete()

        status, headers, body = send(raw, token=bearer, key="bad-position")

    assert status in (400, 422), body  # 400 from the service; 422 where the schema states the range too
    assert headers["Content-Type"].startswith("application/json") and list(body["error"]["fields"]) == [field]
    assert Attendance.objects.count() == 0 and CheckRequest.objects.count() == 0
