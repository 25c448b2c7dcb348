"""Pages of activities and campaigns: what volunteers and organizers see, three personas, query counts."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leifeng.activities import services
from leifeng.activities.models import Activity, ActivityStatus, Campaign, Signup
from leifeng.activities.tests.conftest import START, make_activity, sign

# ---------------------------------------------------------------- volunteers


def test_find_shows_visible_open_activities(client_for, tree, make_volunteer):
    make_activity(tree.st_a1, title="敬老院清洁")
    make_activity(tree.st_b1, title="北村活动")
    make_activity(tree.st_a1, title="草稿活动", status=ActivityStatus.DRAFT)
    r = client_for(make_volunteer().user).get(reverse("activities:find"))
    body = r.content.decode()
    assert r.status_code == 200
    assert "敬老院清洁" in body and "北村活动" not in body and "草稿活动" not in body


def test_find_filters_by_category_and_date(client_for, tree, make_volunteer):
    make_activity(tree.st_a1, title="敬老院清洁", category="elderly")
    make_activity(tree.st_a1, title="交通劝导", category="traffic", start=START + timedelta(days=2))
    client = client_for(make_volunteer().user)
    body = client.get(reverse("activities:find"), {"category": "traffic"}).content.decode()
    assert "交通劝导" in body and "敬老院清洁" not in body
    day = timezone.localtime(START + timedelta(days=2)).date().isoformat()
    body = client.get(reverse("activities:find"), {"date": day}).content.decode()
    assert "交通劝导" in body and "敬老院清洁" not in body


def test_find_query_count_does_not_grow(client_for, tree, make_volunteer, django_assert_num_queries):
    client = client_for(make_volunteer().user)
    make_activity(tree.st_a1, title="一")
    client.get(reverse("activities:find"))
    with django_assert_num_queries(4):
        # session with its account, roles and volunteer flag (accounts.middleware), volunteer profile, count,
        # page of activities with totals
        client.get(reverse("activities:find"))
    for i in range(5):
        make_activity(tree.st_a1, title=f"活动{i}")
    with django_assert_num_queries(4):
        client.get(reverse("activities:find"))


def test_volunteer_signs_up_and_withdraws_on_the_page(client_for, post, make_volunteer):
    v = make_volunteer()
    client = client_for(v.user)
    page = client.get(reverse("activities:activity_detail", args=[post.activity_id])).content.decode()
    assert "清洁岗" in page and "3" in page
    r = client.post(reverse("activities:signup", args=[post.pk]), follow=True)
    assert "You have signed up." in r.content.decode() or "报名成功" in r.content.decode()
    s = Signup.objects.get(volunteer=v)
    assert s.status == "confirmed"
    shifts = client.get(reverse("activities:my_shifts")).content.decode()
    assert "敬老院清洁" in shifts
    client.post(reverse("activities:withdraw", args=[s.pk]), {"next": "my_shifts"})
    s.refresh_from_db()
    assert s.status == "withdrawn"


def test_signup_by_htmx_returns_the_posts_partial(client_for, post, make_volunteer):
    client = client_for(make_volunteer().user)
    r = client.post(reverse("activities:signup", args=[post.pk]), headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="posts"' in body and "<html" not in body


def test_refusal_is_shown_as_a_message(client_for, tree, make_volunteer):
    a = make_activity(tree.st_a1)
    teen = make_volunteer(birth_date=date(START.year - 15, 1, 1))
    r = client_for(teen.user).post(reverse("activities:signup", args=[a.posts.get().pk]), follow=True)
    assert r.status_code == 200
    assert not Signup.objects.filter(volunteer=teen).exists()
    assert 'class="msg error"' in r.content.decode()


def test_volunteer_cannot_open_a_draft_or_the_roster(client_for, tree, make_volunteer):
    d = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    a = make_activity(tree.st_a1)
    client = client_for(make_volunteer().user)
    assert client.get(reverse("activities:activity_detail", args=[d.pk])).status_code == 404
    assert client.get(reverse("activities:roster", args=[a.pk])).status_code == 404


# ---------------------------------------------------------------- organizers


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_organizer_pages(persona, request, client_for, tree, activity):
    client = client_for(request.getfixturevalue(persona))
    assert "敬老院清洁" in client.get(reverse("activities:activity_list")).content.decode()
    for name in ("activity_detail", "activity_edit", "roster"):
        assert client.get(reverse(f"activities:{name}", args=[activity.pk])).status_code == 200
    assert client.get(reverse("activities:activity_create")).status_code == 200


def test_outsider_gets_404_everywhere(client_for, outsider, activity):
    client = client_for(outsider)
    assert "敬老院清洁" not in client.get(reverse("activities:activity_list")).content.decode()
    for name in ("activity_detail", "activity_edit", "roster", "report"):
        assert client.get(reverse(f"activities:{name}", args=[activity.pk])).status_code == 404
    r = client.post(reverse("activities:activity_transition", args=[activity.pk, "start"]))
    assert r.status_code == 404
    assert client.post(reverse("activities:groups_build", args=[activity.posts.get().pk])).status_code == 404


def test_activity_list_query_count(client_for, owner, tree, django_assert_num_queries):
    client = client_for(owner)
    make_activity(tree.st_a1, title="一")
    client.get(reverse("activities:activity_list"))
    with django_assert_num_queries(3):
        # session with its account, roles and volunteer flag (accounts.middleware), count,
        # page with totals as subqueries
        client.get(reverse("activities:activity_list"))
    for i in range(5):
        make_activity(tree.st_a1, title=f"活动{i}")
    with django_assert_num_queries(3):
        client.get(reverse("activities:activity_list"))


def test_roster_query_count_is_constant(client_for, owner, tree, make_volunteer, django_assert_num_queries):
    a = make_activity(tree.st_a1, quota=30)
    p = a.posts.get()
    client = client_for(owner)
    sign(make_volunteer(), p)
    services.groups_build(actor=owner, post_id=p.pk)
    client.get(reverse("activities:roster", args=[a.pk]))
    # session with its account, roles and volunteer flag (accounts.middleware), activity, posts, sign-ups
    # (+volunteer, group), groups (+leader); on PostgreSQL: the session query, then one transaction of
    # SET LOCAL plan_cache_mode, activity, posts, sign-ups with their group (selectors.roster_page)
    roster_queries = 5
    with django_assert_num_queries(roster_queries):
        client.get(reverse("activities:roster", args=[a.pk]))
    for _ in range(12):
        sign(make_volunteer(), p)
    services.groups_build(actor=owner, post_id=p.pk)
    with django_assert_num_queries(roster_queries):
        r = client.get(reverse("activities:roster", args=[a.pk]))
    assert r.content.decode().count("badge confirmed") == 13


def test_create_activity_add_post_publish(client_for, owner, tree):
    client = client_for(owner)
    r = client.post(
        reverse("activities:activity_create"),
        {
            "org": tree.st_a1.pk,
            "title": "义诊",
            "category": "health",
            "address": "东关卫生室",
            "visibility": "subtree",
            "group_size": 8,
        },
    )
    a = Activity.objects.get(title="义诊")
    assert r.status_code == 302 and r.url == reverse("activities:activity_edit", args=[a.pk])
    fmt = "%Y-%m-%dT%H:%M"
    client.post(
        reverse("activities:post_add", args=[a.pk]),
        {
            "title": "导诊",
            "starts_at": START.strftime(fmt),
            "ends_at": (START + timedelta(hours=2)).strftime(fmt),
            "quota": 4,
        },
    )
    assert a.posts.count() == 1
    client.post(reverse("activities:activity_transition", args=[a.pk, "publish"]))
    a.refresh_from_db()
    assert a.status == ActivityStatus.PUBLISHED


def test_risky_publish_refused_with_message(client_for, owner, tree):
    a = make_activity(tree.st_a1, status=ActivityStatus.DRAFT, risky=True)
    r = client_for(owner).post(reverse("activities:activity_transition", args=[a.pk, "publish"]), follow=True)
    a.refresh_from_db()
    assert a.status == ActivityStatus.DRAFT
    assert 'class="msg error"' in r.content.decode()


def test_assessor_may_look_but_not_edit(client_for, assessor, activity):
    client = client_for(assessor)
    assert client.get(reverse("activities:roster", args=[activity.pk])).status_code == 200
    assert client.get(reverse("activities:activity_edit", args=[activity.pk])).status_code == 403


def test_remove_from_roster_with_reason(client_for, owner, post, make_volunteer):
    s = sign(make_volunteer(), post)
    client_for(owner).post(reverse("activities:signup_remove", args=[s.pk]), {"reason": "重复"})
    s.refresh_from_db()
    assert s.status == "removed"


# ---------------------------------------------------------------- campaigns and reports


def test_campaign_pages(client_for, owner, outsider, tree, make_volunteer):
    client = client_for(owner)
    r = client.post(
        reverse("activities:campaign_create"),
        {"org": tree.st_a1.pk, "title": "2026年学雷锋月", "starts_on": "2026-03-01", "ends_on": "2026-03-31"},
    )
    assert r.status_code == 302
    c = Campaign.objects.get()
    make_activity(tree.st_a1, campaign=c, title="三月清洁")
    page = client.get(reverse("activities:campaign_detail", args=[c.pk])).content.decode()
    assert "三月清洁" in page and 'class="timeline"' in page and page.count('class="bar') == 3
    assert client.get(reverse("activities:campaign_list")).status_code == 200
    r = client.post(reverse("activities:campaign_copy", args=[c.pk]), {"year": 2027, "with_activities": "on"})
    assert r.status_code == 302
    phases_url = reverse("activities:campaign_phases", args=[c.pk])
    assert client.get(phases_url).status_code == 200
    # last: client_for logs the same test client in as someone else
    assert client_for(outsider).get(reverse("activities:campaign_detail", args=[c.pk])).status_code == 404


def test_report_page_with_figures(client_for, owner, tree, activity, make_volunteer):
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.FINISHED)
    client = client_for(owner)
    r = client.post(reverse("activities:report", args=[activity.pk]), {"summary": "服务老人30人次"})
    assert r.status_code == 302
    page = client.get(reverse("activities:report", args=[activity.pk])).content.decode()
    assert "服务老人30人次" in page
    vol = client_for(make_volunteer().user)
    assert vol.get(reverse("activities:report", args=[activity.pk])).status_code == 200


def test_edit_phases_on_the_page(client_for, owner, tree):
    from leifeng.activities.services import CampaignInput, campaign_create

    c = campaign_create(
        actor=owner,
        data=CampaignInput(org_id=tree.st_a1.pk, title="方案", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)),
    )
    url = reverse("activities:campaign_phases", args=[c.pk])
    data = {
        "phases-TOTAL_FORMS": "2",
        "phases-INITIAL_FORMS": "0",
        "phases-0-name": "宣传发动",
        "phases-0-starts_on": "2026-03-01",
        "phases-0-ends_on": "2026-03-04",
        "phases-1-name": "集中服务",
        "phases-1-starts_on": "2026-03-05",
        "phases-1-ends_on": "2026-04-30",
    }
    client = client_for(owner)
    r = client.post(url, data)
    assert r.status_code == 200 and "宣传启动" in [p.name for p in c.phases.all()]  # out of period: refused
    assert "超出了方案的起止日期" in r.content.decode()
    data["phases-1-ends_on"] = "2026-03-31"
    assert client.post(url, data).status_code == 302
    assert [p.name for p in c.phases.all()] == ["宣传发动", "集中服务"]


def test_leader_assigns_on_the_page_and_other_forms_render(client_for, owner, tree, make_volunteer):
    from leifeng.teams.models import MembershipStatus, TeamMembership
    from leifeng.testing import TeamFactory

    team = TeamFactory(org=tree.st_a1)
    leader, member = make_volunteer(), make_volunteer()
    team.leader = leader
    team.save()
    for v in (leader, member):
        TeamMembership.objects.create(team=team, volunteer=v, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1)
    p = a.posts.get()
    client = client_for(leader.user)
    page = client.get(reverse("activities:assign", args=[p.pk])).content.decode()
    assert team.name in page
    r = client.post(reverse("activities:assign", args=[p.pk]), {"team": team.pk, "numbers": member.number})
    assert r.status_code == 200 and "badge confirmed" in r.content.decode()
    assert Signup.objects.get(volunteer=member).assigned_by == leader.user
    assert client_for(make_volunteer().user).get(reverse("activities:assign", args=[p.pk])).status_code == 404
    client = client_for(owner)
    assert client.get(reverse("activities:post_edit", args=[p.pk])).status_code == 200
    c = Campaign.objects.create(org=tree.st_a1, title="方案", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 2))
    assert client.get(reverse("activities:campaign_edit", args=[c.pk])).status_code == 200


def test_roster_caps_a_big_post_and_pages_the_rest(client_for, owner, tree, make_volunteer, django_assert_num_queries):
    from leifeng.activities.selectors import ROSTER_OVERVIEW, ROSTER_PAGE

    a = make_activity(tree.st_a1, quota=ROSTER_PAGE + 5)
    p = a.posts.get()
    people = [make_volunteer() for _ in range(ROSTER_PAGE + 7)]
    signups = [sign(v, p) for v in people]
    services.groups_build(actor=owner, post_id=p.pk)
    client = client_for(owner)
    url = reverse("activities:roster", args=[a.pk])
    body = client.get(url).content.decode()
    assert body.count("badge confirmed") == ROSTER_OVERVIEW
    assert f"?post={p.pk}" in body and "badge waitlisted" in body  # "show all" link, waitlist collapsed
    assert reverse("attendance:kiosk", args=[a.pk]) in body and reverse("hours:review", args=[a.pk]) in body
    assert reverse("attendance:roll_call", args=[p.pk]) in body
    assert "<select" not in body  # the move-to-group select loads on demand, per person
    client.get(url, {"post": p.pk, "page": 2})
    with django_assert_num_queries(6):
        # session with its account, roles and volunteer flag, activity, the post with counts, count, page, groups
        r = client.get(url, {"post": p.pk, "page": 2})
    assert r.content.decode().count("badge confirmed") == 5
    r = client.get(url, {"post": p.pk, "tab": "waitlisted"})
    assert r.content.decode().count("badge waitlisted") == 2
    r = client.get(url, {"q": people[3].number})
    assert r.content.decode().count('class="person"') == 1
    panel = client.get(url, {"manage": signups[3].pk}, headers={"HX-Request": "true"}).content.decode()
    assert "<select" in panel and 'name="reason"' in panel
    r = client.post(
        reverse("activities:signup_remove", args=[signups[3].pk]),
        {"reason": "重复"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{url}?post={p.pk}&page=2"},
    )
    assert r.status_code == 200 and "?post=" in r.content.decode() and 'hx-get="?manage=' in r.content.decode()
    assert client_for(make_volunteer().user).get(url, {"manage": signups[3].pk}).status_code == 404
