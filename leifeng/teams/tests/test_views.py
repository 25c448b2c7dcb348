import pytest
from django.urls import reverse

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.people.models import VolunteerStatus
from leifeng.teams import services
from leifeng.teams.models import MembershipStatus, Team, TeamLevel, TeamMembership
from leifeng.testing import TeamFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"teams:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- list


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_list_shows_the_subtree_in_chinese(persona, request, tree, client_for, team, make_volunteer):
    services.membership_add(actor=request.getfixturevalue("owner"), team_id=team.pk, numbers=[make_volunteer().number])
    TeamFactory(org=tree.st_b1, name="北村中队")
    r = client_for(request.getfixturevalue(persona)).get(url("team_list"))
    assert r.status_code == 200
    body = text(r)
    assert "东关孝老敬老中队" in body and "北村中队" not in body
    assert "中队" in body and "孝老敬老" in body and "自选队伍" in body  # level, category, kind in Chinese


def test_outsider_sees_no_teams_of_another_subtree(client_for, outsider, team):
    r = client_for(outsider).get(url("team_list"))
    assert r.status_code == 200 and team.name not in text(r)


def test_list_filters(tree, client_for, center_admin, team):
    TeamFactory(org=tree.st_a2, name="西街第一小组", level=TeamLevel.GROUP, max_members=8, category="traffic")
    client = client_for(center_admin)
    assert "西街第一小组" not in text(client.get(url("team_list"), {"level": "squadron"}))
    body = text(client.get(url("team_list"), {"level": "group", "category": "traffic"}))
    assert "西街第一小组" in body and team.name not in body
    body = text(client.get(url("team_list"), {"org": tree.st_a1.pk}))
    assert team.name in body and "西街第一小组" not in body
    body = text(client.get(url("team_list"), {"kind": "fixed"}))
    assert team.name not in body
    partial = text(client.get(url("team_list"), {"q": "西街"}, **HTMX))
    assert "西街第一小组" in partial and "<html" not in partial


@pytest.mark.parametrize("n_teams", [3, 60])
def test_list_page_query_count_does_not_grow(n_teams, tree, owner, client_for, django_assert_num_queries):
    for i in range(n_teams):
        TeamFactory(org=tree.st_a1, name=f"队{i:02d}")
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT(*) of teams,
    # 3 the owner's volunteer profile (none; reused by the nav), 4 orgs for the filter,
    # 5 one page (50) of teams with joins and count subqueries
    with django_assert_num_queries(5):
        r = client.get(url("team_list"))
    assert r.status_code == 200
    assert text(r).count('data-label="名称"><a href="/teams/') == min(n_teams, 50)


# ---------------------------------------------------------------- one team: three personas


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_detail_edit_and_leaders_pages_open_for_owner_and_colleague(persona, request, client_for, team):
    client = client_for(request.getfixturevalue(persona))
    for name in ("team_detail", "team_edit", "team_leaders"):
        assert client.get(url(name, team.pk)).status_code == 200, name


def test_outsider_gets_404_on_every_team_page(client_for, outsider, team, make_volunteer):
    applicant = make_volunteer()
    m = services.membership_request(actor=applicant.user, team_id=team.pk)
    client = client_for(outsider)
    responses = [
        client.get(url("team_detail", team.pk)),
        client.get(url("team_edit", team.pk)),
        client.post(url("team_edit", team.pk), {"name": "x"}),
        client.get(url("team_leaders", team.pk)),
        client.post(url("team_leaders", team.pk), {"leader": applicant.number}),
        client.post(url("team_join", team.pk)),
        client.get(url("team_leave", team.pk)),
        client.post(url("team_leave", team.pk)),
        client.post(url("members_add", team.pk), {"numbers": [applicant.number]}),
        client.post(url("membership_approve", team.pk, m.pk)),
        client.post(url("membership_reject", team.pk, m.pk), {"reason": "x"}),
        client.post(url("membership_remove", team.pk, m.pk)),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    m.refresh_from_db()
    assert m.status == MembershipStatus.PENDING


def test_viewer_without_change_rights_gets_403_on_edit(client_for, assessor, team):
    client = client_for(assessor)
    assert client.get(url("team_detail", team.pk)).status_code == 200
    assert client.get(url("team_edit", team.pk)).status_code == 403
    assert client.get(url("team_leaders", team.pk)).status_code == 403


def test_anonymous_is_sent_to_log_in(client, team):
    r = client.get(url("team_detail", team.pk))
    assert r.status_code == 302 and "/accounts/login" in r["Location"]


# ---------------------------------------------------------------- create, edit, leaders


def test_owner_creates_a_team_and_adds_a_volunteer(tree, owner, client_for, make_volunteer):
    """The browser flow: create a team, find the volunteer by pinyin initials, add them."""
    volunteer = make_volunteer(name="王芳")
    client = client_for(owner)
    r = client.post(
        url("team_create"),
        {"org": tree.st_a1.pk, "name": "东关第一小组", "level": "group", "category": "neighborhood", "kind": "fixed"},
    )
    team = Team.objects.get(name="东关第一小组")
    assert r.status_code == 302 and r["Location"] == url("team_detail", team.pk)
    assert team.max_members == 8
    page = client.get(r["Location"])
    assert "已创建" in text(page) and "邻里守望" in text(page) and "固定队伍" in text(page)
    found = client.get(url("team_detail", team.pk), {"q": "wf"}, HTTP_HX_TARGET="candidates", **HTMX)
    assert "王芳" in text(found) and "<html" not in text(found)
    added = client.post(url("members_add", team.pk), {"numbers": [volunteer.number]}, **HTMX)
    assert added.status_code == 200 and 'id="members"' in text(added)
    assert "王芳" in text(added) and volunteer.number in text(added)
    assert TeamMembership.objects.get(team=team).status == MembershipStatus.ACTIVE


def test_create_page_shows_service_errors_on_the_form(tree, owner, client_for, team):
    form = {"org": tree.st_a1.pk, "name": team.name, "level": "squadron", "category": "other", "kind": "optional"}
    r = client_for(owner).post(url("team_create"), form)
    assert r.status_code == 200 and "该组织已有同名队伍" in text(r)
    r = client_for(owner).post(url("team_create"), {**form, "name": "大小组", "level": "group", "max_members": 9})
    assert "小组最多8人" in text(r)
    assert Team.objects.count() == 1


def test_outsider_cannot_pick_the_owners_station(tree, outsider, client_for):
    form = {"org": tree.st_a1.pk, "name": "越权", "level": "squadron", "category": "other", "kind": "optional"}
    r = client_for(outsider).post(url("team_create"), form)
    assert r.status_code == 200 and "id_org_error" in text(r) and not Team.objects.exists()


def test_a_volunteer_without_staff_rights_cannot_open_the_create_page(client_for, make_volunteer):
    assert client_for(make_volunteer().user).get(url("team_create")).status_code == 404


def test_edit_page_saves_changes(tree, owner, client_for, team):
    data = {"org": tree.st_a1.pk, "name": "东关敬老中队", "level": "squadron", "category": "health", "kind": "fixed"}
    r = client_for(owner).post(url("team_edit", team.pk), data)
    assert r.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.category, team.kind, team.is_active) == ("东关敬老中队", "health", "fixed", False)


def test_leaders_page_appoints_and_grants_the_role(tree, owner, client_for, team, make_volunteer):
    leader, deputy = make_volunteer(name="赵敏"), make_volunteer(name="黄强")
    client = client_for(owner)
    r = client.post(url("team_leaders", team.pk), {"leader": leader.number, "deputy": deputy.number})
    assert r.status_code == 302
    page = text(client.get(url("team_detail", team.pk)))
    assert "赵敏" in page and "黄强" in page and "队长" in page
    assert RoleAssignment.objects.filter(user=leader.user, role=Role.TEAM_LEADER, org=tree.st_a1).exists()
    r = client.post(url("team_leaders", team.pk), {"leader": deputy.number, "deputy": deputy.number})
    assert r.status_code == 200 and "副队长必须是队长以外的人" in text(r)


# ---------------------------------------------------------------- volunteers, leaders, requests


def test_volunteer_requests_to_join_and_the_leader_approves(owner, client_for, team, make_volunteer):
    leader = make_volunteer(name="队长甲")
    services.team_set_leaders(actor=owner, team_id=team.pk, leader=leader.number)
    applicant = make_volunteer(name="陈静")
    client = client_for(applicant.user)
    page = text(client.get(url("team_detail", team.pk)))
    assert "申请加入" in page and "<h2>队员" not in page  # no roster for someone not in the team
    r = client.post(url("team_join", team.pk), {"message": "周末有空"})
    assert r.status_code == 302
    page = text(client.get(url("team_detail", team.pk)))
    assert "等待队长答复" in page and "撤回申请" in page

    leader_client = client_for(leader.user)
    page = text(leader_client.get(url("team_detail", team.pk)))
    assert "陈静" in page and "周末有空" in page and "批准" in page
    m = TeamMembership.objects.get(team=team, volunteer=applicant)
    r = leader_client.post(url("membership_approve", team.pk, m.pk), **HTMX)
    assert r.status_code == 200 and "已批准" in text(r) and "<html" not in text(r)
    m.refresh_from_db()
    assert m.status == MembershipStatus.ACTIVE


def test_reject_without_a_reason_is_refused_with_a_message(owner, client_for, team, make_volunteer):
    applicant = make_volunteer()
    m = services.membership_request(actor=applicant.user, team_id=team.pk)
    client = client_for(owner)
    r = client.post(url("membership_reject", team.pk, m.pk), {"reason": ""}, follow=True)
    assert "请说明" in text(r)
    m.refresh_from_db()
    assert m.status == MembershipStatus.PENDING
    client.post(url("membership_reject", team.pk, m.pk), {"reason": "人数已够"})
    m.refresh_from_db()
    assert (m.status, m.reason) == (MembershipStatus.REJECTED, "人数已够")
    page = text(client_for(applicant.user).get(url("team_detail", team.pk)))
    assert "人数已够" in page and "申请加入" in page  # they see why, and may ask again


def test_a_plain_member_sees_the_roster_but_cannot_decide(owner, client_for, team, make_volunteer):
    member, applicant = make_volunteer(name="刘洋"), make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    m = services.membership_request(actor=applicant.user, team_id=team.pk)
    client = client_for(member.user)
    page = text(client.get(url("team_detail", team.pk)))
    assert "刘洋" in page and "批准" not in page and member.phone not in page
    assert client.post(url("membership_approve", team.pk, m.pk)).status_code == 403
    assert client.post(url("members_add", team.pk), {"numbers": [applicant.number]}).status_code == 403


def test_leader_removes_a_member(owner, client_for, team, make_volunteer):
    leader, member = make_volunteer(name="队长甲"), make_volunteer(name="欧阳离队")
    services.team_set_leaders(actor=owner, team_id=team.pk, leader=leader.number)
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    m = TeamMembership.objects.get(team=team, volunteer=member)
    r = client_for(leader.user).post(url("membership_remove", team.pk, m.pk), **HTMX)
    assert r.status_code == 200 and "欧阳离队" not in text(r) and "已将该队员移出队伍" in text(r)
    m.refresh_from_db()
    assert m.status == MembershipStatus.LEFT


def test_a_full_group_says_so(owner, client_for, group, make_volunteer):
    services.membership_add(actor=owner, team_id=group.pk, numbers=[make_volunteer().number for _ in range(8)])
    r = client_for(owner).post(url("members_add", group.pk), {"numbers_text": make_volunteer().number}, follow=True)
    assert "队伍已满" in text(r)
    assert TeamMembership.objects.filter(team=group).count() == 8


def test_pasted_numbers_are_added_all_at_once(owner, client_for, team, make_volunteer):
    vols = [make_volunteer() for _ in range(3)]
    pasted = f"{vols[0].number}，{vols[1].number}\n{vols[2].number.lower()}"
    client_for(owner).post(url("members_add", team.pk), {"numbers_text": pasted})
    assert TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE).count() == 3


def test_a_member_leaves(owner, client_for, team, make_volunteer):
    member = make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[member.number])
    client = client_for(member.user)
    assert "随时" in text(client.get(url("team_leave", team.pk)))
    r = client.post(url("team_leave", team.pk))
    assert r.status_code == 302 and r["Location"] == url("my_teams")
    assert TeamMembership.objects.get(team=team, volunteer=member).status == MembershipStatus.LEFT


def test_my_teams_lists_memberships_and_joinable_teams(tree, owner, client_for, team, make_volunteer):
    above = TeamFactory(org=tree.sub_a, name="长安大队", level=TeamLevel.BRIGADE)
    TeamFactory(org=tree.st_a2, name="西街中队")
    volunteer = make_volunteer()
    services.membership_add(actor=owner, team_id=team.pk, numbers=[volunteer.number])
    page = text(client_for(volunteer.user).get(url("my_teams")))
    assert team.name in page and above.name in page and "西街中队" not in page
    assert page.index(team.name) < page.index("可以加入的队伍") < page.index(above.name)


def test_an_unapproved_volunteer_is_told_to_wait(client_for, team, make_volunteer):
    pending = make_volunteer(status=VolunteerStatus.PENDING)
    page = text(client_for(pending.user).get(url("my_teams")))
    assert "注册审核通过后" in page and team.name not in page


def test_admin_lists_teams_and_memberships(client_for, owner, team, make_volunteer):
    from leifeng.testing import make_user

    services.membership_add(actor=owner, team_id=team.pk, numbers=[make_volunteer(name="黄强").number])
    operator = make_user("operator", is_staff=True, is_superuser=True)
    client = client_for(operator)
    assert team.name in text(client.get("/admin/teams/team/"))
    assert "黄强" in text(client.get("/admin/teams/teammembership/"))
    assert client.get(f"/admin/teams/team/{team.pk}/change/").status_code == 200
