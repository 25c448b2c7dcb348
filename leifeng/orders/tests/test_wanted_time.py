"""期望服务时间 (the wanted window): optional on every way in (page, staff entry, API, Open311), shown on the order
and the tracking page and in the Excel export, and preferred by the matching engine and the batch dispatch."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from leifeng import testing
from leifeng.orders import services
from leifeng.orders.dispatch import matching as M
from leifeng.orders.dispatch import services as D
from leifeng.orders.models import Order
from leifeng.orders.tests.factories import T0, menu_item, order_input, submit
from leifeng.people.models import AvailableTime
from leifeng.teams.models import MembershipStatus, TeamCategory, TeamMembership

TZ = timezone.get_current_timezone()
# T0 is Friday 2026-11-20 09:00; the next day is a Saturday
SAT_9 = T0 + timedelta(days=1)
SAT_11 = SAT_9 + timedelta(hours=2)
FUTURE_SAT = datetime(2030, 1, 5, 9, 30)  # pages use the real clock: a Saturday far ahead
E = TeamCategory.ELDERLY


# ------------------------------------------------------------------ the service


def test_the_window_is_optional_and_either_end_may_be_open(tree):
    assert submit(tree.st_a1).wanted_display == ""
    both = submit(tree.st_a1, resident_phone="13900000001", wanted_from=SAT_9, wanted_until=SAT_11)
    assert (both.wanted_from, both.wanted_until) == (SAT_9, SAT_11)
    assert both.wanted_display == "2026-11-21 09:00–11:00"
    start = submit(tree.st_a1, resident_phone="13900000002", wanted_from=SAT_9)
    end = submit(tree.st_a1, resident_phone="13900000003", wanted_until=SAT_11 + timedelta(days=1))
    with translation.override("zh-hans"):
        assert start.wanted_display == "2026-11-21 09:00 起"
        assert end.wanted_display == "2026-11-22 11:00 前"
    # a time without a zone is local time (an API client that sends "2026-11-21T09:00")
    naive = submit(tree.st_a1, resident_phone="13900000004", wanted_from=SAT_9.replace(tzinfo=None))
    assert naive.wanted_from == SAT_9


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (T0 - timedelta(hours=1), None, "wanted_from"),  # already passed
        (None, T0 - timedelta(minutes=5), "wanted_until"),
        (SAT_11, SAT_9, "wanted_until"),  # the end before the start
        (SAT_9, SAT_9, "wanted_until"),
    ],
)
def test_a_window_in_the_past_or_backwards_is_refused_on_its_field(tree, start, end, field):
    with pytest.raises(ValidationError) as exc:
        services.order_submit(data=order_input(tree.st_a1, wanted_from=start, wanted_until=end), now=T0)
    assert field in exc.value.message_dict
    assert not Order.objects.exists()


def test_the_current_minute_is_not_the_past(tree):
    order, _ = services.order_submit(data=order_input(tree.st_a1, wanted_from=T0), now=T0 + timedelta(seconds=40))
    assert order.wanted_from == T0


# ------------------------------------------------------------------ pages, API, Excel


def _local(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


def test_resident_page_and_tracking_page_show_the_wanted_time(client, tree):
    url = reverse("orders:order_new") + f"?station={tree.st_a1.pk}"
    page = client.get(url).content.decode()
    assert 'name="wanted_from"' in page and 'type="datetime-local"' in page and "期望服务时间" in page
    form = {
        "station": tree.st_a1.pk,
        "description": "帮忙取药",
        "resident_name": "李奶奶",
        "resident_phone": "13912345678",
        "address": "东关社区5号楼",
        "wanted_from": _local(FUTURE_SAT),
        "wanted_until": _local(FUTURE_SAT + timedelta(hours=2)),
    }
    response = client.post(url, form)
    order = Order.objects.get()
    assert response.status_code == 302
    assert timezone.localtime(order.wanted_from).replace(tzinfo=None) == FUTURE_SAT
    track = client.get(response["Location"]).content.decode()
    assert "期望服务时间" in track and "2030-01-05 09:30–11:30" in track
    # a window that ended before it started is shown next to its field; nothing is saved
    form.update(wanted_until=_local(FUTURE_SAT - timedelta(hours=1)), resident_phone="13912340000")
    again = client.post(url, form)
    assert again.status_code == 200 and Order.objects.count() == 1
    assert again.context["form"].errors["wanted_until"]


def test_staff_entry_takes_the_window_and_the_order_page_shows_it(client_for, tree, owner, colleague, outsider):
    form = {
        "org": tree.st_a1.pk,
        "channel": "phone",
        "description": "独居老人需要陪同就医",
        "resident_name": "张大爷",
        "resident_phone": "13800005555",
        "address": "东关社区7号楼",
        "wanted_from": _local(FUTURE_SAT),
    }
    response = client_for(colleague).post(reverse("orders:staff_new"), form)
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert order.channel == "phone" and order.entered_by == colleague and order.wanted_until is None
    for user, status in ((owner, 200), (colleague, 200), (outsider, 404)):
        page = client_for(user).get(reverse("orders:order_detail", args=[order.pk]))
        assert page.status_code == status
        if status == 200:
            assert "2030-01-05 09:30 起" in page.content.decode()


def test_api_takes_and_returns_the_window(client, client_for, tree, owner):
    body = {
        "org_id": tree.st_a1.pk,
        "resident_name": "赵大爷",
        "resident_phone": "13912340000",
        "address": "3号楼",
        "description": "换灯泡",
        "wanted_from": "2030-01-05T09:30:00+08:00",
        "wanted_until": "2030-01-05T11:30:00+08:00",
    }
    created = client.post("/api/v1/orders/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["wanted_from"].startswith("2030-01-05T") and created.json()["wanted_until"]
    track = client.get(f"/api/v1/orders/track/{created.json()['token']}").json()
    assert parse_datetime(track["wanted_until"]) == parse_datetime(body["wanted_until"])
    got = client_for(owner).get(f"/api/v1/orders/{created.json()['id']}").json()
    assert parse_datetime(got["wanted_from"]) == parse_datetime(body["wanted_from"])
    backwards = dict(body, resident_phone="13912340001", wanted_until="2030-01-05T08:00:00+08:00")
    refused = client.post("/api/v1/orders/", backwards, content_type="application/json")
    assert refused.status_code == 400 and "wanted_until" in refused.json()["error"]["fields"]


def test_excel_export_has_the_window(client_for, tree, owner):
    import openpyxl

    order = submit(tree.st_a1, wanted_from=SAT_9, wanted_until=SAT_11)
    response = client_for(owner).get(reverse("orders:inbox_export") + "?status=submitted")
    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    at = rows[0].index("期望服务时间起")
    assert rows[0][at + 1] == "期望服务时间止"
    row = next(r for r in rows if r[0] == order.number)
    assert (row[at], row[at + 1]) == (SAT_9.replace(tzinfo=None), SAT_11.replace(tzinfo=None))


# ------------------------------------------------------------------ Open311


def test_open311_preferred_time_becomes_the_window(client, tree, owner):
    _client, key = services.open311_client_create(actor=owner, name="hotline", org_id=tree.st_a1.pk)
    item = menu_item(tree.st_a1, title="家政维修")
    data = {
        "api_key": key,
        "service_code": item.pk,
        "address_string": "东关社区3号楼",
        "first_name": "大妈",
        "last_name": "王",
        "phone": "13912345678",
        "description": "水龙头坏了",
        "attribute[preferred_time]": "2030-01-05T09:30:00+08:00",
        "attribute[preferred_time_end]": "2030-01-05T11:30:00+08:00",
    }
    r = client.post("/open311/v2/requests.json", data)
    assert r.status_code == 200, r.content
    order = Order.objects.get()
    assert order.wanted_display == "2030-01-05 09:30–11:30"
    assert order.description == "水龙头坏了"  # no longer copied into the text
    past = dict(data, phone="13800001111", **{"attribute[preferred_time]": "2020-01-04T09:30:00+08:00"})
    del past["attribute[preferred_time_end]"]
    r = client.post("/open311/v2/requests.json", past)
    assert r.status_code == 400 and "attribute[preferred_time]" in r.json()[0]["description"]


# ------------------------------------------------------------------ matching and batch dispatch


def test_slots_of_a_window():
    weekday_evening = datetime(2026, 11, 23, 17, 30, tzinfo=TZ)  # Monday
    assert M.slots_between(weekday_evening, weekday_evening + timedelta(hours=1)) == 1 | 2  # 17:30–18:30
    assert M.slots_between(SAT_9, SAT_11) == M.SLOT_BITS[AvailableTime.WEEKEND]
    assert M.slots_between(T0, T0 + timedelta(days=8)) == 7


@pytest.fixture
def people(tree):
    """Three elderly-care volunteers at 东关社区站: free at weekends, on weekdays only, and silent about it."""
    team = testing.TeamFactory(org=tree.st_a1, name="东关助老队", category=E)
    out = {}
    for name, times in (
        ("周末志愿者", [AvailableTime.WEEKEND]),
        ("工作日志愿者", [AvailableTime.WEEKDAY_DAYTIME]),
        ("未填时间", []),
    ):
        v = testing.VolunteerFactory(org=tree.st_a1, name=name, available_times=times)
        TeamMembership.objects.create(team=team, volunteer=v, status=MembershipStatus.ACTIVE)
        out[name] = v
    out["team"] = team
    return out


def _accepted(tree, owner, **kw) -> Order:
    order = submit(tree.st_a1, **kw)
    return services.order_accept(actor=owner, order_id=order.pk, now=T0 + timedelta(hours=1))


def test_suggestions_prefer_who_is_available_in_the_window_and_say_so(tree, owner, people):
    item = menu_item(tree.st_a1)
    order = _accepted(tree, owner, menu_item_id=item.pk, wanted_from=SAT_9, wanted_until=SAT_11)
    with translation.override("en"):
        got = M.suggest(order, teams=False, limit=3)
    assert [s.assignee.name for s in got] == ["周末志愿者", "未填时间", "工作日志愿者"]
    assert "Available at the wanted time 2026-11-21 09:00–11:00" in got[0].reasons
    assert "Available time not given" in got[1].reasons
    assert "Usually not available at the wanted time 2026-11-21 09:00–11:00" in got[2].reasons
    # a weekday morning turns the order round
    monday = _accepted(
        tree, owner, menu_item_id=item.pk, resident_phone="13900000009", wanted_from=T0 + timedelta(days=3)
    )
    assert M.suggest(monday, teams=False, limit=1)[0].assignee.name == "工作日志愿者"


def test_a_team_is_available_when_one_of_its_members_is(tree, owner, people):
    idle = testing.TeamFactory(org=tree.st_a1, name="工作日助老队", category=E)
    TeamMembership.objects.create(team=idle, volunteer=people["工作日志愿者"], status=MembershipStatus.ACTIVE)
    item = menu_item(tree.st_a1)
    plain = _accepted(tree, owner, menu_item_id=item.pk)
    weekend = _accepted(tree, owner, menu_item_id=item.pk, resident_phone="13900000008", wanted_from=SAT_9)
    # without a wanted time the two teams tie; on a Saturday the team with a weekend member leads
    assert len({s.score for s in M.suggest(plain, volunteers=False)}) == 1
    with translation.override("en"):
        got = M.suggest(weekend, volunteers=False)
    assert [s.assignee.name for s in got] == ["东关助老队", "工作日助老队"]
    assert got[0].score > got[1].score
    assert "Members available at the wanted time from 2026-11-21 09:00" in got[0].reasons
    assert "Members usually not available at the wanted time from 2026-11-21 09:00" in got[1].reasons


def test_batch_dispatch_gives_the_weekend_order_to_the_weekend_volunteer(tree, owner, people):
    item = menu_item(tree.st_a1)
    weekday = _accepted(tree, owner, menu_item_id=item.pk, wanted_from=T0 + timedelta(days=3))
    weekend = _accepted(
        tree, owner, menu_item_id=item.pk, resident_phone="13900000007", wanted_from=SAT_9, wanted_until=SAT_11
    )
    with translation.override("en"):
        plan = D.batch_assign(actor=owner, candidates="volunteers")
    by_order = {row.order.pk: row for row in plan.rows}
    assert by_order[weekend.pk].volunteer == people["周末志愿者"]
    assert by_order[weekday.pk].volunteer == people["工作日志愿者"]
    assert "Available at the wanted time 2026-11-21 09:00–11:00" in by_order[weekend.pk].reasons


def test_the_inbox_the_dispatch_board_and_my_orders_show_the_window(client_for, tree, owner, crew):
    leader, team = crew
    order = _accepted(tree, owner, wanted_from=SAT_9, wanted_until=SAT_11)
    staff = client_for(owner)
    assert (
        "期望服务时间 2026-11-21 09:00–11:00"
        in staff.get(reverse("orders:inbox") + "?status=accepted").content.decode()
    )
    board = staff.get(reverse("orders:dispatch", args=[order.pk])).content.decode()
    assert "2026-11-21 09:00–11:00" in board
    services.order_dispatch(actor=owner, order_id=order.pk, team_id=team.pk, now=T0 + timedelta(hours=2))
    assert "期望服务时间 2026-11-21 09:00–11:00" in client_for(leader).get(reverse("orders:my_orders")).content.decode()
