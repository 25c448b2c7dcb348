"""/api/v1/activities/: three personas, the error format, query counts, the sign-up hot path."""

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from leifeng.accounts import services as account_services
from leifeng.activities.models import Activity, ActivityStatus, Signup
from leifeng.activities.tests.conftest import START, make_activity, sign

API = "/api/v1/activities"


@pytest.fixture
def api_for():
    """api_for(user) → a client that sends `Authorization: Bearer <a new token of user>`."""

    def make(user) -> Client:
        _token, raw = account_services.token_create(actor=user, name="test")
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


def post_json(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


# ---------------------------------------------------------------- sign-up hot path


def test_signup_endpoint_confirms_then_waitlists(api_for, post, make_volunteer):
    codes = []
    for _ in range(4):
        r = post_json(api_for(make_volunteer().user), f"{API}/posts/{post.pk}/signups")
        assert r.status_code == 201
        codes.append(r.json()["status"])
    assert codes == ["confirmed", "confirmed", "confirmed", "waitlisted"]


def test_signup_endpoint_query_count(api_for, post, make_volunteer, django_assert_num_queries):
    client = api_for(make_volunteer().user)
    other = make_activity(post.activity.org, title="另一场", start=START + timedelta(hours=3)).posts.get()
    assert post_json(client, f"{API}/posts/{other.pk}/signups").status_code == 201  # token's last_used_at set
    with django_assert_num_queries(9):
        # token + user; savepoint; volunteer FOR UPDATE; post with activity and org, the skills check and the
        # overlap check as subqueries (no lock); claim a place (UPDATE … WHERE filled < quota: the first
        # statement on the hot row); activity still open; insert sign-up; audit row; release. Under gunicorn
        # on PostgreSQL the savepoint pair is BEGIN/COMMIT.
        r = post_json(client, f"{API}/posts/{post.pk}/signups")
    assert r.status_code == 201


def test_signup_error_format_and_unknown_post(api_for, post, make_volunteer):
    client = api_for(make_volunteer().user)
    post_json(client, f"{API}/posts/{post.pk}/signups")
    r = post_json(client, f"{API}/posts/{post.pk}/signups")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_signed_up"
    assert post_json(client, f"{API}/posts/999999/signups").status_code == 404


def test_signup_needs_authentication(post):
    assert Client().post(f"{API}/posts/{post.pk}/signups").status_code == 401


def test_withdraw_and_my_shifts(api_for, post, make_volunteer):
    v = make_volunteer()
    client = api_for(v.user)
    sid = post_json(client, f"{API}/posts/{post.pk}/signups").json()["id"]
    mine = client.get(f"{API}/signups/mine").json()
    assert mine["count"] == 1 and mine["items"][0]["activity_title"] == "敬老院清洁"
    r = post_json(client, f"{API}/signups/{sid}/withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert client.get(f"{API}/signups/mine").json()["count"] == 0


# ---------------------------------------------------------------- activities, three personas


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_list_in_scope(persona, request, tree, client_for, activity):
    make_activity(tree.st_b1, title="北村活动")
    body = client_for(request.getfixturevalue(persona)).get(f"{API}/").json()
    assert [a["title"] for a in body["items"]] == ["敬老院清洁"]
    assert body["items"][0]["quota_total"] == 3


def test_outsider_sees_nothing(outsider, client_for, activity):
    client = client_for(outsider)
    assert client.get(f"{API}/").json()["count"] == 0
    assert client.get(f"{API}/{activity.pk}").status_code == 404
    assert client.get(f"{API}/{activity.pk}/roster").status_code == 404
    assert post_json(client, f"{API}/{activity.pk}/publish").status_code == 404


def test_list_query_count_does_not_grow(owner, tree, client_for, django_assert_num_queries):
    for i in range(5):
        make_activity(tree.st_a1, title=f"活动{i}")
    client = client_for(owner)
    client.get(f"{API}/")  # warm the session
    with django_assert_num_queries(3):
        # session with its account, roles and volunteer flag (accounts.middleware), count,
        # page of activities with totals as subqueries
        r = client.get(f"{API}/?page_size=2")
    assert len(r.json()["items"]) == 2
    with django_assert_num_queries(3):
        client.get(f"{API}/?page_size=50")


def test_create_publish_with_insurance_error(owner, tree, client_for):
    client = client_for(owner)
    start = START.isoformat()
    end = (START + timedelta(hours=2)).isoformat()
    r = post_json(
        client,
        f"{API}/",
        {
            "org_id": tree.st_a1.pk,
            "title": "河道清理",
            "category": "environment",
            "address": "东关河",
            "risky": True,
            "posts": [{"title": "打捞", "starts_at": start, "ends_at": end, "quota": 5}],
        },
    )
    assert r.status_code == 201, r.content
    aid = r.json()["id"]
    assert r.json()["status"] == "draft" and len(r.json()["posts"]) == 1
    r = post_json(client, f"{API}/{aid}/publish")
    assert r.status_code == 400 and r.json()["error"]["code"] == "insurance_required"
    day = timezone.localtime(START).date().isoformat()
    r = post_json(
        client,
        f"{API}/{aid}/insurance",
        {"insurer": "人保", "policy_number": "P-1", "covers_from": day, "covers_to": day},
    )
    assert r.status_code == 201
    assert post_json(client, f"{API}/{aid}/publish").json()["status"] == "published"
    assert post_json(client, f"{API}/{aid}/finish").status_code == 409


def test_assessor_reads_but_cannot_publish(assessor, owner, tree, client_for):
    a = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    client = client_for(assessor)
    assert client.get(f"{API}/{a.pk}").status_code == 200
    assert post_json(client, f"{API}/{a.pk}/publish").status_code == 403


def test_volunteer_does_not_see_drafts_but_finds_published(api_for, tree, make_volunteer):
    d = make_activity(tree.st_a1, status=ActivityStatus.DRAFT, title="草稿")
    make_activity(tree.st_a1, title="公开")
    client = api_for(make_volunteer().user)
    assert client.get(f"{API}/{d.pk}").status_code == 404
    assert [a["title"] for a in client.get(f"{API}/find").json()["items"]] == ["公开"]


def test_cancel_requires_reason(owner, client_for, activity):
    client = client_for(owner)
    r = post_json(client, f"{API}/{activity.pk}/cancel", {"reason": ""})
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    assert post_json(client, f"{API}/{activity.pk}/cancel", {"reason": "大风"}).json()["status"] == "cancelled"


# ---------------------------------------------------------------- roster, groups, remove


def test_roster_groups_and_remove(owner, client_for, post, make_volunteer, django_assert_num_queries):
    people = [make_volunteer() for _ in range(4)]
    for v in people:
        sign(v, post)
    client = client_for(owner)
    groups = post_json(client, f"{API}/posts/{post.pk}/groups").json()
    assert len(groups) == 1 and len(groups[0]["member_ids"]) == 3
    client.get(f"{API}/{post.activity_id}/roster")
    with django_assert_num_queries(6):
        # session with its account, roles and volunteer flag (accounts.middleware), the actor's volunteer
        # profile (none), activity, posts, sign-ups with volunteers and groups, groups with leaders
        r = client.get(f"{API}/{post.activity_id}/roster")
    entry = r.json()["items"][0]
    assert len(entry["confirmed"]) == 3 and len(entry["waitlisted"]) == 1
    sid = entry["confirmed"][0]["id"]
    r = post_json(client, f"{API}/signups/{sid}/remove", {"reason": "临时有事"})
    assert r.json()["status"] == "removed"
    assert Signup.objects.filter(post=post, status="confirmed").count() == 3  # the waitlisted one moved up


def test_leader_assign_endpoint(tree, api_for, make_volunteer):
    from leifeng.teams.models import MembershipStatus, TeamMembership
    from leifeng.testing import TeamFactory

    team = TeamFactory(org=tree.st_a1)
    leader = make_volunteer()
    team.leader = leader
    team.save()
    m = make_volunteer()
    TeamMembership.objects.create(team=team, volunteer=m, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1)
    r = post_json(api_for(leader.user), f"{API}/posts/{a.posts.get().pk}/assign", {"team_id": team.pk})
    assert r.status_code == 200
    assert [x["signup"]["status"] for x in r.json()] == ["confirmed"]


# ---------------------------------------------------------------- campaigns and reports


def test_campaign_create_copy_and_figures(owner, outsider, tree, client_for):
    client = client_for(owner)
    r = post_json(
        client,
        f"{API}/campaigns",
        {"org_id": tree.st_a1.pk, "title": "2026年学雷锋月", "starts_on": "2026-03-01", "ends_on": "2026-03-31"},
    )
    assert r.status_code == 201 and len(r.json()["phases"]) == 3
    cid = r.json()["id"]
    assert r.json()["figures"] == {"activities": 0, "people": 0, "hours": 0.0}
    r = post_json(client, f"{API}/campaigns/{cid}/copy", {"year": 2027})
    assert r.status_code == 201 and r.json()["starts_on"] == "2027-03-01" and r.json()["copied_from_id"] == cid
    assert client_for(outsider).get(f"{API}/campaigns/{cid}").status_code == 404


def test_report_with_photo(owner, client_for, activity):
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    client = client_for(owner)
    r = client.put(f"{API}/{activity.pk}/report", {"summary": "服务老人30人次"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["attendance"]["hours"] == 0
    buf = io.BytesIO()
    Image.new("RGB", (50, 40), "red").save(buf, format="PNG")
    buf.name = "a.png"
    buf.seek(0)
    r = client.post(f"{API}/{activity.pk}/report/photos", {"image": buf, "caption": "合影"})
    assert r.status_code == 201, r.content
    assert r.json()["width"] == 50
    bad = io.BytesIO(b"not an image")
    bad.name = "x.jpg"
    r = client.post(f"{API}/{activity.pk}/report/photos", {"image": bad})
    assert r.status_code == 400 and "image" in r.json()["error"]["fields"]


def test_delete_draft_activity_and_empty_campaign(owner, outsider, tree, client_for, make_volunteer):
    from leifeng.activities.models import Campaign

    draft = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    live = make_activity(tree.st_a1, start=START + timedelta(days=1))
    sign(make_volunteer(), live.posts.get())
    c = Campaign.objects.create(org=tree.st_a1, title="空方案", starts_on="2026-03-01", ends_on="2026-03-02")
    used = Campaign.objects.create(org=tree.st_a1, title="有活动", starts_on="2026-03-01", ends_on="2026-03-02")
    Activity.objects.filter(pk=live.pk).update(campaign=used)
    client = client_for(owner)
    assert client.delete(f"{API}/{live.pk}").json()["error"]["code"] == "not_deletable"
    assert client.delete(f"{API}/campaigns/{used.pk}").json()["error"]["code"] == "has_activities"
    assert client.delete(f"{API}/{draft.pk}").status_code == 204
    assert client.delete(f"{API}/campaigns/{c.pk}").status_code == 204
    assert not Activity.objects.filter(pk=draft.pk).exists() and not Campaign.objects.filter(pk=c.pk).exists()
    assert client_for(outsider).delete(f"{API}/{live.pk}").status_code == 404


def test_moving_or_deleting_a_post_with_signups_is_refused_in_the_error_format(
    api_for, owner, tree, post, make_volunteer
):
    v = make_volunteer(name="张晓梅")
    other = make_activity(tree.st_a1, title="社区义诊", start=START + timedelta(days=1)).posts.get()
    sign(v, post)
    sign(v, other)
    client = api_for(owner)
    r = client.patch(
        f"{API}/posts/{post.pk}",
        {"starts_at": other.starts_at.isoformat(), "ends_at": other.ends_at.isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 409, r.content
    assert r.json()["error"]["code"] == "overlap" and "张晓梅" in r.json()["error"]["message"]
    assert Signup.objects.get(volunteer=v, post=post).starts_at == START
    r = client.delete(f"{API}/posts/{post.pk}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "has_signups"
