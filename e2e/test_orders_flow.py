"""Issue #3's browser flow in real Chromium, on a phone-sized screen (点单 → 审单 → 派单 → 接单 → 评单):

a resident orders from the station's menu without an account and keeps the private tracking link → the
station head accepts the order and dispatches it with one of the matching engine's suggestions → the team
leader accepts and completes it with the hours served → the resident rates through the link → the order page
shows every step. Screenshots: test-artifacts/screenshots/orders-*.png.
"""

import re

import pytest
from playwright.sync_api import expect

from e2e.helpers import login
from leifeng import testing
from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.tests.factories import leader_with_team, menu_item
from leifeng.people.models import Volunteer

pytestmark = pytest.mark.browser

RESIDENT = "王秀兰"
PHONE = "13987654321"


def test_resident_orders_staff_dispatch_by_suggestion_leader_serves_resident_rates(
    transactional_db, live_server, phone, shot
):
    tree = testing.build_tree()
    testing.make_user("zhanzhang", role="org_admin", org=tree.st_a1, display_name="东关站长")
    leader, team = leader_with_team(tree, username="duizhang")
    team.name = "东关助老服务队"
    team.save(update_fields=["name"])
    Volunteer.objects.filter(user=leader).update(name="李队长")
    menu_item(tree.st_a1, title="助老陪护", teams=[team])
    base = live_server.url
    page = phone
    page.set_default_navigation_timeout(60000)  # a busy CI machine may serve the first page slowly

    # 1. 点单: a resident picks the station, sees its menu and orders on the phone, without an account.
    page.context.grant_permissions(["geolocation"], origin=base)
    page.context.set_geolocation({"latitude": 34.2610, "longitude": 108.9420})
    page.goto(f"{base}/orders/menu/")
    page.select_option("select[name=station]", label=tree.st_a1.name)
    page.get_by_role("button", name="查看服务菜单").click()
    card = page.locator(".card", has_text="助老陪护")
    expect(card).to_be_visible()
    card.get_by_role("link", name="我要点这项").click()
    expect(page.locator("h1")).to_have_text("我要点单")
    expect(page.locator("select[name=menu_item] option:checked")).to_contain_text("助老陪护")
    page.fill("input[name=resident_name]", RESIDENT)
    page.fill("input[name=resident_phone]", PHONE)
    page.fill("input[name=address]", "东关社区5号楼3单元201")
    page.fill("textarea[name=description]", "老伴住院，需要有人陪我去医院复查")
    page.get_by_role("button", name="使用我的位置").click()
    expect(page.locator("#location-status")).to_contain_text("已记录位置")
    shot(page, "orders-01-resident-order-form")
    page.get_by_role("button", name="提交点单").click()
    expect(page).to_have_url(re.compile(r"/orders/t/[^/]+/$"))
    tracking_url = page.url
    expect(page.locator(".messages")).to_contain_text("这是您的专属链接")
    expect(page.locator("h1")).to_contain_text("助老陪护")
    expect(page.locator(".card .badge").first).to_have_text("待审单")
    shot(page, "orders-02-resident-tracking-link")
    order = Order.objects.get(resident_name=RESIDENT)
    assert tracking_url.endswith(f"/orders/t/{order.token}/")
    assert order.latitude is not None  # the point from "use my location" came with the order

    # 2. 审单 + 派单: the station head accepts, then dispatches with a suggestion of the matching engine.
    login(page, base, "zhanzhang")
    page.goto(f"{base}/orders/inbox/")
    row = page.locator("#results tbody tr", has_text=order.number)
    expect(row).to_contain_text(RESIDENT)
    expect(row).to_contain_text("待审单")
    row.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(order.number)
    page.get_by_role("button", name="审单通过").click()
    expect(page.locator(".messages")).to_contain_text("审单通过。")
    expect(page.locator("h1 .badge")).to_have_text("待派单")
    page.get_by_role("link", name="派单", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/dispatch/$"))
    suggestion = page.locator("tr", has_text="东关助老服务队")
    expect(suggestion).to_contain_text("菜单指定的服务队")  # why it is suggested
    shot(page, "orders-03-dispatch-suggestions")
    suggestion.get_by_role("button", name="派给它").click()
    expect(page.locator(".messages")).to_contain_text("已派单。")
    expect(page.locator("h1 .badge")).to_have_text("待接单")
    expect(page.locator("main")).to_contain_text("东关助老服务队")

    # 3. 接单 + 完成: the team leader logs in, accepts and completes with the hours served.
    login(page, base, "duizhang")
    page.goto(f"{base}/orders/mine/")
    mine = page.locator("tbody tr", has_text=order.number)
    expect(mine).to_contain_text("待接单")
    mine.get_by_role("link").click()
    page.get_by_role("button", name="接单", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("您已接单。")
    expect(page.locator("h1 .badge")).to_have_text("服务中")
    page.fill("textarea[name=notes]", "陪同去市中心医院复查，已送回家")
    page.fill("input[name=minutes]", "120")
    page.select_option("select[name=volunteers]", label=["李队长", "队员甲"])
    shot(page, "orders-04-leader-completes")
    page.get_by_role("button", name="标记为已完成").click()
    expect(page.locator(".messages")).to_contain_text("服务已完成，时长已记录。")
    expect(page.locator("h1 .badge")).to_have_text("待评单")
    expect(page.locator("main")).to_contain_text("李队长 (120 分钟)")
    expect(page.locator("main")).to_contain_text("队员甲 (120 分钟)")

    # 4. 评单: the resident opens the private link (no account) and rates.
    page.context.clear_cookies()
    page.goto(tracking_url)
    expect(page.locator(".card .badge").first).to_have_text("待评单")
    expect(page.locator("main")).to_contain_text("陪同去市中心医院复查")
    page.check("input[name=rating][value='5']")
    page.fill("textarea[name=comment]", "志愿者很耐心，谢谢！")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".messages")).to_contain_text("感谢您的评价。")
    expect(page.locator(".card .badge").first).to_have_text("已办结")
    expect(page.locator("main")).to_contain_text("★★★★★")
    shot(page, "orders-05-resident-rated")

    # 5. The order page shows the history with every step, who did it and when.
    login(page, base, "zhanzhang")
    page.goto(f"{base}/orders/{order.pk}/")
    history = page.locator("ol.events li")
    steps = ["待审单", "待派单", "待接单", "服务中", "待评单", "已办结"]
    expect(history).to_have_count(len(steps))
    for item, status in zip(history.all(), steps, strict=True):
        expect(item.locator("strong")).to_have_text(status)
        expect(item.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(history.nth(0)).to_contain_text("群众")
    expect(history.nth(1)).to_contain_text("东关站长")
    expect(history.nth(2)).to_contain_text("东关助老服务队")
    expect(history.nth(3)).to_contain_text("队长")  # the leader's account
    expect(history.nth(5)).to_contain_text("群众")
    expect(page.locator("main")).to_contain_text("5/5")
    shot(page, "orders-06-history")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CLOSED


def test_figures_page_draws_the_charts_without_breaking_the_csp(transactional_db, live_server, phone, shot):
    """ECharts (vendored) draws three charts from the page's json_script; no inline script, no CSP error."""
    from leifeng.orders.tests.factories import order_in, submit

    tree = testing.build_tree()
    staff = testing.make_user("zhanzhang", role="org_admin", org=tree.st_a1, display_name="东关站长")
    leader, team = leader_with_team(tree, username="duizhang")
    for status in (OrderStatus.CLOSED, OrderStatus.TAKEN, OrderStatus.SUBMITTED):
        order_in(status, tree=tree, staff=staff, leader=leader, team=team)
    submit(tree.st_a1, resident_phone="13800004444")
    page = phone
    page.set_default_navigation_timeout(60000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server.url, "zhanzhang")
    page.goto(f"{live_server.url}/orders/figures/")
    for chart in ("#chart-status", "#chart-times", "#chart-satisfaction"):
        expect(page.locator(f"{chart}[data-ready='1'] canvas")).to_have_count(1)
        box = page.locator(f"{chart} canvas").bounding_box()
        assert box is not None and box["width"] > 250 and box["height"] > 150  # drawn at phone width
    expect(page.locator("#status-table tbody tr", has_text="待审单")).to_contain_text("2")
    expect(page.locator("#figures-table")).to_contain_text(team.name)
    expect(page.get_by_role("link", name="下载 Excel")).to_have_attribute(
        "href", re.compile(r"/orders/figures/export/")
    )
    shot(page, "orders-07-figures-charts")
    assert problems == []
