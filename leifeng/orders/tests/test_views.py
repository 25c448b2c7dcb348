"""Pages: a resident orders, tracks and rates without an account; staff review and dispatch; a leader serves.
Three personas on every staff page; the outsider gets 404; lists keep their query count."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from leifeng.orders import services
from leifeng.orders.models import Order, OrderEvent, OrderStatus
from leifeng.orders.tests.factories import T0, menu_item, order_in, submit

S = OrderStatus


def png(size=(2400, 1200)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    buf.name = "leak.png"
    return buf


def test_resident_orders_on_the_public_page_and_a_retry_returns_the_same_order(client, tree):
    item = menu_item(tree.st_a1, title="水电维修")
    page = client.get(reverse("orders:menu") + f"?station={tree.st_a1.pk}")
    assert "水电维修" in page.content.decode()
    url = reverse("orders:order_new") + f"?station={tree.st_a1.pk}"
    form = {
        "station": tree.st_a1.pk,
        "menu_item": item.pk,
        "resident_name": "李奶奶",
        "resident_phone": "139 1234 5678",
        "address": "东关社区5号楼",
        "latitude": "34.1",
        "longitude": "108.9",
        "idempotency_key": "k-123",
        "photo": png(),
    }
    response = client.post(url, form)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orders:track", args=[order.token])
    with order.photo.open() as f:
        assert max(Image.open(f).size) == 1600  # shrunk
    form["photo"] = png()
    again = client.post(url, form)
    assert again["Location"] == response["Location"] and Order.objects.count() == 1
    track = client.get(response["Location"])
    assert order.number in track.content.decode()


def test_bad_input_on_the_public_page_names_the_field(client, tree):
    url = reverse("orders:order_new") + f"?station={tree.st_a1.pk}"
    bad = io.BytesIO(b"not a picture at all")
    bad.name = "x.jpg"
    response = client.post(
        url, {"station": tree.st_a1.pk, "resident_name": "张", "resident_phone": "123", "photo": bad}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "resident_phone" in errors and "description" in errors and "photo" in errors
    assert Order.objects.count() == 0


def test_a_decompression_bomb_on_the_public_order_form_is_refused_naming_the_pixels(client, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = menu_item(tree.st_a1, title="水电维修")
    bomb = io.BytesIO()
    Image.new("1", (13_000, 13_000)).save(bomb, "PNG", optimize=True)  # 1-bit: ~20 KB, 169 megapixels
    assert bomb.tell() < 100_000
    bomb.seek(0)
    bomb.name = "cat.png"
    url = reverse("orders:order_new") + f"?station={tree.st_a1.pk}"
    form = {
        "station": tree.st_a1.pk,
        "menu_item": item.pk,
        "resident_name": "李奶奶",
        "resident_phone": "139 1234 5678",
        "address": "东关社区5号楼",
        "idempotency_key": "k-bomb",
        "photo": bomb,
    }

    response = client.post(url, form)

    assert response.status_code == 200
    assert "13000 × 13000" in " ".join(response.context["form"].errors["photo"])
    assert Order.objects.count() == 0 and not any(tmp_path.rglob("*.*"))


def test_tracking_link_shows_only_that_order_and_a_wrong_token_is_404(client, tree, owner):
    order = submit(tree.st_a1)
    services.order_reject(actor=owner, order_id=order.pk, reason="请联系物业处理", now=T0)
    page = client.get(reverse("orders:track", args=[order.token]))
    assert "请联系物业处理" in page.content.decode()
    assert client.get(reverse("orders:track", args=["nope" + order.token[4:]])).status_code == 404


def test_resident_rates_through_the_link(client, tree, owner, crew):
    leader, team = crew
    order = order_in(S.COMPLETED, tree=tree, staff=owner, leader=leader, team=team)
    client.post(reverse("orders:track_rate", args=[order.token]), {"rating": 5, "comment": "谢谢"})
    order.refresh_from_db()
    assert order.status == S.CLOSED and order.rating == 5


@pytest.mark.parametrize("name", ["inbox", "escalations", "figures", "menus"])
def test_staff_pages_three_personas(name, client_for, tree, owner, colleague, outsider):
    mine = submit(tree.st_a1, description="东关的需求")
    submit(tree.st_b1, resident_phone="13500000000", description="北村的需求")
    for user, sees in ((owner, True), (colleague, True), (outsider, False)):
        body = client_for(user).get(reverse(f"orders:{name}")).content.decode()
        if name == "inbox":
            assert ("东关的需求"[:10] in body or mine.number in body) is sees


@pytest.mark.parametrize("kind", ["detail", "dispatch"])
def test_order_pages_three_personas(kind, client_for, tree, owner, colleague, outsider, crew):
    leader, team = crew
    order = order_in(S.ACCEPTED, tree=tree, staff=owner, leader=leader, team=team)
    url = reverse("orders:order_detail" if kind == "detail" else "orders:dispatch", args=[order.pk])
    assert client_for(owner).get(url).status_code == 200
    assert client_for(colleague).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(leader).get(url).status_code == 404  # nothing offered to the leader yet


def test_inbox_query_count_does_not_grow_with_the_page(client_for, tree, owner, django_assert_num_queries):
    for i in range(3):
        submit(tree.st_a1, resident_phone=f"1391234560{i}")
    client = client_for(owner)
    url = reverse("orders:inbox") + "?status=submitted"

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(10):
        submit(tree.st_a1, resident_phone=f"1381234560{i}")
    # session with its account, roles and volunteer flag (accounts.middleware), page count, page rows (orders +
    # org, item, team, duplicate joined), status counts: the same number of queries for 3 or 13 rows
    assert count() == small


def test_the_whole_loop_through_the_pages(client_for, client, tree, owner, crew):
    """Staff review and dispatch, the leader accepts and completes, the resident rates; the history shows it."""
    leader, team = crew
    order = submit(tree.st_a1)
    staff = client_for(owner)
    staff.post(reverse("orders:order_action", args=[order.pk, "accept"]))
    staff.post(reverse("orders:dispatch", args=[order.pk]), {"mode": "direct", "team": team.pk})
    assert Order.objects.get(pk=order.pk).status == S.DISPATCHED
    lead = client_for(leader)
    assert order.number in lead.get(reverse("orders:my_orders")).content.decode()
    lead.post(reverse("orders:order_action", args=[order.pk, "take"]))
    detail = lead.get(reverse("orders:order_detail", args=[order.pk]))
    member_ids = [v for v, _ in detail.context["complete_form"].fields["volunteers"].choices]
    lead.post(
        reverse("orders:order_action", args=[order.pk, "complete"]),
        {"notes": "修好了", "minutes": 60, "volunteers": member_ids},
    )
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.minutes_served == 60 * len(member_ids)
    client.logout()
    client.post(reverse("orders:track_rate", args=[order.token]), {"rating": 4})
    page = client.get(reverse("orders:track", args=[order.token])).content.decode()
    actions = list(OrderEvent.objects.filter(order=order).values_list("action", flat=True))
    assert actions == ["submitted", "accepted", "dispatched", "taken", "completed", "rated"]
    assert page.count("<li>") >= 6


def test_leader_declines_from_the_page_with_a_reason(client_for, tree, owner, crew):
    leader, team = crew
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    lead = client_for(leader)
    lead.post(reverse("orders:order_action", args=[order.pk, "decline"]), {"reason": ""})
    assert Order.objects.get(pk=order.pk).status == S.DISPATCHED
    lead.post(reverse("orders:order_action", args=[order.pk, "decline"]), {"reason": "队员都在外地"})
    assert Order.objects.get(pk=order.pk).status == S.ACCEPTED


def test_escalate_orders_command_with_a_given_moment(tree, owner, crew, capsys):
    leader, team = crew
    order = order_in(S.DISPATCHED, tree=tree, staff=owner, leader=leader, team=team)
    moment = (order.accept_by + timedelta(minutes=5)).isoformat()
    call_command("escalate_orders", "--now", moment)
    assert "escalated 1" in capsys.readouterr().out
    assert Order.objects.get(pk=order.pk).escalation_level == 1


def _xlsx(response) -> dict[str, list[tuple]]:
    import openpyxl

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def _cells_of(client, number: str) -> list:
    import openpyxl

    response = client.get(reverse("orders:inbox_export") + "?status=submitted")
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return next(row for row in ws.iter_rows() if row[0].value == number)


def test_figures_page_passes_chart_data_and_keeps_the_tables(client_for, tree, owner, crew):
    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    submit(tree.st_a1, resident_phone="13800002222")
    response = client_for(owner).get(reverse("orders:figures"))
    body = response.content.decode()
    assert 'id="orders-figures" type="application/json"' in body
    assert "js/vendor/echarts.min.js" in body and "orders/figures.js" in body
    assert 'id="chart-status"' in body and 'id="status-table"' in body and 'id="figures-table"' in body
    chart = response.context["chart"]
    counts = {s["label"]: s["value"] for s in chart["statuses"]}
    assert counts["待审单"] == 1 and counts["已办结"] == 1 and sum(counts.values()) == 2
    assert chart["rows"][0] == tree.st_a1.name and team.name in chart["rows"]
    at = chart["rows"].index(team.name)
    assert chart["median_accept_h"][at] == 4.0  # submitted 09:00, taken 13:00 by the factory's path
    assert chart["satisfaction"][at] == 5.0


def test_figures_export_is_the_page_as_excel(client_for, tree, owner, crew):
    from leifeng.core.models import AuditEvent

    leader, team = crew
    order_in(S.CLOSED, tree=tree, staff=owner, leader=leader, team=team)
    sheets = _xlsx(client_for(owner).get(reverse("orders:figures_export") + f"?org={tree.st_a1.pk}"))
    figures, by_status = sheets["统计"], sheets["按状态"]
    assert figures[0][:3] == ("节点或服务队", "工单数", "已办结")
    assert figures[1][:3] == (tree.st_a1.name, 1, 1)
    team_row = next(r for r in figures if r[0] == team.name)
    assert team_row[3] == 4.0 and team_row[8] == 5
    assert ("已办结", 1) in by_status and ("待审单", 0) in by_status
    assert AuditEvent.objects.filter(action="order.figures_export", actor=owner).exists()


def test_orders_export_follows_the_inbox_filters_and_scope(client_for, tree, owner, outsider):
    from leifeng.core.models import AuditEvent

    mine = submit(tree.st_a1, resident_name='=HYPERLINK("http://x")', description="+1 需要修水管")
    submit(tree.st_a1, resident_phone="13800003333", description="第二单")
    theirs = submit(tree.st_b1, resident_phone="13500000000", description="北村的需求")
    rows = _xlsx(client_for(owner).get(reverse("orders:inbox_export") + "?status=submitted"))["工单"]
    assert rows[0][:3] == ("工单号", "服务项目", "状态")
    numbers = [r[0] for r in rows[1:]]
    assert mine.number in numbers and len(numbers) == 2 and theirs.number not in numbers
    row = next(r for r in rows if r[0] == mine.number)
    assert row[2] == "待审单" and row[4] == '=HYPERLINK("http://x")' and row[7] == "+1 需要修水管"
    assert {c.data_type for c in _cells_of(client_for(owner), mine.number)} <= {"s", "n", "d"}  # no formula
    only = _xlsx(client_for(owner).get(reverse("orders:inbox_export") + "?q=第二单"))["工单"]
    assert len(only) == 2 and only[1][7] == "第二单"
    events = AuditEvent.objects.filter(action="order.export", actor=owner, changes__filters__status="submitted")
    assert [e.changes["count"] for e in events] == [2, 2] and events[0].org == tree.st_a1
    outside = _xlsx(client_for(outsider).get(reverse("orders:inbox_export")))["工单"]
    assert [r[0] for r in outside[1:]] == [theirs.number]


def test_the_inbox_links_its_excel_with_its_filters(client_for, tree, owner):
    body = client_for(owner).get(reverse("orders:inbox") + "?status=accepted&q=水管").content.decode()
    assert reverse("orders:inbox_export") + "?status=accepted&amp;q=%E6%B0%B4%E7%AE%A1" in body


def test_exports_are_for_staff_only(client_for, tree, crew):
    leader, _team = crew
    for name in ("figures_export", "inbox_export"):
        assert client_for(leader).get(reverse(f"orders:{name}")).status_code == 404


def test_staff_edit_a_service_of_the_menu_with_its_teams(client_for, tree, owner, colleague, outsider, assessor, crew):
    from leifeng.core.models import AuditEvent

    leader, team = crew
    item = menu_item(tree.st_a1, title="助老陪护")
    url = reverse("orders:menu_edit", args=[item.pk])
    assert (
        reverse("orders:menu_edit", args=[item.pk]) in client_for(owner).get(reverse("orders:menus")).content.decode()
    )
    page = client_for(owner).get(url)
    assert page.status_code == 200 and 'value="助老陪护"' in page.content.decode()
    assert team.name in page.content.decode()  # a team of the node, offered as a provider
    form = {
        "title": "助老陪护（含代购）",
        "category": item.category,
        "description": "陪同就医、代购药品",
        "service_area": "东关社区",
        "time_windows": "工作日 9:00–17:00",
        "expected_minutes": 90,
        "points": 5,
        "teams": [team.pk],
    }
    response = client_for(owner).post(url, form)  # "active" left out: hidden from residents
    assert response.status_code == 302 and response["Location"] == reverse("orders:menus")
    item.refresh_from_db()
    assert item.title == "助老陪护（含代购）" and item.expected_minutes == 90 and item.points == 5
    assert list(item.teams.all()) == [team] and item.active is False
    assert AuditEvent.objects.filter(action="menu_item.update", object_id=str(item.pk)).exists()
    public = client_for(leader).get(reverse("orders:menu") + f"?station={tree.st_a1.pk}").content.decode()
    assert "助老陪护（含代购）" not in public
    assert client_for(colleague).get(url).status_code == 200  # 专管员 may change the station's menu
    assert client_for(assessor).get(url).status_code == 404  # sees the menus, may not change them
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).post(url, form | {"title": "改名"}).status_code == 404
    assert client_for(leader).get(url).status_code == 404


def test_menu_edit_refuses_bad_input_naming_the_field(client_for, tree, owner):
    menu_item(tree.st_a1, title="法律咨询")
    item = menu_item(tree.st_a1, title="助老陪护")
    data = {"title": "法律咨询", "category": item.category, "expected_minutes": 0, "points": 0, "active": "on"}
    response = client_for(owner).post(reverse("orders:menu_edit", args=[item.pk]), data)
    assert response.status_code == 200
    assert "expected_minutes" in response.context["form"].errors
    data["expected_minutes"] = 60
    response = client_for(owner).post(reverse("orders:menu_edit", args=[item.pk]), data)
    assert "同名服务" in " ".join(response.context["form"].errors["title"])
    item.refresh_from_db()
    assert item.title == "助老陪护"
