"""Required skills of a post on the pages: organizers pick them from the skills vocabulary when adding or editing a
post; volunteers see them on the activity page, and why they cannot sign up when their profile lacks one."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leifeng.activities.tests.conftest import START
from leifeng.people.models import Skill

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def skills(db):
    return {name: Skill.objects.get_or_create(name=name)[0] for name in ("急救", "心理疏导", "驾驶")}


def _post_data(**extra) -> dict:
    start = timezone.localtime(START)
    return {
        "title": "医疗保障",
        "starts_at": start.strftime(FMT),
        "ends_at": (start + timedelta(hours=2)).strftime(FMT),
        "quota": 3,
        **extra,
    }


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_adds_a_post_with_required_skills(persona, request, client_for, activity, skills):
    client = client_for(request.getfixturevalue(persona))
    page = client.get(reverse("activities:activity_edit", args=[activity.pk])).content.decode()
    assert "所需技能" in page and "心理疏导" in page  # the vocabulary is offered on the add-a-post form
    r = client.post(
        reverse("activities:post_add", args=[activity.pk]),
        _post_data(skills=[skills["急救"].pk, skills["驾驶"].pk]),
    )
    assert r.status_code == 302
    post = activity.posts.get(title="医疗保障")
    assert set(post.skills.values_list("name", flat=True)) == {"急救", "驾驶"}
    page = client.get(reverse("activities:activity_edit", args=[activity.pk])).content.decode()
    assert "急救、驾驶" in page  # listed with the post


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_changes_and_clears_the_skills_of_a_post(persona, request, client_for, post, skills):
    post.skills.add(skills["急救"])
    client = client_for(request.getfixturevalue(persona))
    url = reverse("activities:post_edit", args=[post.pk])
    page = client.get(url).content.decode()
    assert f'value="{skills["急救"].pk}"' in page and "checked" in page
    r = client.post(url, _post_data(title=post.title, skills=[skills["心理疏导"].pk]))
    assert r.status_code == 302
    assert list(post.skills.values_list("name", flat=True)) == ["心理疏导"]
    client.post(url, _post_data(title=post.title))  # nothing ticked: no skill required any more
    assert not post.skills.exists()


def test_outsider_cannot_see_or_change_the_skills(client_for, outsider, post, skills):
    post.skills.add(skills["急救"])
    client = client_for(outsider)
    url = reverse("activities:post_edit", args=[post.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _post_data(skills=[skills["驾驶"].pk])).status_code == 404
    assert client.post(reverse("activities:post_add", args=[post.activity_id]), _post_data()).status_code == 404
    assert list(post.skills.values_list("name", flat=True)) == ["急救"]
    assert post.activity.posts.count() == 1


def test_volunteer_sees_the_required_skills_and_why_they_cannot_sign_up(client_for, post, skills, make_volunteer):
    post.skills.add(skills["急救"], skills["驾驶"])
    v = make_volunteer()
    v.skills.add(skills["驾驶"])
    client = client_for(v.user)
    url = reverse("activities:activity_detail", args=[post.activity_id])
    page = client.get(url).content.decode()
    assert "所需技能" in page and "急救" in page and "驾驶" in page
    assert "您不能报名这个岗位：需要急救" in page  # only the one they lack is named
    assert reverse("activities:signup", args=[post.pk]) not in page

    v.skills.add(skills["急救"])
    page = client.get(url).content.decode()
    assert "您不能报名" not in page
    assert reverse("activities:signup", args=[post.pk]) in page
    assert client.post(reverse("activities:signup", args=[post.pk])).status_code == 302
    assert post.signups.filter(volunteer=v, status="confirmed").exists()


def test_a_large_vocabulary_is_a_select_list(client_for, owner, post):
    Skill.objects.bulk_create([Skill(name=f"技能{i:02d}") for i in range(30)])
    page = client_for(owner).get(reverse("activities:post_edit", args=[post.pk])).content.decode()
    assert '<select name="skills"' in page and "技能29" in page


def test_api_shows_the_required_skills(client_for, owner, outsider, post, skills, make_volunteer):
    api = "/api/v1/activities"
    post.skills.add(skills["急救"])
    v = make_volunteer()
    for user in (owner, v.user):
        body = client_for(user).get(f"{api}/{post.activity_id}/posts").json()
        assert body["items"][0]["skills"] == [{"id": skills["急救"].pk, "name": "急救"}]
        detail = client_for(user).get(f"{api}/{post.activity_id}").json()
        assert detail["posts"][0]["skills"][0]["name"] == "急救"
    r = client_for(owner).patch(
        f"{api}/posts/{post.pk}", {"skill_ids": [skills["驾驶"].pk]}, content_type="application/json"
    )
    assert r.status_code == 200 and [s["name"] for s in r.json()["skills"]] == ["驾驶"]
    assert client_for(outsider).get(f"{api}/{post.activity_id}/posts").status_code == 404
    r = client_for(outsider).patch(f"{api}/posts/{post.pk}", {"skill_ids": []}, content_type="application/json")
    assert r.status_code == 404
    assert list(post.skills.values_list("name", flat=True)) == ["驾驶"]
