"""What the demo is made of, drawn from the plans the project started from (the 长安街道 plan above all).

Only data lives here — names, places, teams, skills — so the builder in `seed.py` stays short and a
reader can check the demo against the plans. Everyone named here is fictitious apart from the three
leaders of the 长安街道 practice office, whose names come from the published plan.
"""

from leifeng.accounts.models import Role
from leifeng.orgs.models import UnitKind
from leifeng.teams.models import TeamCategory

DEMO_PASSWORD = "leifeng2024"  # documented in README.md as demo only

COUNTY = "某县"
CENTER = "某县新时代文明实践中心"
SUBCENTER = "长安街道新时代文明实践所"
SUBCENTER_ADDRESS = "长安街道党群服务中心二楼"
LEADING_GROUP = "长安街道新时代文明实践工作领导小组"
OTHER_SUBCENTER = "青山镇新时代文明实践所"

# 所长、副所长 (DESIGN glossary: Position). The plan names three of them; the rest are "其余党政领导".
CENTER_POSITIONS = [
    ("director", "钱志远", "县委书记、中心主任"),
    ("deputy_director", "孙丽华", "县委宣传部部长、中心副主任"),
    ("specialist", "郭晓燕", "中心办公室专职工作人员"),
]
SUBCENTER_POSITIONS = [
    ("director", "何华光", "街道党工委书记、所长"),
    ("deputy_director", "方艳明", "街道党工委副书记、副所长"),
    ("deputy_director", "柴志慧", "宣传委员、执行副所长兼办公室主任"),
    ("deputy_director", "周建国", "街道办事处主任、副所长"),
    ("specialist", "田雨", "所办公室(党政办)工作人员"),
]
# 领导小组: 组长、副组长、成员、办公室主任 (the plan's 领导小组下设办公室).
LEADING_GROUP_MEMBERS = [
    ("leader", "何华光", "街道党工委书记"),
    ("deputy", "方艳明", "街道党工委副书记"),
    ("deputy", "周建国", "街道办事处主任"),
    ("member", "柴志慧", "街道宣传委员"),
    ("member", "王磊", "党政办主任"),
    ("member", "陈丽", "社会事务办主任"),
    ("member", "刘洋", "综合文化站站长"),
    ("member", "黄敏", "社区卫生服务中心主任"),
    ("member", "赵刚", "长安派出所副所长"),
    ("office_head", "柴志慧", "街道宣传委员、执行副所长"),
]

# 9 村(社区) stations of the street: (place, 站长 = Party branch secretary, 专管员, practice points).
STATIONS = [
    ("长安社区", "李建华", "杨雪", ["长安社区党群服务中心", "长安社区道德讲堂"]),
    ("东关社区", "张国庆", "刘婷", ["东关社区文体小广场"]),
    ("西街社区", "王秀英", "陈晨", ["西街社区志愿服务站", "西街社区日间照料中心"]),
    ("南门社区", "赵卫东", "孙丽", ["南门社区文明实践长廊"]),
    ("文昌社区", "周玉兰", "吴迪", ["文昌社区四点半课堂"]),
    ("杏花村", "陈立新", "郑洁", ["杏花村农家书屋", "杏花村文化广场"]),
    ("柳林村", "黄德胜", "马骏", ["柳林村村史馆"]),
    ("石桥村", "林永刚", "朱琳", ["石桥村孝德街"]),
    ("王家庄村", "王振山", "何静", ["王家庄村儒学讲堂"]),
]
OTHER_STATIONS = [
    ("青山社区", "罗志明", "许慧", ["青山社区党群服务中心"]),
    ("河口村", "谢长青", "韩梅", ["河口村农家书屋"]),
    ("梨树村", "唐国富", "冯燕", []),
]
DEMO_STATION = "长安社区"  # where the station-level demo accounts work


def station_name(place: str) -> str:
    return f"{place}新时代文明实践站"


# Units (单位) with the first two characters of their unified social credit code (GB 32100):
# 11 机关, 12 事业单位, 51 社会团体, 91 企业; the army unit uses 12 because python-stdnum only accepts
# digits in the first eight characters. Classes 1001班–1010班 are sub-units of the school.
CREDIT_AREA = "430121"
UNITS = [
    # (name, kind, credit prefix, attached to: "center" | "subcenter", address)
    ("县人民医院", UnitKind.HOSPITAL, "12", "center", "县城人民路88号"),
    ("县水务局", UnitKind.AGENCY, "11", "center", "县城滨河路12号"),
    ("长郡蓉芙中学", UnitKind.SCHOOL, "12", "subcenter", "长安街道荷花路与马王堆路口东100米"),
    ("长安惠民超市有限公司", UnitKind.ENTERPRISE, "91", "subcenter", "长安街道马王堆路路口"),
    ("县义工联合会", UnitKind.SOCIAL, "51", "center", "县城文化路5号"),
    ("武警某县中队", UnitKind.MILITARY, "12", "center", "县城北环路1号"),
]
SCHOOL = "长郡蓉芙中学"
CLASSES = [f"{n}班" for n in range(1001, 1011)]
HOSPITAL = "县人民医院"
WATER_BUREAU = "县水务局"
ARMY = "武警某县中队"

BRIGADE = "长安街道志愿服务大队"
OTHER_BRIGADE = "青山镇志愿服务大队"
# The "5" of "5+n": one fixed team for each of the plan's five standing tasks.
FIXED_TEAMS = [
    ("党员先锋志愿服务队", TeamCategory.PARTY_VANGUARD, "老党员、在职党员带头,入户走访、政策宣传、环境整治。"),
    ("理论宣讲志愿服务队", TeamCategory.THEORY, "讲理论、讲政策、讲文明,以讲堂或入户方式开展面对面宣讲。"),
    ("文化惠民志愿服务队", TeamCategory.CULTURE_FOR_ALL, "送文化、种文化:广场舞、戏曲、文艺培训、读书看报。"),
    ("移风易俗志愿服务队", TeamCategory.CUSTOMS, "依托红白理事会,倡导婚事新办、丧事简办,抵制高价彩礼。"),
    ("孝老敬老志愿服务队", TeamCategory.ELDERLY, "关爱空巢、孤寡老人,上门探访、代购代办、陪伴聊天。"),
]
# The "n": optional teams; `unit` marks where most members come from.
OPTIONAL_TEAMS = [
    ("文明交通志愿服务队", TeamCategory.TRAFFIC, SCHOOL, "在荷花路与马王堆路口开展文明交通劝导。"),
    ("医疗健康志愿服务队", TeamCategory.HEALTH, HOSPITAL, "县人民医院医护人员:义诊、健康讲座、急救培训。"),
    ("法律服务志愿服务队", TeamCategory.LEGAL, None, "法律咨询、矛盾调解、普法宣传。"),
]
NEIGHBORHOOD_TEAM = "长安社区邻里守望志愿服务队"  # led by the "leader" demo account
ELDERLY_GROUP = "长安社区助老小组"

# Skills people put on the registration form.
SKILLS = [
    "医疗护理",
    "法律咨询",
    "文艺表演",
    "理论宣讲",
    "心理疏导",
    "家电维修",
    "驾驶",
    "摄影",
    "电脑",
    "书法",
    "急救",
    "手语",
    "烹饪",
    "理发",
    "农业技术",
    "水电维修",
    "外语",
    "辅导作业",
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤易文柳"
)
SURNAMES = [*SURNAMES, "欧阳", "司马", "诸葛"]
MALE_GIVEN = (  # noqa: SIM905
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 凯 健 俊 帆 旭 "
    "宁 龙 林 峰 建华 国庆 文博 浩然 宇航 俊杰 志明 建国 卫东 海涛 永刚 立新 天宇 明轩 "
    "思远 子豪 家豪 建军 志刚 德明 振华 国强 春生 长青 云飞 晓东 文杰 泽宇 一鸣 嘉诚 博文 "
    "宏伟 少华 光明 金龙 玉柱 铁军 红军 庆丰"
).split()
FEMALE_GIVEN = (  # noqa: SIM905
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 雪 慧 颖 琳 洁 倩 欣 悦 瑶 萍 红 梅 兰 桂英 "
    "秀英 美玲 晓燕 丽华 欣怡 雨涵 梓萱 诗涵 佳怡 婉清 梦瑶 思琪 雅静 春梅 秀兰 玉兰 桂芳 "
    "海燕 晓丽 淑珍 凤英 雪梅 丹丹 婷婷 莉莉 子涵 一诺 可欣 心怡 语桐 若曦 嘉欣 文静 慧敏"
).split()
STUDENT_MALE_GIVEN = (  # noqa: SIM905
    "子轩 浩宇 宇轩 梓豪 俊熙 皓轩 睿 博 泽 奕辰 浩然 子墨 宸 一鸣 思源"
).split()
STUDENT_FEMALE_GIVEN = (  # noqa: SIM905
    "梓涵 欣怡 诗琪 雨桐 可馨 语嫣 子涵 梦琪 一诺 芷若 思彤 晨曦 佳琪 安琪 若汐"
).split()

STREETS = ["长安路", "荷花路", "马王堆路", "文昌街", "南门街", "东关街", "西街", "解放路", "人民路"]
VILLAGE_GROUPS = ["一组", "二组", "三组", "四组", "五组", "六组"]

REJECTION_REASONS = [
    "所留手机号码无法接通,请核实后重新提交。",
    "居住地不在本站服务范围,请向居住地所在的文明实践站申请。",
    "姓名与身份证件信息不一致,请核对后重新提交。",
]
JOIN_MESSAGES = [
    "我住在附近,周末有时间,希望加入。",
    "退休在家,愿意为大家服务。",
    "会开车,可以帮忙接送老人。",
    "想和邻居们一起做点事。",
]

# One demo account per role of DESIGN §1 (resident needs no account).
# (user name, role, where: "center" | "subcenter" | "station", display name, phone, has a volunteer profile)
ACCOUNTS = [
    ("admin", Role.PLATFORM_ADMIN, "center", "平台管理员", "13800000001", False),
    ("center", Role.ORG_ADMIN, "center", "钱志远", "13800000002", False),
    ("changan", Role.ORG_ADMIN, "subcenter", "柴志慧", "13800000003", False),
    ("station", Role.ORG_ADMIN, "station", "李建华", "13800000004", True),
    ("staff", Role.ORG_STAFF, "station", "杨雪", "13800000005", False),
    ("leader", Role.TEAM_LEADER, "station", "刘建军", "13800000006", True),
    ("volunteer", Role.VOLUNTEER, "station", "陈思远", "13800000007", True),
    ("care", Role.CARE_WORKER, "station", "吴秀兰", "13800000008", False),
    ("assessor", Role.ASSESSOR, "subcenter", "蒋文斌", "13800000009", False),
    ("recorder", Role.RECORDER, "station", "高晓东", "13800000010", False),
]
