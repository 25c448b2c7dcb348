"""Demo orders on top of the county demo (called by leifeng.demo.seed.seed_demo inside its transaction).

Menus from the plans' services at the demo station, its sub-center and the center, and orders in every
status, each moved there through the services (so every order has its real history of events).
"""

from datetime import date, datetime, timedelta

from leifeng.orders import services
from leifeng.orders.models import MenuItem, Order, OrderChannel, OrderStatus
from leifeng.teams.models import Team, TeamCategory

S = OrderStatus
C = TeamCategory

# (level key, title, category, description, minutes)
MENUS = [
    ("station", "家政维修", C.NEIGHBORHOOD, "水管、门锁、灯具等小修小补，材料由居民自备", 90),
    ("station", "电器维修", C.NEIGHBORHOOD, "家用小电器检查与维修", 60),
    ("station", "代购代办", C.ELDERLY, "为行动不便的老人代购生活用品、代办缴费", 60),
    ("station", "陪护", C.ELDERLY, "陪同就医、居家陪伴聊天", 120),
    ("station", "助残", C.DISABILITY, "为残疾人提供出行协助、居家照料", 90),
    ("subcenter", "心理疏导", C.HEALTH, "心理咨询师一对一倾听与疏导", 60),
    ("subcenter", "法律援助", C.LEGAL, "婚姻家庭、劳动纠纷、邻里矛盾的法律咨询", 60),
    ("subcenter", "政策咨询", C.THEORY, "医保、养老、低保等惠民政策解读", 30),
    ("center", "义诊", C.HEALTH, "测血压血糖、常见病咨询（每月第一个周六）", 120),
]

RESIDENTS = [
    ("王秀英", "13900001001", "3号楼2单元501"),
    ("张桂兰", "13900001002", "5号楼1单元302"),
    ("李德明", "13900001003", "7号楼3单元101"),
    ("刘淑珍", "13900001004", "平房区12号"),
    ("陈国强", "13900001005", "2号楼4单元602"),
    ("赵玉梅", "13900001006", "9号楼1单元201"),
    ("孙建国", "13900001007", "11号楼2单元402"),
    ("周凤英", "13900001008", "1号楼1单元101"),
    ("吴志刚", "13900001009", "6号楼2单元303"),
    ("郑丽华", "13900001010", "8号楼3单元502"),
    ("冯长顺", "13900001011", "4号楼1单元202"),
    ("何桂芝", "13900001012", "10号楼2单元601"),
]


def _drive(order: Order, status: str, *, staff, leader, team: Team, other: Order, at: datetime) -> None:
    """Move an order to `status` by the usual path, an hour or so between steps."""
    pk = order.pk
    step = at + timedelta(minutes=40)
    if status == S.SUBMITTED:
        return
    if status == S.REJECTED:
        services.order_reject(actor=staff, order_id=pk, reason="该需求属物业维修范围，请联系小区物业", now=step)
        return
    if status == S.CANCELLED:
        services.order_cancel(token=order.token, reason="家人已经帮忙解决", now=step)
        return
    if status == S.MERGED:
        services.order_merge(actor=staff, order_id=pk, into_id=other.pk, now=step)
        return
    services.order_accept(actor=staff, order_id=pk, now=step)
    if status == S.ACCEPTED:
        return
    step += timedelta(hours=1)
    if status == S.OPEN:
        services.order_open_grab(actor=staff, order_id=pk, now=step)
        return
    services.order_dispatch(actor=staff, order_id=pk, team_id=team.pk, promised_by=step + timedelta(days=2), now=step)
    if status == S.DISPATCHED:
        return
    step += timedelta(hours=2)
    services.order_take(actor=leader, order_id=pk, now=step)
    if status == S.TAKEN:
        return
    step += timedelta(hours=20)
    services.order_complete(
        actor=leader,
        order_id=pk,
        data=services.CompletionInput(notes="已上门服务，居民满意", minutes=90),
        now=step,
    )
    if status == S.COMPLETED:
        return
    token = Order.objects.get(pk=pk).token
    step += timedelta(hours=3)
    if status == S.FOLLOW_UP:
        services.order_rate(token=token, rating=2, comment="来得比约定晚了两个小时", now=step)
        return
    services.order_rate(token=token, rating=5, comment="志愿者很耐心，谢谢！", now=step)


def build(demo, *, today: date, now: datetime) -> dict[str, int]:
    """Create the orders demo; return counts for the command's summary."""
    leader, staff = demo.users["leader"], demo.users["station"]
    team = Team.objects.filter(leader__user=leader, is_active=True).select_related("org").order_by("pk").first()
    if team is None:
        return {}
    station = team.org
    nodes = {"station": station, "subcenter": demo.subcenter, "center": demo.center}
    items: dict[str, MenuItem] = {}
    for level, title, category, description, minutes in MENUS:
        item = services.menu_item_create(
            actor=demo.users["admin"],
            data=services.MenuItemInput(
                org_id=nodes[level].pk,
                title=title,
                category=category,
                description=description,
                service_area=nodes[level].name + ("辖区" if level != "station" else ""),
                time_windows="工作日 9:00–17:00",
                expected_minutes=minutes,
                points=minutes // 30,
                team_ids=[team.pk] if category == team.category or title in ("家政维修", "电器维修") else [],
            ),
        )
        items[title] = item
    titles = ["家政维修", "代购代办", "陪护", "电器维修", "助残", "心理疏导", "法律援助", "政策咨询", "义诊"]
    start = now - timedelta(days=12)
    other = None
    made = 0
    statuses = [S.MERGED] + [s for s in S.values if s != S.MERGED] + [S.CLOSED, S.CLOSED, S.SUBMITTED]
    for i, status in enumerate(reversed(statuses)):
        name, phone, address = RESIDENTS[i % len(RESIDENTS)]
        at = start + timedelta(days=i * 0.8)
        if status == S.MERGED and other is not None:
            phone = other.resident_phone
        item = items[titles[i % len(titles)]]
        order, _ = services.order_submit(
            actor=staff if i % 3 == 0 else None,
            data=services.OrderInput(
                org_id=station.pk,
                resident_name=name,
                resident_phone=phone,
                address=f"{station.name}{address}",
                description="希望周末上午上门" if i % 2 else "",
                menu_item_id=None if status == S.MERGED else item.pk,
                channel=[OrderChannel.PHONE, OrderChannel.VISIT, OrderChannel.WECHAT, OrderChannel.DESK][i % 4],
            ),
            now=at,
        )
        if status == S.MERGED and other is None:
            status = S.SUBMITTED
        if other is None:
            other = order
        _drive(order, status, staff=staff, leader=leader, team=team, other=other, at=at)
        made += 1
    return {"menu items": len(items), "orders": made}
