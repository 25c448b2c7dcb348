"""/api/v1/hours/: records, totals, star level, claims and corrections; three personas and query counts."""

import pytest

from leifeng.attendance import services as attendance
from leifeng.attendance.tests.conftest import at, sign_up
from leifeng.hours.models import HoursClaim, ServiceRecord

pytestmark = pytest.mark.django_db
API = "/api/v1/hours"


def serve(activity, vol, key="k"):
    for k, moment in ((f"{key}i", at(0)), (f"{key}o", at(2))):
        attendance.check(actor=vol.user, token=attendance.kiosk_token(activity, now=moment), key=k, now=moment)


def test_records_three_personas(client_for, activity, post, vol, owner, colleague, outsider):
    serve(activity, vol)
    for user in (owner, colleague, vol.user):
        r = client_for(user).get(f"{API}/records")
        assert r.json()["count"] == 1 and r.json()["items"][0]["minutes"] == 120
    assert client_for(outsider).get(f"{API}/records").json()["count"] == 0
    rec = ServiceRecord.objects.get()
    r = client_for(outsider).post(
        f"{API}/records/{rec.pk}/correct", {"minutes": 0, "reason": "x"}, content_type="application/json"
    )
    assert r.status_code == 404


def test_records_query_count(client_for, activity, post, owner, make_volunteer, django_assert_num_queries):
    for i in range(6):
        v = make_volunteer()
        sign_up(post, v)
        serve(activity, v, key=str(i))
    c = client_for(owner)
    for size in (2, 6):
        # session with its account, roles and volunteer flag (accounts.middleware), count,
        # page of records with volunteer, org and reversal
        with django_assert_num_queries(3):
            r = c.get(f"{API}/records", {"page_size": size})
        assert len(r.json()["items"]) == size


def test_totals_and_star(client_for, activity, post, vol, owner, tree):
    serve(activity, vol)
    mine = client_for(vol.user).get(f"{API}/totals").json()
    assert mine == {"minutes": 120, "verified_minutes": 120, "backfilled_minutes": 0}
    node = client_for(owner).get(f"{API}/totals", {"org": tree.st_a1.pk}).json()
    assert node["minutes"] == 120
    star = client_for(vol.user).get(f"{API}/stars/me").json()
    assert star["level"] == 0 and star["next_threshold"] == 100 and star["percent"] == 2


def test_a_claim_beyond_the_post_is_refused_naming_the_field(client_for, post, vol):
    r = client_for(vol.user).post(
        f"{API}/claims",
        {"post_id": post.pk, "started_at": at(0).isoformat(), "ended_at": at(3).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["ended_at"]
    assert not HoursClaim.objects.exists()


def test_claim_and_correction_flow(client_for, activity, post, vol, owner, colleague):
    c = client_for(vol.user)
    r = c.post(
        f"{API}/claims",
        {"post_id": post.pk, "started_at": at(0).isoformat(), "ended_at": at(1).isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["minutes"] == 60
    claim = r.json()["id"]
    own = c.post(f"{API}/claims/{claim}/decision", {"approve": True}, content_type="application/json")
    assert own.status_code == 403
    ok = client_for(owner).post(f"{API}/claims/{claim}/decision", {"approve": True}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    record = ok.json()["record_id"]
    c = client_for(vol.user)  # one test client: log back in as the volunteer
    req = c.post(
        f"{API}/records/{record}/corrections",
        {"minutes": 30, "reason": "只待了半小时"},
        content_type="application/json",
    )
    assert req.status_code == 201
    assert client_for(colleague).get(f"{API}/corrections", {"status": "open"}).json()["count"] == 1
    ans = client_for(colleague).post(
        f"{API}/corrections/{req.json()['id']}/answer", {"accept": True}, content_type="application/json"
    )
    assert ans.status_code == 200
    c = client_for(vol.user)
    assert c.get(f"{API}/totals").json() == {"minutes": 30, "verified_minutes": 0, "backfilled_minutes": 30}
