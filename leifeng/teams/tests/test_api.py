import pytest

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.teams import services
from leifeng.teams.models import MembershipStatus, Team, TeamLevel, TeamMembership
from leifeng.testing import TeamFactory

API = "/api/v1/teams/"


def api_get(client, url, **params):
    return client.get(url, params)


def api_post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def api_patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


# ---------------------------------------------------------------- teams


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_list_shows_teams_of_the_subtree_with_counts(persona, request, tree, client_for, team, make_volunteer):
    services.membership_add(actor=request.getfixturevalue("owner"), team_id=team.pk, numbers=[make_volunteer().number])
    services.membership_request(actor=make_volunteer().user, team_id=team.pk)
    TeamFactory(org=tree.st_b1, name="北村中队")
    r = api_get(client_for(request.getfixturevalue(persona)), API)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1
    row = body["items"][0]
    assert (row["name"], row["org_name"], row["active_count"], row["pending_count"]) == (
        "东关孝老敬老中队",
        "东关社区站",
        1,
        1,
    )


def test_list_for_the_outsider_is_empty_and_filters_apply(tree, client_for, outsider, center_admin, team):
    assert api_get(client_for(outsider), API).json()["count"] == 0
    TeamFactory(org=tree.st_a2, name="西街小组", level=TeamLevel.GROUP, max_members=8, kind="fixed")
    client = client_for(center_admin)
    assert [t["name"] for t in api_get(client, API, level="group").json()["items"]] == ["西街小组"]
    assert [t["name"] for t in api_get(client, API, kind="fixed").json()["items"]] == ["西街小组"]
    assert [t["name"] for t in api_get(client, API, org=tree.st_a1.pk).json()["items"]] == [team.name]
    assert api_get(client, API, category="theory").json()["count"] == 0
    assert api_get(client, API, level="nonsense").status_code == 422


@pytest.mark.parametrize("n_teams", [3, 30])
def test_list_query_count_does_not_grow_with_the_page(n_teams, tree, owner, client_for, django_assert_num_queries):
    for i in range(n_teams):
        TeamFactory(org=tree.st_a1, name=f"队{i}")
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT(*) of teams in scope,
    # 3 one page of teams with org, parent, leader and deputy joined and both counts as subqueries
    with django_assert_num_queries(3):
        r = api_get(client, API, page_size=50)
    assert len(r.json()["items"]) == n_teams


def test_create_team_through_the_api(tree, owner, client_for):
    r = api_post(
        client_for(owner),
        API,
        {"org_id": tree.st_a1.pk, "name": "东关第一小组", "level": "group", "category": "neighborhood"},
    )
    assert r.status_code == 201, r.content
    assert (r.json()["max_members"], r.json()["kind"]) == (8, "optional")


def test_create_errors_use_the_one_error_format(tree, owner, outsider, client_for):
    r = api_post(client_for(outsider), API, {"org_id": tree.st_a1.pk, "name": "越权"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid" and "org" in r.json()["error"]["fields"]
    r = api_post(client_for(owner), API, {"org_id": tree.st_a1.pk, "name": "小组", "level": "group", "max_members": 9})
    assert "max_members" in r.json()["error"]["fields"]
    assert not Team.objects.exists()


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_get_and_patch_for_owner_and_colleague(persona, request, client_for, team, make_volunteer):
    client = client_for(request.getfixturevalue(persona))
    assert api_get(client, f"{API}{team.pk}").json()["name"] == team.name
    leader = make_volunteer(name="李娜")
    r = api_patch(client, f"{API}{team.pk}", {"name": "东关敬老中队", "leader": leader.number})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "东关敬老中队"
    assert r.json()["leader"] == {"number": leader.number, "name": "李娜"}
    assert r.json()["active_count"] == 1
    assert RoleAssignment.objects.filter(user=leader.user, role=Role.TEAM_LEADER).exists()
    r = api_patch(client, f"{API}{team.pk}", {"leader": None})
    assert r.json()["leader"] is None


def test_patch_refuses_to_empty_required_fields(owner, client_for, team):
    r = api_patch(client_for(owner), f"{API}{team.pk}", {"is_active": None, "org_id": None, "description": None})
    assert r.status_code == 400 and set(r.json()["error"]["fields"]) == {"is_active", "org_id"}
    team.refresh_from_db()
    assert team.is_active


def test_outsider_gets_404_on_every_team_endpoint(tree, outsider, client_for, team, make_volunteer):
    owner_like = make_volunteer()
    m = TeamMembership.objects.create(team=team, volunteer=owner_like, status=MembershipStatus.PENDING)
    client = client_for(outsider)
    calls = [
        client.get(f"{API}{team.pk}"),
        api_patch(client, f"{API}{team.pk}", {"name": "x"}),
        client.get(f"{API}{team.pk}/memberships"),
        api_post(client, f"{API}{team.pk}/memberships", {"numbers": [owner_like.number]}),
        api_post(client, f"{API}{team.pk}/memberships/{m.pk}/approve"),
        api_post(client, f"{API}{team.pk}/memberships/{m.pk}/reject", {"reason": "x"}),
        api_post(client, f"{API}{team.pk}/memberships/{m.pk}/remove"),
        api_post(client, f"{API}{team.pk}/leave"),
        client.get(f"{API}999999"),
    ]
    assert [r.status_code for r in calls] == [404] * len(calls)
    assert calls[0].json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    m.refresh_from_db()
    team.refresh_from_db()
    assert (m.status, team.name) == (MembershipStatus.PENDING, "东关孝老敬老中队")


def test_anonymous_gets_401(team, client):
    assert client.get(API).status_code == 401


# ---------------------------------------------------------------- memberships


def test_staff_add_by_numbers_and_list_the_roster(owner, colleague, client_for, team, make_volunteer):
    vols = [make_volunteer() for _ in range(3)]
    r = api_post(client_for(colleague), f"{API}{team.pk}/memberships", {"numbers": [v.number for v in vols]})
    assert r.status_code == 201, r.content
    assert [m["status"] for m in r.json()] == ["active"] * 3
    roster = api_get(client_for(owner), f"{API}{team.pk}/memberships").json()
    assert {m["volunteer"]["number"] for m in roster["items"]} == {v.number for v in vols}


def test_a_volunteer_asks_to_join_and_the_leader_approves(owner, client_for, team, make_volunteer):
    leader = make_volunteer()
    services.team_set_leaders(actor=owner, team_id=team.pk, leader=leader.number)
    applicant = make_volunteer()
    r = api_post(client_for(applicant.user), f"{API}{team.pk}/memberships", {"message": "周末有空"})
    assert r.status_code == 201
    membership = r.json()[0]
    assert (membership["status"], membership["message"]) == ("pending", "周末有空")
    r = api_post(client_for(applicant.user), f"{API}{team.pk}/memberships")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_requested"
    leader_client = client_for(leader.user)
    pending = api_get(leader_client, f"{API}{team.pk}/memberships", status="pending").json()
    assert [m["id"] for m in pending["items"]] == [membership["id"]]
    r = api_post(leader_client, f"{API}{team.pk}/memberships/{membership['id']}/approve")
    assert r.status_code == 200 and r.json()["status"] == "active"


def test_reject_and_remove(owner, client_for, team, make_volunteer):
    applicant, member = make_volunteer(), make_volunteer()
    m = services.membership_request(actor=applicant.user, team_id=team.pk)
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    member_row = TeamMembership.objects.get(team=team, volunteer=member)
    client = client_for(owner)
    r = api_post(client, f"{API}{team.pk}/memberships/{m.pk}/reject", {"reason": ""})
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = api_post(client, f"{API}{team.pk}/memberships/{m.pk}/reject", {"reason": "名额已满"})
    assert (r.json()["status"], r.json()["reason"]) == ("rejected", "名额已满")
    r = api_post(client, f"{API}{team.pk}/memberships/{member_row.pk}/remove", {"reason": "搬家"})
    assert r.json()["status"] == "left"
    r = api_post(client, f"{API}{team.pk}/memberships/{member_row.pk}/remove")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_member"


def test_a_volunteer_cannot_add_others_or_decide(owner, client_for, team, make_volunteer):
    member, other = make_volunteer(), make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    pending = services.membership_request(actor=other.user, team_id=team.pk)
    client = client_for(member.user)
    r = api_post(client, f"{API}{team.pk}/memberships", {"numbers": [other.number]})
    assert r.status_code == 403
    r = api_post(client, f"{API}{team.pk}/memberships/{pending.pk}/approve")
    assert r.status_code == 403
    # a member sees the roster but not the open requests
    assert api_get(client, f"{API}{team.pk}/memberships").status_code == 200
    assert api_get(client, f"{API}{team.pk}/memberships", status="pending").status_code == 403


def test_the_group_limit_over_the_api(owner, client_for, group, make_volunteer):
    r = api_post(
        client_for(owner), f"{API}{group.pk}/memberships", {"numbers": [make_volunteer().number for _ in range(9)]}
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "team_full"
    assert TeamMembership.objects.filter(team=group).count() == 0


def test_members_leave_through_the_api(owner, client_for, team, make_volunteer):
    member = make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    r = api_post(client_for(member.user), f"{API}{team.pk}/leave")
    assert r.status_code == 200 and r.json()["status"] == "left"


@pytest.mark.parametrize("n_members", [3, 30])
def test_roster_query_count_does_not_grow_with_the_page(
    n_members, owner, client_for, team, make_volunteer, django_assert_num_queries
):
    services.membership_add(
        actor=owner, team_id=team.pk, numbers=[make_volunteer(account=False).number for _ in range(n_members)]
    )
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware),
    # 2 the owner's volunteer profile (none), 3 the team (visibility + counts), 4 COUNT(*) of memberships,
    # 5 one page of memberships with their volunteers joined
    with django_assert_num_queries(5):
        r = api_get(client, f"{API}{team.pk}/memberships", page_size=50)
    assert r.json()["count"] == n_members and len(r.json()["items"]) == n_members
