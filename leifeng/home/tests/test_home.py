"""Home page (home:home) by role, and the menu each persona sees (core/context_processors.py)."""

import pytest
from django.urls import reverse

from leifeng.people.models import VolunteerStatus
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import TeamFactory, VolunteerFactory, make_user, make_volunteer_user

HOME = reverse("home:home")


def menu(response) -> list[str]:
    return [str(label) for label, _url in response.context["nav_items"]]


@pytest.fixture
def data(tree):
    VolunteerFactory.create_batch(3, org=tree.st_a1)
    VolunteerFactory(org=tree.st_a1, status=VolunteerStatus.PENDING)
    VolunteerFactory.create_batch(2, org=tree.st_b1)
    TeamFactory(org=tree.st_a1)


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_owner_sees_counts_of_own_subtree_and_pending_link(data, owner, client_for, django_assert_num_queries):
    client = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 own roles with node names,
    # 3 volunteer counts, 4 teams, 5 nodes, 6 own volunteer profile, 7 recent audit events
    with django_assert_num_queries(7):
        response = client.get(HOME)
    summary = response.context["summary"]
    assert (summary["volunteers"], summary["pending"], summary["teams"], summary["orgs"]) == (3, 1, 1, 1)
    html = response.content.decode()
    assert "?status=pending" in html and "去审核" in html
    assert "组织管理员 · 东关社区站" in html


def test_colleague_sees_the_same_counts_without_administration(data, colleague, client_for):
    response = client_for(colleague).get(HOME)
    assert response.context["summary"]["volunteers"] == 3
    assert "账号管理" not in response.content.decode().split("<main")[1]


def test_outsider_sees_only_own_subtree(data, outsider, client_for):
    summary = client_for(outsider).get(HOME).context["summary"]
    assert (summary["volunteers"], summary["pending"], summary["teams"]) == (2, 0, 0)


def test_volunteer_sees_own_status_number_and_teams(tree, client_for):
    user = make_volunteer_user("vol", org=tree.st_a1, status=VolunteerStatus.PENDING)
    team = TeamFactory(org=tree.st_a1, name="敬老服务队")
    TeamMembership.objects.create(team=team, volunteer=user.volunteer, status=MembershipStatus.ACTIVE)
    response = client_for(user).get(HOME)
    html = response.content.decode()
    assert user.volunteer.number in html and "badge pending" in html and "敬老服务队" in html
    assert not response.context["summary"]["can_view"]
    assert "已审核志愿者" not in html


def test_menu_by_role(data, tree, owner, colleague, outsider, assessor, client_for):
    staff = ["首页", "组织架构", "志愿者", "志愿服务队", "活动方案", "活动管理", "工单箱"]
    changes = ["批量派单", "证明申请", "短信接力", "消息"]
    everything = [*staff, *changes, "账号管理", "审计日志"]
    assert menu(client_for(owner).get(HOME)) == everything
    assert menu(client_for(outsider).get(HOME)) == everything
    assert menu(client_for(colleague).get(HOME)) == [*staff, *changes]
    assert menu(client_for(assessor).get(HOME)) == [*staff, "消息"]  # oversight reads, changes nothing
    volunteer = make_volunteer_user("vol", org=tree.st_a1)
    assert menu(client_for(volunteer).get(HOME)) == [
        "首页",
        "找活动",
        "我的岗位",
        "我的时长",
        "我的证明",
        "日历订阅",
        "我的志愿者档案",
        "我的队伍",
        "我的派单",
        "消息",
    ]
    leader = make_user("leader", role="team_leader", org=tree.st_a1)
    assert menu(client_for(leader).get(HOME)) == ["首页", "志愿服务队", "我的派单", "消息"]
    operator = make_user("root", is_staff=True, is_superuser=True)
    assert menu(client_for(operator).get(HOME))[-1] == "后台管理"


def test_anonymous_menu_offers_login_and_registration(client, tree):
    html = client.get(reverse("accounts:login")).content.decode()
    nav = html.split('<nav class="mainnav"')[1].split("</nav>")[0]
    assert "登录" in nav and "注册成为志愿者" in nav and "退出登录" not in nav


def test_nav_collapses_on_a_phone(client, tree):
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'id="nav-toggle"' in html and 'for="nav-toggle"' in html
    from django.contrib.staticfiles import finders

    with open(finders.find("css/leifeng.css"), encoding="utf-8") as f:
        css = f.read()
    assert ".nav-toggle:checked ~ .mainnav { display: flex; }" in css
    assert "@media (max-width: 720px)" in css
