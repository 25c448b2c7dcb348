"""The orders catalog: every string translated, nothing fuzzy, the committed .mo matches the .po, and the
pages a resident, the staff and a team leader open read in Chinese."""

from django.urls import reverse
from django.utils import translation

import leifeng.orders
from leifeng.orders.models import DispatchMode, OrderChannel, OrderStatus
from leifeng.orders.tests.factories import menu_item, order_in, submit
from leifeng.testing import assert_catalog_complete

S = OrderStatus


def test_every_string_is_translated_and_compiled():
    assert_catalog_complete(leifeng.orders, min_entries=300)


def test_statuses_channels_and_modes_use_the_words_of_the_plans():
    with translation.override("zh-hans"):
        statuses = [str(label) for label in S.labels]
        channels = [str(label) for label in OrderChannel.labels]
        modes = {str(label) for label in DispatchMode.labels}
    assert {"待审单", "待派单", "待接单", "待评单", "待抢单"} <= set(statuses)
    assert channels == ["平台", "电话", "走访", "微信群", "窗口"]
    assert {"层层派单", "抢单"} <= modes


def test_the_public_order_page_reads_in_chinese(client, tree):
    menu_item(tree.st_a1, title="水电维修")
    menu = client.get(reverse("orders:menu") + f"?station={tree.st_a1.pk}").content.decode()
    assert "服务菜单" in menu and "我要点这项" in menu and "Order this" not in menu
    page = client.get(reverse("orders:order_new") + f"?station={tree.st_a1.pk}").content.decode()
    for label in ("我要点单", "您的姓名", "手机号", "住址", "您需要什么帮助？", "使用我的位置", "提交点单"):
        assert label in page
    assert "Your name" not in page and "Send the order" not in page


def test_the_tracking_page_reads_in_chinese(client, tree):
    order = submit(tree.st_a1)
    page = client.get(reverse("orders:track", args=[order.token])).content.decode()
    assert "待审单" in page and "办理记录" in page and "Awaiting review" not in page


def test_the_inbox_and_the_order_page_read_in_chinese(client_for, tree, owner, crew):
    leader, team = crew
    order = order_in(S.TAKEN, tree=tree, staff=owner, leader=leader, team=team)
    staff = client_for(owner)
    inbox = staff.get(reverse("orders:inbox")).content.decode()
    for label in ("群众点单", "待审单", "待派单", "服务中", "录入点单"):
        assert label in inbox
    assert "Awaiting dispatch" not in inbox and "Residents' orders" not in inbox
    detail = staff.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    for label in ("群众", "需求", "渠道", "办理记录", "撤回", "取消工单"):
        assert label in detail
    mine = client_for(leader).get(reverse("orders:my_orders")).content.decode()
    assert "我的派单" in mine and "服务中" in mine
