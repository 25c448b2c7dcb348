"""The page actions that change a post or a sign-up (sign up, withdraw, delete a post, build groups, assign) read
it through the actor's scope first: out of sight answers a plain 404 and nothing changes; the people allowed
keep what they had (owner and colleague of 东关社区站, the volunteer for their own sign-up)."""

import pytest
from django.urls import reverse

from leifeng.activities.models import Post, Signup, SignupGroup, SignupStatus
from leifeng.activities.tests.conftest import make_activity, sign
from leifeng.core.models import AuditEvent
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import TeamFactory

pytestmark = pytest.mark.django_db

STAFF = ["owner", "colleague"]


def audit_count() -> int:
    return AuditEvent.objects.count()


# ---------------------------------------------------------------- post_delete


@pytest.mark.parametrize("persona", STAFF)
def test_staff_delete_an_empty_post(persona, request, client_for, activity, post):
    r = client_for(request.getfixturevalue(persona)).post(reverse("activities:post_delete", args=[post.pk]))
    assert r.status_code == 302 and r.url == reverse("activities:activity_edit", args=[activity.pk])
    assert not Post.objects.filter(pk=post.pk).exists()


def test_outsider_cannot_delete_a_post(client_for, outsider, make_volunteer, tree, post):
    before = audit_count()
    for user in (outsider, make_volunteer(org=tree.st_a1).user):  # another subtree; a volunteer of the station
        assert client_for(user).post(reverse("activities:post_delete", args=[post.pk])).status_code == 404
    assert Post.objects.filter(pk=post.pk).exists() and audit_count() == before


def test_missing_post_is_the_same_404(client_for, owner):
    client = client_for(owner)
    for name in ("post_delete", "groups_build", "signup"):
        assert client.post(reverse(f"activities:{name}", args=[987654])).status_code == 404
    assert client.get(reverse("activities:assign", args=[987654])).status_code == 404


# ---------------------------------------------------------------- groups_build


@pytest.fixture
def confirmed(post, make_volunteer):
    """Two people confirmed on the post."""
    return [sign(make_volunteer(), post) for _ in range(2)]


@pytest.mark.parametrize("persona", STAFF)
def test_staff_build_groups(persona, request, client_for, activity, post, confirmed):
    r = client_for(request.getfixturevalue(persona)).post(reverse("activities:groups_build", args=[post.pk]))
    assert r.status_code == 302 and r.url == reverse("activities:roster", args=[activity.pk])
    assert SignupGroup.objects.filter(post=post).count() == 1
    assert all(s.group_id for s in Signup.objects.filter(post=post))


def test_outsider_cannot_build_groups(client_for, outsider, post, confirmed):
    before = audit_count()
    assert client_for(outsider).post(reverse("activities:groups_build", args=[post.pk])).status_code == 404
    assert not SignupGroup.objects.filter(post=post).exists() and audit_count() == before


# ---------------------------------------------------------------- signup


def test_volunteer_of_another_subtree_cannot_sign_up(client_for, tree, make_volunteer, post):
    far = make_volunteer(org=tree.st_b1)
    assert client_for(far.user).post(reverse("activities:signup", args=[post.pk])).status_code == 404
    assert not Signup.objects.filter(post=post).exists()


def test_outsider_cannot_sign_up(client_for, outsider, post):
    assert client_for(outsider).post(reverse("activities:signup", args=[post.pk])).status_code == 404
    assert not Signup.objects.filter(post=post).exists()


@pytest.mark.parametrize("persona", STAFF)
def test_staff_without_a_volunteer_profile_are_told_so(persona, request, client_for, activity, post):
    """Staff see the activity, so they get the page back with the reason, as before."""
    r = client_for(request.getfixturevalue(persona)).post(reverse("activities:signup", args=[post.pk]), follow=True)
    assert r.status_code == 200 and r.redirect_chain[-1][0] == reverse("activities:activity_detail", args=[activity.pk])
    assert "只有注册志愿者才能报名" in r.content.decode()
    assert not Signup.objects.filter(post=post).exists()


# ---------------------------------------------------------------- withdraw


@pytest.fixture
def theirs(post, make_volunteer):
    return sign(make_volunteer(), post)


@pytest.mark.parametrize("persona", [*STAFF, "outsider"])
def test_nobody_withdraws_someone_elses_sign_up(persona, request, client_for, theirs):
    """Staff take people off from the roster (with a reason); the withdraw button is the volunteer's own."""
    before = audit_count()
    r = client_for(request.getfixturevalue(persona)).post(reverse("activities:withdraw", args=[theirs.pk]))
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == SignupStatus.CONFIRMED and audit_count() == before


def test_another_volunteer_cannot_withdraw_it(client_for, make_volunteer, theirs):
    r = client_for(make_volunteer().user).post(reverse("activities:withdraw", args=[theirs.pk]))
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == SignupStatus.CONFIRMED


def test_the_volunteer_withdraws_their_own(client_for, activity, theirs):
    r = client_for(theirs.volunteer.user).post(reverse("activities:withdraw", args=[theirs.pk]), {"reason": "有事"})
    assert r.status_code == 302 and r.url == reverse("activities:activity_detail", args=[activity.pk])
    theirs.refresh_from_db()
    assert theirs.status == SignupStatus.WITHDRAWN


# ---------------------------------------------------------------- assign


@pytest.fixture
def team_a(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)
    member = make_volunteer()
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    return team, member


@pytest.mark.parametrize("persona", STAFF)
def test_staff_assign_team_members(persona, request, client_for, post, team_a):
    team, member = team_a
    client = client_for(request.getfixturevalue(persona))
    page = client.get(reverse("activities:assign", args=[post.pk]))
    assert page.status_code == 200 and team.name in page.content.decode()
    r = client.post(reverse("activities:assign", args=[post.pk]), {"team": team.pk, "numbers": member.number})
    assert r.status_code == 200 and "badge confirmed" in r.content.decode()
    assert Signup.objects.get(post=post, volunteer=member).status == SignupStatus.CONFIRMED


def test_outsider_cannot_assign_even_with_a_team_of_their_own(client_for, outsider, tree, make_volunteer, post):
    team = TeamFactory(org=tree.st_b1)
    member = make_volunteer(org=tree.st_b1)
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    client = client_for(outsider)
    assert client.get(reverse("activities:assign", args=[post.pk])).status_code == 404
    r = client.post(reverse("activities:assign", args=[post.pk]), {"team": team.pk, "numbers": member.number})
    assert r.status_code == 404
    assert not Signup.objects.filter(post=post).exists()


def test_draft_post_is_out_of_sight_for_a_team_leader(client_for, tree, make_volunteer):
    """A leader who is only a volunteer does not see a draft: 404, as on the activity page."""
    from leifeng.activities.models import ActivityStatus

    team = TeamFactory(org=tree.st_a1)
    leader = make_volunteer()
    team.leader = leader
    team.save()
    TeamMembership.objects.create(team=team, volunteer=leader, status=MembershipStatus.ACTIVE)
    draft = make_activity(tree.st_a1, status=ActivityStatus.DRAFT).posts.get()
    client = client_for(leader.user)
    assert client.get(reverse("activities:assign", args=[draft.pk])).status_code == 404
    r = client.post(reverse("activities:assign", args=[draft.pk]), {"team": team.pk, "numbers": leader.number})
    assert r.status_code == 404 and not Signup.objects.filter(post=draft).exists()
