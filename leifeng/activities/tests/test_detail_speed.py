"""The activity page's cheap path (every volunteer opens it before signing up): a fixed number of queries for
each persona whatever the number of posts, the same 404s as `activity_get` (scope), post URLs that follow the
script prefix, and the htmx answer to a sign-up carrying the updated cards."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix

from leifeng import testing
from leifeng.activities.models import ActivityStatus, Post, Visibility
from leifeng.activities.tests.conftest import NOW, make_activity, sign
from leifeng.people.models import Skill
from leifeng.teams.models import MembershipStatus, TeamMembership


@pytest.fixture
def activity(tree, make_volunteer):
    """Three posts, one of them full with a waitlist."""
    a = make_activity(tree.st_a1, quota=1)
    for k in (1, 2):
        start = NOW + timedelta(days=8, hours=k)
        Post.objects.create(activity=a, title=f"岗{k}", starts_at=start, ends_at=start + timedelta(hours=1), quota=2)
    first = a.posts.order_by("starts_at").first()
    sign(make_volunteer(), first)
    sign(make_volunteer(), first)  # waitlisted
    return a


def _url(a) -> str:
    return reverse("activities:activity_detail", args=[a.pk])


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_query_count_per_persona(activity, client_for, owner, make_volunteer):
    """Session + principal, the activity (with the actor's profile and report flag), the posts (with the
    waitlist and the actor's sign-up): three for an organizer, a volunteer, a volunteer signed up; the same
    with more posts; one more when a post requires skills."""
    url = _url(activity)
    fresh = make_volunteer()
    signed = make_volunteer()
    sign(signed, activity.posts.order_by("starts_at").last())
    for user in (owner, fresh.user, signed.user):
        assert len(_queries(client_for(user), url)) == 3, user
    start = NOW + timedelta(days=9)
    Post.objects.create(activity=activity, title="再一岗", starts_at=start, ends_at=start + timedelta(hours=1), quota=5)
    for user in (owner, fresh.user, signed.user):
        assert len(_queries(client_for(user), url)) == 3, user
    post = activity.posts.order_by("starts_at").last()
    post.skills.add(Skill.objects.create(name="急救"))
    for user in (owner, fresh.user, signed.user):
        assert len(_queries(client_for(user), url)) == 4, user
    # an insured (risky) activity shows its insurance to the organizers: one more for them
    activity.risky = True
    activity.save()
    assert len(_queries(client_for(owner), url)) == 5
    assert len(_queries(client_for(fresh.user), url)) == 4


def test_what_each_persona_sees(activity, client_for, owner, colleague, make_volunteer):
    url = _url(activity)
    posts = list(activity.posts.order_by("starts_at"))
    body = client_for(owner).get(url).content.decode()
    assert reverse("activities:roster", args=[activity.pk]) in body
    assert body.count(reverse("activities:assign", args=[posts[1].pk])) == 1
    assert reverse("activities:signup", args=[posts[1].pk]) not in body  # no profile, no sign-up button
    v = make_volunteer()
    s = sign(v, posts[1])
    body = client_for(v.user).get(url).content.decode()
    assert body.count(reverse("activities:withdraw", args=[s.pk])) == 2  # action and hx-post
    assert body.count(reverse("activities:signup", args=[posts[2].pk])) == 2
    assert body.count(reverse("activities:signup", args=[posts[0].pk])) == 2  # full: the waitlist button
    assert reverse("activities:roster", args=[activity.pk]) not in body
    assert reverse("activities:assign", args=[posts[1].pk]) not in body


def test_who_may_open_it(activity, client_for, owner, colleague, outsider, tree, make_volunteer):
    url = _url(activity)
    signed = make_volunteer()
    sign(signed, activity.posts.order_by("starts_at").last())
    for user in (owner, colleague, make_volunteer().user):
        assert client_for(user).get(url).status_code == 200
    far = make_volunteer(org=tree.st_b1)
    for user in (outsider, far.user):
        assert client_for(user).get(url).status_code == 404
    missing = reverse("activities:activity_detail", args=[activity.pk + 1000])
    assert client_for(owner).get(missing).status_code == 404
    # a team's activity: its active members (elsewhere) see it, other volunteers of the subtree do not
    team = testing.TeamFactory(org=tree.st_b1)
    TeamMembership.objects.create(team=team, volunteer=far, status=MembershipStatus.ACTIVE)
    activity.visibility = Visibility.TEAMS
    activity.save()
    activity.teams.add(team)
    assert client_for(far.user).get(url).status_code == 200
    assert client_for(make_volunteer().user).get(url).status_code == 404
    assert client_for(owner).get(url).status_code == 200
    assert client_for(signed.user).get(url).status_code == 200  # signed up before: still theirs to see
    # a draft: organizers only, even for a volunteer who signed up before
    activity.status = ActivityStatus.DRAFT
    activity.save()
    assert client_for(signed.user).get(url).status_code == 404
    assert client_for(far.user).get(url).status_code == 404
    assert client_for(owner).get(url).status_code == 200
    # finished, out of the team's sight: still open to whoever signed up
    activity.status = ActivityStatus.FINISHED
    activity.visibility = Visibility.TEAMS
    activity.save()
    activity.teams.clear()
    assert client_for(signed.user).get(url).status_code == 200
    assert client_for(far.user).get(url).status_code == 404


def test_post_urls_follow_the_script_prefix(activity, client_for, make_volunteer):
    url = _url(activity)
    v = make_volunteer()
    client = client_for(v.user)
    post = activity.posts.order_by("starts_at").last()
    assert f'"{reverse("activities:signup", args=[post.pk])}"' in client.get(url).content.decode()
    set_script_prefix("/leifeng/")
    try:
        body = client.get(url).content.decode()
        link = reverse("activities:signup", args=[post.pk])
    finally:
        set_script_prefix("/")
    assert link.startswith("/leifeng/") and body.count(f'"{link}"') == 2
    assert f'"{reverse("activities:signup", args=[post.pk])}"' in client.get(url).content.decode()


def test_signing_up_answers_the_updated_cards(activity, client_for, make_volunteer):
    v = make_volunteer()
    post = activity.posts.order_by("starts_at").last()
    response = client_for(v.user).post(reverse("activities:signup", args=[post.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<div id="posts" class="posts">')
    signup = v.signups.get()
    assert body.count(reverse("activities:withdraw", args=[signup.pk])) == 2
    assert 'class="messages"' in body
