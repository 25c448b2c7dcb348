"""The organizer's roster overview (issue #4: fast on a post of thousands).

On PostgreSQL the overview is two prepared statements (selectors._roster_sql) instead of the ORM's window
query; both must give the same page: same people in the same order (group by group, leader, size), the same
waitlist and leavers, the same counts.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse

from leifeng.activities import selectors, services
from leifeng.activities.tests.conftest import NOW, make_activity, sign

EXTRA = 5  # confirmed beyond what the overview shows


@pytest.fixture
def crowd(tree, owner, make_volunteer):
    """Post A: ROSTER_OVERVIEW + EXTRA confirmed in groups of 3, a waitlist of 3, one who withdrew and one
    removed (their places went to the first two of the waitlist: confirmed, not in a group yet), a leader
    changed by hand.
    Post B (earlier): two confirmed, no groups."""
    quota = selectors.ROSTER_OVERVIEW + EXTRA
    a = make_activity(tree.st_a1, quota=quota, group_size=3)
    post_a = a.posts.get()
    post_b = a.posts.create(  # earlier whatever the hour the suite runs at (`replace(hour=1)` was not, near midnight)
        title="引导岗",
        starts_at=post_a.starts_at - timedelta(hours=3),
        ends_at=post_a.starts_at - timedelta(hours=2),
        quota=2,
    )
    people = [make_volunteer() for _ in range(quota + 3 + 2)]
    signups = [sign(v, post_a) for v in people[: quota + 3]]
    for v in people[quota + 3 :]:
        sign(v, post_b)
    groups = services.groups_build(actor=owner, post_id=post_a.pk)
    services.signup_withdraw(actor=people[4].user, signup_id=signups[4].pk, now=NOW)
    services.signup_remove(actor=owner, signup_id=signups[7].pk, reason="重复报名", now=NOW)
    services.group_set_leader(actor=owner, group_id=groups[0].pk, volunteer_id=people[2].pk)
    return {"activity": a, "post_a": post_a, "post_b": post_b, "signups": signups, "people": people}


def _summary(view: selectors.RosterView) -> list:
    def person(s):
        g = s["group"]
        return (
            s["pk"],
            s["volunteer__name"],
            s["status"],
            s["group_head"],
            s["is_leader"],
            g and (g.number, g.size, g.leader.name if g.leader_id else None),
        )

    return [
        (
            e.post.pk,
            e.post.title,
            e.post.starts_at,
            e.post.filled,
            e.post.quota,
            (e.post.n_confirmed, e.post.n_waitlisted, e.post.n_ended),
            [person(s) for s in e.people],
            [person(s) for s in e.waitlisted],
            [(s["pk"], s["status"], s["note"]) for s in e.ended],
        )
        for e in view.sections
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the prepared overview is PostgreSQL's")
def test_prepared_overview_is_the_orm_overview(crowd, owner):
    a = crowd["activity"]
    fast = selectors.roster_view(actor=owner, activity=a)
    orm = selectors._roster_view_orm(a, post_id=None, tab="confirmed", q="", page="1")
    assert _summary(fast) == _summary(orm)
    first, second = fast.sections
    assert first.post == crowd["post_b"] and second.post == crowd["post_a"]
    assert (second.post.n_confirmed, second.post.n_waitlisted, second.post.n_ended) == (
        selectors.ROSTER_OVERVIEW + EXTRA,
        1,  # the two places freed went to the first two of the waitlist
        2,
    )
    assert len(second.people) == selectors.ROSTER_OVERVIEW


def test_overview_page_in_group_order_with_the_newcomer_last(crowd, client_for, owner):
    people = crowd["people"]
    body = client_for(owner).get(reverse("activities:roster", args=[crowd["activity"].pk])).content.decode()
    # the activity's own title and group size (read in a few columns, the rest deferred)
    assert f"<title>名单 · {crowd['activity'].title} ·" in body
    assert "按每组 3 人分组" in body and "为新报名的人分组" in body  # post B has no groups yet, post A has
    # post B (earlier) first; on post A group 1 opens the list, its leader chosen by hand is marked
    assert body.index("引导岗") < body.index("清洁岗")
    group1 = body.index("<strong>第 1 组</strong>")
    assert body.index(people[0].number) > group1
    leader_row = body[body.rindex("<li", 0, body.index(people[2].number)) : body.index(people[2].number)]
    assert "badge leader" in leader_row
    # the promoted one from the waitlist is confirmed but in no group: beyond the first forty, behind "show all"
    assert f"?post={crowd['post_a'].pk}" in body
    assert body.count("badge confirmed") == selectors.ROSTER_OVERVIEW + 2
    # those who left, with the reason of the removal
    assert "重复报名" in body and "badge withdrawn" not in body  # leavers are listed by name, without badges


def test_organizers_change_shows_at_once_and_outsiders_get_404(crowd, client_for, owner, colleague, outsider):
    url = reverse("activities:roster", args=[crowd["activity"].pk])
    target = crowd["signups"][0]
    client = client_for(owner)
    assert crowd["people"][0].number in client.get(url).content.decode()
    services.signup_remove(actor=owner, signup_id=target.pk, reason="临时有事", now=NOW)
    body = client_for(colleague).get(url).content.decode()
    assert "临时有事" in body
    assert client_for(outsider).get(url).status_code == 404
