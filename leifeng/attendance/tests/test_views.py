"""Attendance pages with the three personas (owner, colleague, outsider) and the volunteer's phone."""

import re

import pytest
from django.urls import reverse

from leifeng.attendance import services
from leifeng.attendance.models import Attendance
from leifeng.attendance.tests.conftest import sign_up

pytestmark = pytest.mark.django_db


def test_kiosk_shows_a_qr_code_to_staff_and_404_to_outsider(client_for, activity, post, owner, colleague, outsider):
    for user in (owner, colleague):
        page = client_for(user).get(reverse("attendance:kiosk", args=[activity.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert 'src="data:image/svg+xml' in body and "every 20s" in body
        assert reverse("attendance:roll_call", args=[post.pk]) in body
    assert client_for(outsider).get(reverse("attendance:kiosk", args=[activity.pk])).status_code == 404
    assert client_for(outsider).get(reverse("attendance:kiosk_qr", args=[activity.pk])).status_code == 404


def test_qr_partial_rotates(client_for, activity, owner):
    qr = client_for(owner).get(reverse("attendance:kiosk_qr", args=[activity.pk]), headers={"HX-Request": "true"})
    assert qr.status_code == 200 and b'id="kiosk-qr"' in qr.content and b"<html" not in qr.content


def test_scan_page_checks_in_once_on_a_double_tap(client_for, activity, post, vol, monkeypatch):
    from django.utils import timezone

    from leifeng.attendance.tests.conftest import at

    monkeypatch.setattr(timezone, "now", lambda: at(0, 5))
    token = services.kiosk_token(activity)
    c = client_for(vol.user)
    page = c.get(reverse("attendance:scan"), {"t": token})
    assert page.status_code == 200 and "文明交通劝导" in page.content.decode()
    key = re.search(r'name="key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    for _ in range(2):  # the same form sent twice
        done = c.post(reverse("attendance:scan"), {"t": token, "key": key})
        assert '<p class="msg" id="outcome">' in done.content.decode() and "路口劝导岗" in done.content.decode()
    assert Attendance.objects.filter(volunteer=vol).count() == 1


def test_scan_page_refuses_a_stale_code(client_for, activity, post, vol):
    from leifeng.attendance.tests.conftest import at

    token = services.kiosk_token(activity, now=at(0))  # long ago
    page = client_for(vol.user).get(reverse("attendance:scan"), {"t": token})
    assert page.status_code == 200 and 'id="outcome"' in page.content.decode()
    assert "签到码已过期" in page.content.decode()


@pytest.mark.parametrize(("lat", "lng"), [("nan", "108.9398"), ("34.3416", "inf"), ("-Infinity", "0"), ("95", "0")])
def test_scan_page_refuses_a_non_finite_or_impossible_position(client_for, activity, post, vol, monkeypatch, lat, lng):
    from django.utils import timezone

    from leifeng.attendance.tests.conftest import at

    type(activity).objects.filter(pk=activity.pk).update(geofence_m=200, latitude=34.3416, longitude=108.9398)
    monkeypatch.setattr(timezone, "now", lambda: at(0, 5))
    token = services.kiosk_token(activity)
    done = client_for(vol.user).post(reverse("attendance:scan"), {"t": token, "key": "k", "lat": lat, "lng": lng})
    assert done.status_code == 200 and 'id="outcome"' in done.content.decode()
    field = "lat" if lat in ("nan", "-Infinity", "95") else "lng"
    assert f"{field} " in done.content.decode()
    assert not Attendance.objects.exists()


def test_roll_call_page_and_mark(client_for, post, vol, owner, colleague, outsider, make_volunteer):
    other = make_volunteer(name="王芳")
    sign_up(post, other)
    for user in (owner, colleague):
        page = client_for(user).get(reverse("attendance:roll_call", args=[post.pk]))
        assert page.status_code == 200 and "李娜" in page.content.decode() and "王芳" in page.content.decode()
    url = reverse("attendance:roll_call_mark", args=[post.pk, vol.pk])
    assert client_for(outsider).post(url, {"mark": "present"}).status_code == 404
    assert client_for(outsider).get(reverse("attendance:roll_call", args=[post.pk])).status_code == 404
    resp = client_for(owner).post(url, {"mark": "absent"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and b'id="roster"' in resp.content
    assert Attendance.objects.get(volunteer=vol).status == "absent"


def test_roll_call_page_query_count(client_for, post, owner, make_volunteer, django_assert_num_queries):
    for _ in range(5):
        sign_up(post, make_volunteer())
    c = client_for(owner)
    c.get(reverse("attendance:roll_call", args=[post.pk]))
    # session with its account, roles and volunteer flag (accounts.middleware), post with activity and org,
    # roster with marks, presence and open check-in time (subqueries); the 代签到 / 代签退 forms reuse the
    # roles read with the session
    with django_assert_num_queries(3):
        c.get(reverse("attendance:roll_call", args=[post.pk]))
    for _ in range(10):
        sign_up(post, make_volunteer())
    with django_assert_num_queries(3):
        c.get(reverse("attendance:roll_call", args=[post.pk]))


def test_duration_code_pages(client_for, post, vol, owner, outsider, monkeypatch):
    from django.utils import timezone

    from leifeng.attendance.tests.conftest import at

    monkeypatch.setattr(timezone, "now", lambda: at(1, 50))
    assert client_for(outsider).post(reverse("attendance:code_create", args=[post.pk])).status_code == 404
    page = client_for(owner).post(reverse("attendance:code_create", args=[post.pk]))
    code = re.search(r'id="duration-code">(\w+)<', page.content.decode()).group(1)
    c = client_for(vol.user)
    form = c.get(reverse("attendance:code_enter"))
    key = re.search(r'name="key" value="([0-9a-f]+)"', form.content.decode()).group(1)
    done = c.post(reverse("attendance:code_enter"), {"code": code, "key": key})
    assert b'id="outcome"' in done.content and Attendance.objects.get(volunteer=vol).record.minutes == 110


def test_pages_need_login(client, activity, post):
    for url in (
        reverse("attendance:kiosk", args=[activity.pk]),
        reverse("attendance:scan"),
        reverse("attendance:roll_call", args=[post.pk]),
        reverse("attendance:code_enter"),
    ):
        assert client.get(url).status_code == 302


def test_void_all_codes_from_the_kiosk_page(client_for, activity, post, vol, owner, colleague, outsider):
    """The kiosk's "void all codes" button: staff of the activity's station get a new key (the codes shown so far
    stop working, an audit event names who did it); an outsider gets 404 and changes nothing; GET is refused."""
    from leifeng.activities.models import Activity
    from leifeng.attendance.codes import AuditAction, ErrorCode
    from leifeng.core.errors import ServiceError
    from leifeng.core.models import AuditEvent

    url = reverse("attendance:kiosk_reset", args=[activity.pk])
    kiosk = client_for(owner).get(reverse("attendance:kiosk", args=[activity.pk])).content.decode()
    assert f'action="{url}"' in kiosk  # the button is on the kiosk page

    secret = activity.kiosk_secret
    assert client_for(outsider).post(url).status_code == 404
    assert client_for(owner).get(url).status_code == 405
    assert Activity.objects.get(pk=activity.pk).kiosk_secret == secret
    assert not AuditEvent.objects.filter(action=AuditAction.KIOSK_RESET).exists()

    for n, user in enumerate((owner, colleague), start=1):
        shown = services.kiosk_token(Activity.objects.get(pk=activity.pk))
        resp = client_for(user).post(url, follow=True)
        assert resp.redirect_chain[-1][0] == reverse("attendance:kiosk", args=[activity.pk])
        assert "已更换签到密钥" in resp.content.decode()
        fresh = Activity.objects.get(pk=activity.pk)
        assert fresh.kiosk_secret != secret
        secret = fresh.kiosk_secret
        with pytest.raises(ServiceError) as exc:
            services.check(actor=vol.user, token=shown, key=f"k{n}")
        assert exc.value.code == ErrorCode.BAD_TOKEN
        events = AuditEvent.objects.filter(action=AuditAction.KIOSK_RESET, object_id=str(activity.pk))
        assert events.count() == n and events.order_by("-pk").first().actor_id == user.pk
    assert not Attendance.objects.exists()
