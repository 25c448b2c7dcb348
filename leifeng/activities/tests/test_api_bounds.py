"""What the API fuzz found in /api/v1/activities/: nulls for NOT NULL columns, ids beyond bigint, huge years."""

import pytest

from leifeng.activities.models import Activity, Campaign, Post

API = "/api/v1/activities"
HUGE = 2**63 + 5


def _fields(response, status=422):
    assert response.status_code == status, response.content
    return response.json()["error"]["fields"]


@pytest.mark.parametrize("field", ["starts_at", "ends_at", "title", "quota", "description"])
def test_post_patch_refuses_null_for_a_not_null_column(field, owner, client_for, post):
    before = Post.objects.values().get(pk=post.pk)
    response = client_for(owner).patch(f"{API}/posts/{post.pk}", {field: None}, content_type="application/json")
    assert field in _fields(response)
    assert Post.objects.values().get(pk=post.pk) == before


def test_post_patch_still_changes_what_is_sent(owner, client_for, post):
    response = client_for(owner).patch(f"{API}/posts/{post.pk}", {"title": "门口引导"}, content_type="application/json")
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.title == "门口引导"


def _campaign(client, tree) -> int:
    body = {"org_id": tree.st_a1.pk, "title": "学雷锋月", "starts_on": "2026-03-01", "ends_on": "2026-03-31"}
    return client.post(f"{API}/campaigns", body, content_type="application/json").json()["id"]


@pytest.mark.parametrize("field", ["title", "starts_on", "org_id"])
def test_campaign_patch_refuses_null_for_a_not_null_column(field, owner, tree, client_for):
    client = client_for(owner)
    cid = _campaign(client, tree)
    before = Campaign.objects.values().get(pk=cid)
    assert field in _fields(client.patch(f"{API}/campaigns/{cid}", {field: None}, content_type="application/json"))
    assert Campaign.objects.values().get(pk=cid) == before


def test_a_year_beyond_the_calendar_is_422_naming_it(owner, tree, client_for):
    client = client_for(owner)
    assert "year" in _fields(client.get(f"{API}/campaigns?year=500810"))
    cid = _campaign(client, tree)
    response = client.post(f"{API}/campaigns/{cid}/copy", {"year": 500810}, content_type="application/json")
    assert "year" in _fields(response)
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("get", "/{huge}", None, "activity_id"),
        ("get", "/campaigns/{huge}", None, "campaign_id"),
        ("patch", "/posts/{huge}", {"title": "x"}, "post_id"),
        ("post", "/posts/{huge}/signups", {}, "post_id"),
        ("get", "/?campaign={huge}", None, "campaign"),
        ("patch", "/{id}", {"team_ids": [HUGE]}, "team_ids.0"),
        ("patch", "/{id}", {"campaign_id": HUGE}, "campaign_id"),
        (
            "post",
            "/campaigns",
            {"org_id": HUGE, "title": "t", "starts_on": "2026-03-01", "ends_on": "2026-03-31"},
            "org_id",
        ),
    ],
)
def test_ids_beyond_bigint_are_422_naming_the_field(method, path, body, field, owner, client_for, activity):
    c = client_for(owner)
    url = API + path.format(huge=HUGE, id=activity.pk)
    response = getattr(c, method)(url, body, content_type="application/json") if body is not None else c.get(url)
    assert field in _fields(response)


@pytest.mark.parametrize(
    "field,value", [("geofence_m", 2**40), ("group_size", 2**40), ("latitude", "NaN"), ("longitude", 1e30)]
)
def test_numbers_beyond_their_column_are_422_naming_the_field(field, value, owner, client_for, activity):
    response = client_for(owner).patch(f"{API}/{activity.pk}", {field: value}, content_type="application/json")
    assert field in _fields(response)


@pytest.mark.parametrize(
    "field", ["description", "minors_allowed", "risky", "supplies", "safety_notes", "contact_name", "contact_phone"]
)
def test_activity_patch_refuses_null_for_a_not_null_column(field, owner, client_for, activity):
    before = Activity.objects.values().get(pk=activity.pk)
    response = client_for(owner).patch(f"{API}/{activity.pk}", {field: None}, content_type="application/json")
    assert field in _fields(response)
    assert Activity.objects.values().get(pk=activity.pk) == before
