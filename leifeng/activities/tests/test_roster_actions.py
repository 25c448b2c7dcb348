"""Changes made from the roster page (move to a group, make leader, remove): three personas each.

The sign-up or group is read through the actor's scope before anything runs, so an outsider's POST answers a
plain 404 — the same as for an id that does not exist — and changes nothing, not even the audit trail.
"""

import pytest
from django.urls import reverse

from leifeng.activities import services
from leifeng.activities.models import Signup, SignupGroup
from leifeng.activities.tests.conftest import make_activity, sign
from leifeng.core.models import AuditEvent


@pytest.fixture
def grouped(tree, owner, make_volunteer):
    """A post with three confirmed people in groups of two: group 1 = [first, second], group 2 = [third]."""
    a = make_activity(tree.st_a1, quota=5, group_size=2)
    post = a.posts.get()
    people = [make_volunteer() for _ in range(3)]
    signups = [sign(v, post) for v in people]
    g1, g2 = services.groups_build(actor=owner, post_id=post.pk)
    return {"activity": a, "signups": signups, "people": people, "g1": g1, "g2": g2}


def _roster_url(grouped) -> str:
    return reverse("activities:roster", args=[grouped["activity"].pk])


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_moves_someone_to_another_group(persona, request, client_for, grouped):
    second = grouped["signups"][1]
    r = client_for(request.getfixturevalue(persona)).post(
        reverse("activities:group_move", args=[second.pk]), {"group": grouped["g2"].pk}
    )
    assert r.status_code == 302 and r.url == _roster_url(grouped)
    second.refresh_from_db()
    assert second.group_id == grouped["g2"].pk


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_makes_someone_group_leader(persona, request, client_for, grouped):
    g1 = grouped["g1"]
    assert g1.leader_id == grouped["people"][0].pk
    r = client_for(request.getfixturevalue(persona)).post(
        reverse("activities:group_leader", args=[g1.pk]), {"volunteer": grouped["people"][1].pk}
    )
    assert r.status_code == 302 and r.url == _roster_url(grouped)
    g1.refresh_from_db()
    assert g1.leader_id == grouped["people"][1].pk


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_removes_someone_and_the_roster_says_so(persona, request, client_for, grouped):
    first = grouped["signups"][0]
    client = client_for(request.getfixturevalue(persona))
    r = client.post(reverse("activities:signup_remove", args=[first.pk]), {"reason": "重复报名"}, follow=True)
    assert r.status_code == 200
    assert "已从岗位移除" in r.content.decode()
    first.refresh_from_db()
    assert first.status == "removed"


def test_refusal_is_a_message_on_the_roster(client_for, owner, grouped):
    """A full group: the organizer sees why, nothing moves."""
    third = grouped["signups"][2]
    r = client_for(owner).post(
        reverse("activities:group_move", args=[third.pk]), {"group": grouped["g1"].pk}, follow=True
    )
    assert r.status_code == 200
    assert "已满" in r.content.decode()
    third.refresh_from_db()
    assert third.group_id == grouped["g2"].pk


def test_outsider_gets_404_and_nothing_changes(client_for, outsider, grouped):
    client = client_for(outsider)
    s1, s2, s3 = grouped["signups"]
    g1, g2 = grouped["g1"], grouped["g2"]
    audits = AuditEvent.objects.count()
    before = list(Signup.objects.order_by("pk").values_list("pk", "status", "group_id", "note"))
    leaders = list(SignupGroup.objects.order_by("pk").values_list("pk", "leader_id"))

    assert client.post(reverse("activities:group_move", args=[s2.pk]), {"group": g2.pk}).status_code == 404
    assert (
        client.post(reverse("activities:group_leader", args=[g1.pk]), {"volunteer": grouped["people"][1].pk})
    ).status_code == 404
    assert client.post(reverse("activities:signup_remove", args=[s1.pk]), {"reason": "不想要"}).status_code == 404

    assert list(Signup.objects.order_by("pk").values_list("pk", "status", "group_id", "note")) == before
    assert list(SignupGroup.objects.order_by("pk").values_list("pk", "leader_id")) == leaders
    assert AuditEvent.objects.count() == audits
    # the same answer as for ids that do not exist
    missing = max(s3.pk, g2.pk) + 1000
    assert client.post(reverse("activities:group_move", args=[missing]), {"group": g2.pk}).status_code == 404
    assert client.post(reverse("activities:group_leader", args=[missing])).status_code == 404
    assert client.post(reverse("activities:signup_remove", args=[missing]), {"reason": "x"}).status_code == 404


def test_volunteer_cannot_act_on_the_roster(client_for, grouped):
    """A volunteer on the roster (no staff role) gets the same 404 for their own sign-up."""
    me = grouped["people"][0]
    client = client_for(me.user)
    assert (
        client.post(reverse("activities:signup_remove", args=[grouped["signups"][0].pk]), {"reason": "x"}).status_code
        == 404
    )
    grouped["signups"][0].refresh_from_db()
    assert grouped["signups"][0].status == "confirmed"
