"""The roster page's cheap paths (issue #4) keep the page's answers: its post URLs, reversed once per
process, follow the script prefix; the PostgreSQL overview reads the activity in the same transaction as the
people and still answers 404 to whoever may not see it; the overview costs a fixed number of queries."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.activities import selectors
from leifeng.activities.tests.conftest import make_activity, sign
from leifeng.core import scope
from leifeng.core.scope import Perm


@pytest.fixture
def signed_up(tree, make_volunteer):
    a = make_activity(tree.st_a1, quota=3, group_size=2)
    post = a.posts.get()
    for _ in range(2):
        sign(make_volunteer(), post)
    return a


def _post_links(post_pk: int) -> list[str]:
    return [
        reverse("attendance:roll_call", args=[post_pk]),
        reverse("activities:groups_build", args=[post_pk]),
        reverse("activities:assign", args=[post_pk]),
    ]


def test_post_urls_follow_the_script_prefix(signed_up, client_for, owner):
    post = signed_up.posts.get()
    client = client_for(owner)
    url = reverse("activities:roster", args=[signed_up.pk])
    plain = client.get(url).content.decode()
    for link in _post_links(post.pk):
        assert f'"{link}"' in plain
    # what WSGIHandler does with SCRIPT_NAME or FORCE_SCRIPT_NAME (the test client leaves the prefix alone)
    set_script_prefix("/leifeng/")
    try:
        prefixed = client.get(url).content.decode()
        links = _post_links(post.pk)
    finally:
        set_script_prefix("/")
    for link in links:
        assert link.startswith("/leifeng/") and f'"{link}"' in prefixed
    assert prefixed.count('"/leifeng/activities/posts/') == 3  # the form's action and hx-post, the assign link
    # and back without the prefix: each prefix has its own patterns
    assert client.get(url).content.decode().count(f'"{_post_links(post.pk)[1]}"') == 2


def test_who_sees_the_roster(signed_up, client_for, owner, colleague, outsider, tree):
    url = reverse("activities:roster", args=[signed_up.pk])
    assessor = testing.make_user("assessor", role=Role.ASSESSOR, org=tree.st_a1)  # VIEW, not CHANGE
    for user in (owner, colleague):
        body = client_for(user).get(url).content.decode()
        assert "csrfmiddlewaretoken" in body and reverse("activities:assign", args=[signed_up.posts.get().pk]) in body
    body = client_for(assessor).get(url).content.decode()
    assert signed_up.posts.get().title in body and "hx-post" not in body
    assert client_for(outsider).get(url).status_code == 404
    missing = reverse("activities:roster", args=[signed_up.pk + 1000])
    assert client_for(owner).get(missing).status_code == 404


def test_overview_in_a_fixed_number_of_queries(signed_up, owner, outsider, make_volunteer):
    scope.paths(owner, Perm.VIEW)  # the owner's roles, read once per request by the page
    with CaptureQueriesContext(connection) as ctx:
        activity, view = selectors.roster_page(actor=owner, activity_id=signed_up.pk)
    assert activity == signed_up and len(view.sections[0].people) == 2
    if connection.vendor == "postgresql":
        # one transaction: SET LOCAL, the activity, the posts, the people (`roster_activity` ran its own before)
        assert len(ctx.captured_queries) == 4
        assert ctx.captured_queries[0]["sql"].startswith("SET LOCAL plan_cache_mode")
    else:
        assert len(ctx.captured_queries) == 4  # the activity, then the ORM's posts, sign-ups, groups
    sign(make_volunteer(), signed_up.posts.get())  # more people, the same queries
    with CaptureQueriesContext(connection) as more:
        selectors.roster_page(actor=owner, activity_id=signed_up.pk)
    assert len(more.captured_queries) == len(ctx.captured_queries)
    with pytest.raises(Http404):
        selectors.roster_page(actor=outsider, activity_id=signed_up.pk)


def test_the_page_reads_its_activity_once(signed_up, client_for, owner):
    client = client_for(owner)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("activities:roster", args=[signed_up.pk])).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum("FROM activities_activity a JOIN" in s for s in sql) == 1
    if connection.vendor == "postgresql":
        assert sum(s.startswith("SET LOCAL plan_cache_mode") for s in sql) == 1  # one roster transaction
