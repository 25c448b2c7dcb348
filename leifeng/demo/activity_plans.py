"""What the demo activities are about: the county's March 5 plan, the school's traffic week, the station's patrols.

The texts and figures of the seeds' plans (篇十四 of the county, 篇五 of the school), kept apart from the code
that builds them (leifeng.demo.seed_activities) so each file reads on its own.
"""

from datetime import time

from leifeng.activities.models import ActivityCategory as Cat
from leifeng.orgs.models import LeadingGroupRole, UnitKind

# ---- the county's March 5 plan (seeds 002, 篇十四) ----------------------------------------------------
CAMPAIGN_TITLE = "{year}年“学雷锋纪念日”志愿服务活动"
CAMPAIGN_THEME = "争做“活雷锋”、争创新业绩"
CAMPAIGN_GUIDANCE = (
    "为开展好纪念活动,在全县范围内掀起“向雷锋同志学习”的新高潮,团结带领全县人民传承雷锋精神,"
    "勇担社会责任,争创新的业绩。3月5日全天在县城城区组建10支志愿者小分队,每个小分队设队长1名,"
    "各小分队队员在队长的带领下到指定区域或地点开展“学雷锋”活动。"
)
CAMPAIGN_REQUIREMENTS = (
    "各牵头单位要大力宣传,广泛动员,负责好各自小分队队员的募集、工作安排及安全管理。"
    "在广场开展义诊和科普活动的人员不得随意离开服务岗位,要克服困难完成全天志愿服务工作。"
    "活动结束后各小分队将开展活动的情况形成书面材料报团县委办公室,并交还队旗、小红帽、绶带。"
)
DAY_PHASES = "第一阶段(8:30—9:20)集中出发;第二阶段(9:20—17:30)分赴指定区域开展服务。"
LEADING_GROUP = "“学雷锋纪念日”活动筹备领导小组"
LEADING_GROUP_MEMBERS = [  # fictitious names; the titles are the plan's
    (LeadingGroupRole.LEADER, "邓振华", "县委副书记"),
    (LeadingGroupRole.DEPUTY, "孙丽华", "县委常委、宣传部部长"),
    (LeadingGroupRole.MEMBER, "唐晓军", "团县委书记"),
    (LeadingGroupRole.MEMBER, "彭秀芝", "县妇联主席"),
    (LeadingGroupRole.MEMBER, "郭晓燕", "县新时代文明实践中心办公室"),
]
# 牵头单位 missing from the county demo: (name, kind, address)
LEAD_UNITS = [
    ("县城管局", UnitKind.AGENCY, "县城解放路20号"),
    ("县卫生局", UnitKind.AGENCY, "县城人民路66号"),
    ("团县委", UnitKind.SOCIAL, "县城文化路1号县委大院"),
    ("县公安局交警大队", UnitKind.AGENCY, "县城北环路18号"),
    ("县委办公室", UnitKind.AGENCY, "县城文化路1号县委大院"),
    ("县残联", UnitKind.SOCIAL, "县城人民路30号"),
    ("县民政局", UnitKind.AGENCY, "县城滨河路8号"),
    ("珠山镇党委", UnitKind.AGENCY, "珠山镇人民路1号"),
    ("县妇联", UnitKind.SOCIAL, "县城文化路1号县委大院"),
    ("县科协", UnitKind.SOCIAL, "县城人民路45号"),
]
SQUAD_DAY = (time(8, 30), time(17, 30))
# (title, lead unit, category, place, what they do, [(post, quota)], pool, minors)
SQUADS = [
    (
        "城市美容师小分队",
        "县城管局",
        Cat.ENVIRONMENT,
        "县城城区(全城范围)",
        "在全城范围内清除城市牛皮癣,倡导环保意识,为文明城市创建工作贡献力量。相关工具由县城管局提供。",
        [("清除牛皮癣", 20)],
        "adults",
        False,
    ),
    (
        "“白衣天使”小分队",
        "县卫生局",
        Cat.HEALTH,
        "县城人民广场",
        "由县人民医院抽调4名以上业务精湛的医生携基本医疗器械在广场为人民群众义诊,条件允许的情况下可赠送部分药品。",
        [("广场义诊", 10)],
        "medics",
        False,
    ),
    (
        "拥军优属小分队",
        "团县委",
        Cat.OTHER,
        "武警某县中队营区(县城北环路1号)",
        "看望慰问驻地武警官兵及随军家属,并开展联谊活动。归口团县委管理的“三支一扶”大学生志愿者参与本小分队。",
        [("慰问联谊", 18), ("“三支一扶”大学生志愿者", 16)],
        "young",
        False,
    ),
    (
        "文明交通小分队",
        "县公安局交警大队",
        Cat.TRAFFIC,
        "县城城区各主要路口",
        "在城区各主要路口,由一名交警或一名城管执法队员携两名志愿者,对超速驾驶、违章调头、违章停车、"
        "乱鸣笛、不礼让行人等不文明行为进行劝导,倡导安全文明出行。",
        [("路口文明劝导", 15)],
        "teachers",
        False,
    ),
    (
        "生命之光小分队",
        "县委办公室",
        Cat.HEALTH,
        "县城人民广场(献血车)",
        "在广场开展无偿献血活动,献血车由县卫生局负责联系,于3月5日上午8:30以前进驻广场。",
        [("无偿献血服务", 40)],
        "adults",
        False,
    ),
    (
        "温馨助残小分队",
        "县残联",
        Cat.DISABILITY,
        "县特殊教育学校",
        "学习部分手语,与残障青少年交心。由特殊教育学校老师教授手语,然后在该学校就地开展活动。"
        "本分队志愿者由中学择优选派青年学生,并选派好带队老师。",
        [("手语交流", 10)],
        "students",
        True,
    ),
    (
        "孝老爱亲小分队",
        "县民政局",
        Cat.ELDERLY,
        "县社会福利院",
        "到县福利院开展送温暖活动,陪护鳏寡孤独老人。由县民政局筹集相关慰问物资。",
        [("福利院陪护", 10)],
        "adults",
        False,
    ),
    (
        "社区服务队",
        "珠山镇党委",
        Cat.NEIGHBORHOOD,
        "县城各社区",
        "组织电力抢修、管道疏通等志愿者进驻各社区开展志愿服务工作。",
        [("社区便民服务", 20)],
        "repairs",
        False,
    ),
    (
        "“爱心妈妈”小分队",
        "县妇联",
        Cat.EDUCATION,
        "县城城区各中小学",
        "由县妇联组织巾帼志愿者到城区各中小学开展与留守儿童结对联谊活动。",
        [("留守儿童结对联谊", 20)],
        "women",
        False,
    ),
    (
        "科普小分队",
        "县科协",
        Cat.SCIENCE,
        "县城人民广场",
        "疾控中心开展重大传染性疾病防控知识科普;食品药品监管部门开展食品药品安全科普;水利水产部门开展"
        "安全饮水等科普。县科协负责本分队组织协调工作。",
        [("科普宣传", 20)],
        "adults",
        False,
    ),
]
REPORTS = {
    "生命之光小分队": "40名志愿者在人民广场协助献血车完成登记、引导、献血后观察等工作,当天共有百余名群众参与无偿献血。",
    "城市美容师小分队": "志愿者分四组清理城区主要街道小广告,配合城管局清除牛皮癣,向沿街商户发放文明城市创建倡议书。",
    "“白衣天使”小分队": "县人民医院医生护士在广场义诊,为群众测量血压血糖、提供健康咨询并赠送常用药品。",
}

# ---- the school's civilized-traffic week (seeds 004, 篇五) --------------------------------------------
TRAFFIC_TITLE = "长郡蓉芙中学“文明劝导”实践活动周"
TRAFFIC_PLACE = "荷花路与马王堆路口、长郡蓉芙中学校门外东路段100米、马王堆路口超市处"
TRAFFIC_DESCRIPTION = (
    "安全出行,文明礼让。每天上午7:30—9:30,学生以五人小组为单位:在马王堆路口超市设立文明宣讲台,"
    "以快板、文明歌、小品等形式宣讲文明知识,书写文明提示语并发放手写宣传单;在荷花路与马王堆路口"
    "向行人进行安全文明劝导;在校门外100米路段进行卫生劝导及保洁。"
)
TRAFFIC_SUPPLIES = "学校校旗\n活动标语\n文明劝导标识\n一次性手套、火钳\n口罩\n纸、笔、墨"
TRAFFIC_SAFETY = (
    "学生参加活动要注意路途安全,活动结束后马上回家,不要在外逗留。分小组活动,参与交通安全文明劝导的学生"
    "要站在安全岛上,不要与被劝导人员发生争执。卫生劝导学生要备好口罩、手套,注意来往车辆。"
)
TRAFFIC_HOURS = (time(7, 30), time(9, 30))
TRAFFIC_DAYS = 6  # three days before today, today and two days after
TRAFFIC_QUOTA = 10  # two groups of five a day

# ---- the demo station ---------------------------------------------------------------------------------
PATROL_TITLE = "邻里守望·周六平安巡访"
PATROL_HOURS = (time(8, 30), time(16, 30))
PATROL_EVERY = 2  # weeks: every other Saturday, a full day of visits
PATROL_PAST = 13  # days already served (8 h each): the `volunteer` account passes 100 h (一星)
PATROL_COMING = 2
RISKY_TITLE = "滨河路沿岸净滩护河行动"
DRAFT_TITLE = "迎新春·写春联送万福"
