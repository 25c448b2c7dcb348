"""Demo activities on top of the county demo (called by leifeng.demo.seed.seed_demo inside its transaction).

What it builds, every step through the services of activities, attendance and hours (so each row has
its audit trail and passes the same rules as a real one), with the clock of each step passed as `now=`:

* the county's “学雷锋纪念日” campaign (plan 篇十四 of the seeds): the ten squads on the most recent
  past March 5, each an activity of the center with its lead unit, place, posts and quotas; sign-ups by
  staff, groups, kiosk scans and roll calls, a few forgotten check-outs closed automatically, a few
  no-shows, a back-filled claim approved, a correction answered (reversal + new entry), reports;
* the 长郡蓉芙中学 civilized-traffic week (plan 篇五 of the school): one post a day 7:30–9:30, groups of
  five from classes 1001–1010 with a student 小组长, half of the week past (with hours), half to come
  with open places;
* the 长安社区 neighbourhood watch's Saturday patrols, led by the `leader` account, which give the
  `volunteer` account more than 100 verified hours (一星) and two shifts to come;
* an upcoming risky activity with its insurance, a draft, and the `volunteer` account's certificates
  (one issued by the station, one waiting in the center's queue).
"""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.activities import services as acts
from leifeng.activities.models import ActivityCategory as Cat
from leifeng.activities.models import Post, Signup, SignupStatus, Visibility
from leifeng.attendance import services as attendance
from leifeng.attendance.models import RollMark
from leifeng.demo import activity_plans as P
from leifeng.demo import content as C
from leifeng.hours import certificates
from leifeng.hours import services as hours
from leifeng.hours.models import Certificate, ServiceRecord
from leifeng.orgs import services as org_services
from leifeng.people.models import Skill, Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, TeamMembership

SEED = 305  # 3月5日


def _at(day: date, t: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, t))


def last_march_5(today: date) -> date:
    """The most recent March 5 strictly before `today`."""
    this_year = date(today.year, 3, 5)
    return this_year if this_year < today else date(today.year - 1, 3, 5)


class _Seeder:
    def __init__(self, demo, today: date, now: datetime):
        self.demo = demo
        self.today = today
        self.now = now
        self.rng = random.Random(SEED)
        self.u = demo.users
        self.by_volunteer = {p.volunteer.pk: p for p in demo.people}
        # The team each person is assigned through (leaders assign members of a team they see).
        self.team_of: dict[int, int] = {}
        rows = TeamMembership.objects.filter(status=MembershipStatus.ACTIVE).order_by("team_id")
        for vid, tid in rows.values_list("volunteer_id", "team_id"):
            self.team_of.setdefault(vid, tid)
        self.counts = defaultdict(int)

    # ---- helpers --------------------------------------------------------------------------------
    def assign(self, actor, post: Post, people, now: datetime, team_id: int | None = None) -> None:
        """Sign people up the way a leader or staff member does (signup_assign_many), team by team."""
        by_team: dict[int, list[str]] = defaultdict(list)
        for p in people:
            by_team[team_id or self.team_of[p.volunteer.pk]].append(p.volunteer.number)
        for tid, numbers in by_team.items():
            results = acts.signup_assign_many(actor=actor, post=post.pk, team_id=tid, numbers=numbers, now=now)
            refused = [f"{r.volunteer.name}: {r.reason}" for r in results if r.signup is None]
            assert not refused, refused  # the demo picks only people who may serve

    def give_accounts(self, people) -> None:
        """Accounts for volunteers who scan the kiosk code with their phone.

        seed.py gives accounts only to self-registrations; there is no service that opens an account for
        a volunteer registered by staff (user_create makes staff accounts, one argon2 hash each), so these
        are built as seed.py builds its own: user name = volunteer number, no usable password (they log
        in by SMS code), a VOLUNTEER role at their station.
        """
        User = get_user_model()
        fresh = [p for p in people if p.volunteer.user_id is None]
        users = []
        for p in fresh:
            user = User(username=p.volunteer.number, phone=p.phone, display_name=p.name)
            user.set_unusable_password()
            users.append(user)
        User.objects.bulk_create(users)
        ids = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "id"))
        for p, user in zip(fresh, users, strict=True):
            user.pk = ids[user.username]
            p.user = user
            p.volunteer.user = user
        RoleAssignment.objects.bulk_create(RoleAssignment(user=p.user, role=Role.VOLUNTEER, org=p.org) for p in fresh)
        Volunteer.objects.bulk_update([p.volunteer for p in fresh], ["user"])

    def scan(self, activity, person, when: datetime, tag: str):
        """One scan of the kiosk's rotating QR code by the volunteer's phone, at `when`."""
        token = attendance.kiosk_token(activity, now=when)
        key = f"demo:{activity.pk}:{person.volunteer.pk}:{when.timestamp():.0f}:{tag}"
        return attendance.check(actor=person.user, token=token, key=key, now=when)

    def confirmed(self, post: Post) -> list:
        ids = Signup.objects.filter(post=post, status=SignupStatus.CONFIRMED).order_by("created_at", "pk")
        return [self.by_volunteer[v] for v in ids.values_list("volunteer_id", flat=True)]

    # ---- March 5 --------------------------------------------------------------------------------
    def pools(self) -> dict[str, list]:
        d = self.demo
        hospital, water = d.units[C.HOSPITAL], d.units[C.WATER_BUREAU]
        reserved = {d.users["volunteer"].pk, d.users["leader"].pk, d.users["station"].pk}
        ok = [
            p
            for p in d.people
            if p.status == VolunteerStatus.APPROVED
            and p.volunteer.pk in self.team_of
            and (p.user is None or p.user.pk not in reserved)
        ]
        ok = self.rng.sample(ok, len(ok))
        adults = [p for p in ok if p.kind != "student"]

        def age(p) -> int:
            return self.today.year - p.birth.year

        return {
            "medics": [p for p in adults if p.unit and p.unit.pk == hospital.pk],
            "students": [p for p in ok if p.kind == "student"],
            "teachers": [p for p in adults if p.kind == "teacher"],
            "repairs": [p for p in adults if p.unit and p.unit.pk == water.pk],
            "women": [p for p in adults if p.gender == "f" and 25 <= age(p) <= 55],
            "young": [p for p in adults if age(p) <= 35],
            "adults": adults,
        }

    def march_5(self) -> None:
        d, rng = self.demo, self.rng
        center_user, day = self.u["center"], last_march_5(self.today)
        self.m5 = day
        group = org_services.leading_group_create(actor=center_user, org=d.center, name=P.LEADING_GROUP)
        for role, name, job in P.LEADING_GROUP_MEMBERS:
            org_services.leading_group_member_add(
                actor=center_user, group=group, role=role, person_name=name, job_title=job
            )
        units = {}
        for name, kind, address in P.LEAD_UNITS:
            units[name] = org_services.unit_create(
                actor=center_user,
                org=d.center,
                name=name,
                kind=kind,
                address=address,
                contact_name="",
                contact_phone="",
                credit_code="",
            )
        start = day - timedelta(days=12)
        end = max(date(day.year, 3, 31), day + timedelta(days=1))
        camp = acts.campaign_create(
            actor=center_user,
            data=acts.CampaignInput(
                org_id=d.center.pk,
                title=P.CAMPAIGN_TITLE.format(year=day.year),
                theme=P.CAMPAIGN_THEME,
                starts_on=start,
                ends_on=end,
                guidance=P.CAMPAIGN_GUIDANCE,
                requirements=P.CAMPAIGN_REQUIREMENTS,
                leading_group_id=group.pk,
                unit_ids=[u.pk for u in units.values()] + [d.units[C.HOSPITAL].pk, d.units[C.ARMY].pk],
            ),
            phases=[
                acts.PhaseInput("宣传启动", start, day - timedelta(days=1), "各牵头单位宣传动员,募集小分队队员。"),
                acts.PhaseInput("组织实施", day, day, P.DAY_PHASES),
                acts.PhaseInput("总结表彰", day + timedelta(days=1), end, "各小分队报送活动情况,评选表彰。"),
            ],
        )
        self.campaign = camp
        self.counts["campaigns"] += 1
        first_aid = Skill.objects.filter(name="急救").values_list("pk", flat=True).first()
        pools = self.pools()
        used: set[int] = set()

        def take(pool: str, n: int) -> list:
            # Drawn team by team (a lead unit recruits through a few teams), which also keeps the
            # number of signup_assign_many calls, one per team, small.
            def free(name: str) -> list:
                return sorted(
                    (p for p in pools[name] if p.volunteer.pk not in used), key=lambda p: self.team_of[p.volunteer.pk]
                )

            out = free(pool)[:n]
            if len(out) < n:  # topped up from everyone else
                out += [p for p in free("adults") if p not in out][: n - len(out)]
            used.update(p.volunteer.pk for p in out)
            return out

        vol_person = next(p for p in d.people if p.user is not None and p.user.pk == self.u["volunteer"].pk)
        leader_person = next(p for p in d.people if p.user is not None and p.user.pk == self.u["leader"].pk)
        self.vol_person, self.leader_person = vol_person, leader_person
        published = _at(day - timedelta(days=14), time(10, 0))
        s, e = (_at(day, t) for t in P.SQUAD_DAY)
        self.squads = {}
        for i, (title, unit, cat, place, what, posts, pool, minors) in enumerate(P.SQUADS):
            a = acts.activity_create(
                actor=center_user,
                org_id=d.center.pk,
                campaign_id=camp.pk,
                title=title,
                category=cat,
                description=f"{what}\n{P.DAY_PHASES}",
                lead_unit_id=units[unit].pk,
                address=place,
                minors_allowed=minors,
                contact_name="郭晓燕",
                contact_phone="0731-84012345",
                signup_opens_at=published,
                signup_closes_at=_at(day - timedelta(days=2), time(18, 0)),
                withdraw_deadline=_at(day - timedelta(days=2), time(18, 0)),
                supplies="志愿者队旗\n小红帽\n绶带",
                safety_notes="队长负责统计本小队志愿者开展活动的基本情况并照顾队员安全;突发事故及时报告。",
            )
            self.counts["activities"] += 1
            post_rows = [
                acts.post_create(
                    actor=center_user,
                    activity_id=a.pk,
                    title=pt,
                    starts_at=s,
                    ends_at=e,
                    quota=quota,
                    skill_ids=[first_aid] if pool == "medics" and first_aid else None,
                )
                for pt, quota in posts
            ]
            acts.activity_publish(actor=center_user, activity_id=a.pk, now=published)
            for j, post in enumerate(post_rows):
                # Lead units fill their squads; some stay a place or two short, the blood drive has a waitlist.
                n = post.quota - (1 if i in (3, 8) else 0) + (2 if title == "生命之光小分队" else 0)
                people = take(pool if j == 0 else "young", n)
                if title == "生命之光小分队":
                    people = [vol_person, *people[:-1]]
                if title == "社区服务队":
                    people = [leader_person, *people[:-1]]
                self.assign(center_user, post, people, now=published + timedelta(days=2 + i % 5, hours=j))
                acts.groups_build(actor=center_user, post_id=post.pk)
            self.squads[title] = (a, post_rows)

        # Accounts for about half of the adults: they scan the kiosk; the others are marked at roll call.
        scanners = [p for p in self.all_confirmed() if p.kind != "student" and p.user is None and rng.random() < 0.55]
        self.give_accounts(scanners)
        for title, (a, post_rows) in self.squads.items():
            acts.activity_start(actor=center_user, activity_id=a.pk)
            for post in post_rows:
                self.attend_squad(a, post, title)

    def all_confirmed(self) -> list:
        posts = [p for _a, rows in self.squads.values() for p in rows]
        out = []
        for post in posts:
            out += self.confirmed(post)
        return out

    def attend_squad(self, a, post: Post, title: str) -> None:
        rng, center_user = self.rng, self.u["center"]
        s, e = post.starts_at, post.ends_at
        forgot = 0
        people = self.confirmed(post)
        for k, p in enumerate(people):
            if p is self.leader_person:
                continue  # his phone was flat: no scan, a no-show on the sheet; he back-fills later
            if p is self.vol_person:
                self.scan(a, p, s - timedelta(minutes=6), "in")
                self.scan(a, p, _at(self.m5, time(12, 2)), "out")  # a mistaken scan at lunch: corrected later
                continue
            if k == len(people) - 1 and title != "生命之光小分队":
                continue  # never came: marked a no-show when attendance closes
            if p.user is not None:
                self.scan(a, p, s - timedelta(minutes=rng.randint(-12, 25)), "in")
                if forgot == 0 and k % 7 == 3:
                    forgot += 1  # forgot to scan out: closed automatically at the post's end, flagged
                    continue
                self.scan(a, p, e + timedelta(minutes=rng.randint(0, 15)), "out")
            elif k % 9 == 5:
                at = s + timedelta(minutes=rng.randint(20, 70))
                attendance.roll_call_mark(
                    actor=center_user, post_id=post.pk, volunteer_id=p.volunteer.pk, mark=RollMark.LATE, at=at, now=at
                )
            elif k % 13 == 6:
                attendance.roll_call_mark(
                    actor=center_user, post_id=post.pk, volunteer_id=p.volunteer.pk, mark=RollMark.ABSENT, now=s
                )
            else:  # the squad leader counts heads at the end
                attendance.roll_call_mark(
                    actor=center_user,
                    post_id=post.pk,
                    volunteer_id=p.volunteer.pk,
                    mark=RollMark.PRESENT,
                    now=e + timedelta(minutes=5),
                )

    def after_march_5(self) -> None:
        center_user, day = self.u["center"], self.m5
        # The leader's back-fill: entered by himself, approved by the center (four eyes).
        _a, (post,) = self.squads["社区服务队"]
        claim = hours.claim_create(
            actor=self.u["leader"],
            post_id=post.pk,
            started_at=_at(day, time(9, 0)),
            ended_at=_at(day, time(17, 30)),
            note="当天手机没电未能扫码签到,9点到岗至活动结束,队长可以证明。",
        )
        hours.claim_decide(
            actor=center_user,
            claim_id=claim.pk,
            approve=True,
            note="经队长核实",
            now=_at(day + timedelta(days=3), time(10)),
        )
        # The volunteer's mistaken lunch-time check-out: he asks, the organizer corrects.
        a, (post,) = self.squads["生命之光小分队"]
        record = ServiceRecord.objects.get(post=post, volunteer=self.vol_person.volunteer, reverses=None)
        minutes = int((post.ends_at - post.starts_at).total_seconds() // 60)
        req = hours.correction_request(
            actor=self.u["volunteer"],
            record_id=record.pk,
            minutes=minutes,
            reason="中午去献血车帮忙时误扫了签退码,下午一直在岗到17:30,队长可以证明。",
        )
        hours.correction_answer(
            actor=center_user,
            request_id=req.pk,
            accept=True,
            answer="经小分队队长核实,情况属实,按全天更正。",
            now=_at(day + timedelta(days=2), time(15)),
        )
        for title, (a, _posts) in self.squads.items():
            acts.activity_finish(actor=center_user, activity_id=a.pk)
            if title in P.REPORTS:
                acts.report_file(actor=center_user, activity_id=a.pk, summary=P.REPORTS[title])

    # ---- the school's traffic week --------------------------------------------------------------
    def traffic_week(self) -> None:
        d, now = self.demo, self.now
        actor = self.u["changan"]
        school = d.units[C.SCHOOL]
        days = [self.today + timedelta(days=k) for k in range(-3, P.TRAFFIC_DAYS - 3)]
        published = _at(days[0] - timedelta(days=10), time(16, 0))
        a = acts.activity_create(
            actor=actor,
            org_id=d.subcenter.pk,
            title=P.TRAFFIC_TITLE,
            category=Cat.TRAFFIC,
            description=P.TRAFFIC_DESCRIPTION,
            lead_unit_id=school.pk,
            address=P.TRAFFIC_PLACE,
            minors_allowed=True,
            group_size=5,
            supplies=P.TRAFFIC_SUPPLIES,
            safety_notes=P.TRAFFIC_SAFETY,
            contact_name=school.contact_name,
            contact_phone=school.contact_phone,
            signup_opens_at=published,
        )
        self.counts["activities"] += 1
        posts = [
            acts.post_create(
                actor=actor,
                activity_id=a.pk,
                title=f"第{n}天 文明劝导",
                description="两个五人小组:宣讲台、路口劝导、校门外保洁轮换。",
                starts_at=_at(day, P.TRAFFIC_HOURS[0]),
                ends_at=_at(day, P.TRAFFIC_HOURS[1]),
                quota=P.TRAFFIC_QUOTA,
            )
            for n, day in enumerate(days, start=1)
        ]
        acts.activity_publish(actor=actor, activity_id=a.pk, now=published)
        groups = {t.name.removesuffix("文明劝导小组"): t for t in d.teams.values() if t.name.endswith("文明劝导小组")}
        classes = sorted(groups)
        members = defaultdict(list)
        for vid, tid in TeamMembership.objects.filter(
            team__in=groups.values(), status=MembershipStatus.ACTIVE
        ).values_list("volunteer_id", "team_id"):
            members[tid].append(self.by_volunteer[vid])
        for k, post in enumerate(posts):
            pair = [groups[classes[(2 * k) % 10]], groups[classes[(2 * k + 1) % 10]]]
            coming = post.starts_at > now
            if coming:
                pair = pair[:1]  # one class signed up so far: five places open
            when = min(now, post.starts_at - timedelta(days=5))
            for team in pair:
                self.assign(actor, post, sorted(members[team.pk], key=lambda p: p.volunteer.pk), when, team.pk)
            for g, team in zip(acts.groups_build(actor=actor, post_id=post.pk), pair, strict=False):
                if team.leader_id and g.members.filter(volunteer_id=team.leader_id).exists():
                    acts.group_set_leader(actor=actor, group_id=g.pk, volunteer_id=team.leader_id)
        if posts[0].starts_at <= now:
            acts.activity_start(actor=actor, activity_id=a.pk)
        for k, post in enumerate(posts):
            if post.ends_at > now:
                continue
            for j, p in enumerate(self.confirmed(post)):
                if j == 7 and k == 1:
                    mark, at, when = RollMark.ABSENT, None, post.starts_at + timedelta(minutes=10)
                elif j == 3:
                    at = post.starts_at + timedelta(minutes=15 + k)
                    mark, when = RollMark.LATE, at
                else:
                    mark, at, when = RollMark.PRESENT, None, post.ends_at + timedelta(minutes=2)
                attendance.roll_call_mark(
                    actor=actor, post_id=post.pk, volunteer_id=p.volunteer.pk, mark=mark, at=at, now=when
                )
        self.traffic = a

    # ---- the demo station: Saturday patrols, a risky activity, a draft -------------------------
    def patrols(self) -> None:
        d, now, rng = self.demo, self.now, self.rng
        station, leader = self.u["station"], self.u["leader"]
        watch = d.teams[C.NEIGHBORHOOD_TEAM]
        last_sat = self.today - timedelta(days=(self.today.weekday() - 5) % 7 or 7)
        days = [last_sat - timedelta(weeks=P.PATROL_EVERY * k) for k in range(P.PATROL_PAST - 1, -1, -1)]
        days += [last_sat + timedelta(weeks=P.PATROL_EVERY * k) for k in range(1, P.PATROL_COMING + 1)]
        days = [day for day in days if day != self.m5]  # that Saturday they served in the March 5 squads
        published = _at(days[0] - timedelta(days=10), time(9, 0))
        a = acts.activity_create(
            actor=station,
            org_id=d.stations[C.DEMO_STATION].pk,
            title=P.PATROL_TITLE,
            category=Cat.NEIGHBORHOOD,
            description="隔周周六分片巡访辖区空巢、独居老人,排查楼道消防隐患,调解邻里纠纷,午间在党群服务中心集中便民服务。",
            address="长安社区党群服务中心(集合)",
            visibility=Visibility.TEAMS,
            contact_name=d.users["leader"].display_name,
            contact_phone=d.users["leader"].phone,
            supplies="红马甲\n巡访登记表\n手电筒",
            team_ids=[watch.pk],
        )
        self.counts["activities"] += 1
        posts = [
            acts.post_create(
                actor=station,
                activity_id=a.pk,
                title=f"{day.month}月{day.day}日巡访",
                starts_at=_at(day, P.PATROL_HOURS[0]),
                ends_at=_at(day, P.PATROL_HOURS[1]),
                quota=10,
            )
            for day in days
        ]
        acts.activity_publish(actor=station, activity_id=a.pk, now=published)
        members = sorted(
            (
                self.by_volunteer[v]
                for v in watch.memberships.filter(status=MembershipStatus.ACTIVE).values_list("volunteer_id", flat=True)
            ),
            key=lambda p: p.volunteer.pk,
        )
        scanners = [p for p in members if p.user is not None]  # the leader and the volunteer
        others = [p for p in members if p.user is None]
        for k, post in enumerate(posts):  # the leader signs members up a few days ahead: three by turns
            crew = scanners + (
                others if post.starts_at > now else [others[(3 * k + i) % len(others)] for i in range(3)]
            )
            self.assign(leader, post, crew, min(now, post.starts_at - timedelta(days=3)), watch.pk)
        acts.activity_start(actor=station, activity_id=a.pk)
        for post in posts:
            if post.ends_at > now:
                continue
            s, e = post.starts_at, post.ends_at
            for j, p in enumerate(self.confirmed(post)):
                if p.user is not None:  # the leader and the volunteer scan in and out
                    self.scan(a, p, s - timedelta(minutes=rng.randint(0, 12)), "in")
                    self.scan(a, p, e + timedelta(minutes=rng.randint(0, 10)), "out")
                elif rng.random() < 0.1:
                    attendance.roll_call_mark(
                        actor=leader, post_id=post.pk, volunteer_id=p.volunteer.pk, mark=RollMark.ABSENT, now=s
                    )
                else:
                    attendance.roll_call_mark(
                        actor=leader,
                        post_id=post.pk,
                        volunteer_id=p.volunteer.pk,
                        mark=RollMark.PRESENT,
                        now=e + timedelta(minutes=j),
                    )
        self.patrol, self.patrol_days = a, days

    def risky_and_draft(self) -> None:
        d, now = self.demo, self.now
        changan, station = self.u["changan"], self.u["station"]
        sunday = self.today + timedelta(days=(6 - self.today.weekday()) % 7 or 7)
        a = acts.activity_create(
            actor=changan,
            org_id=d.subcenter.pk,
            title=P.RISKY_TITLE,
            category=Cat.ENVIRONMENT,
            description="沿滨河路河岸清理垃圾、打捞漂浮物,劝导市民文明游河,排查防汛安全隐患。",
            lead_unit_id=d.units[C.WATER_BUREAU].pk,
            address="县城滨河路水务局门前河岸(集合)",
            risky=True,
            supplies="救生衣\n长柄网兜\n垃圾袋\n防滑手套",
            safety_notes="临水作业必须穿戴救生衣,不得单独下河;未成年人不参加;水务局安排专人现场安全监护。",
            contact_name=d.units[C.WATER_BUREAU].contact_name,
            contact_phone=d.units[C.WATER_BUREAU].contact_phone,
            signup_opens_at=now - timedelta(days=2),
            signup_closes_at=_at(sunday - timedelta(days=1), time(18, 0)),
            withdraw_deadline=_at(sunday - timedelta(days=1), time(12, 0)),
        )
        self.counts["activities"] += 1
        post = acts.post_create(
            actor=changan,
            activity_id=a.pk,
            title="河岸净滩",
            starts_at=_at(sunday, time(8, 30)),
            ends_at=_at(sunday, time(11, 30)),
            quota=30,
        )
        acts.activity_add_insurance(
            actor=changan,
            activity_id=a.pk,
            insurer="中国人民财产保险股份有限公司某县支公司",
            policy_number=f"PEAC{sunday:%Y%m%d}430121000{a.pk:03d}",
            covers_from=sunday,
            covers_to=sunday,
            insured_count=30,
        )
        acts.activity_publish(actor=changan, activity_id=a.pk, now=now - timedelta(days=2))
        water = [p for p in d.people if p.unit and p.unit.pk == d.units[C.WATER_BUREAU].pk]
        self.assign(changan, post, water, now - timedelta(days=1))
        acts.signup_create(actor=self.u["volunteer"], post=post.pk, now=now - timedelta(hours=20))

        draft = acts.activity_create(
            actor=station,
            org_id=d.stations[C.DEMO_STATION].pk,
            title=P.DRAFT_TITLE,
            category=Cat.CULTURE_FOR_ALL,
            description="书法志愿者现场书写春联、福字,免费赠送辖区居民。",
            address="长安社区党群服务中心广场",
        )
        self.counts["activities"] += 1
        day = self.today + timedelta(days=35)
        calligraphy = Skill.objects.filter(name="书法").values_list("pk", flat=True).first()
        acts.post_create(
            actor=station,
            activity_id=draft.pk,
            title="书写春联",
            starts_at=_at(day, time(9, 0)),
            ends_at=_at(day, time(11, 30)),
            quota=12,
            skill_ids=[calligraphy] if calligraphy else None,
        )

    # ---- certificates ---------------------------------------------------------------------------
    def certificates(self) -> None:
        volunteer_user = self.u["volunteer"]
        station = self.demo.stations[C.DEMO_STATION]
        cert = certificates.certificate_request(
            actor=volunteer_user,
            org_id=station.pk,
            period_from=self.patrol_days[0],
            period_to=self.today - timedelta(days=1),
            today=self.today,
        )
        certificates.certificate_issue(actor=self.u["station"], certificate_id=cert.pk, now=self.now)
        certificates.certificate_request(
            actor=volunteer_user,
            org_id=self.demo.center.pk,
            period_from=date(self.m5.year, 3, 1),
            period_to=min(date(self.m5.year, 3, 31), self.today),
            today=self.today,
        )

    def run(self) -> dict[str, int]:
        self.march_5()
        self.traffic_week()
        self.patrols()
        attendance.close_attendance(now=self.now)  # what the background task has done every few minutes
        self.after_march_5()
        self.risky_and_draft()
        self.certificates()
        return {
            "campaigns": self.counts["campaigns"],
            "activities": self.counts["activities"],
            "signups": Signup.objects.count(),
            "service_records": ServiceRecord.objects.count(),
            "certificates": Certificate.objects.count(),
        }


def build(demo, *, today: date, now: datetime) -> dict[str, int]:
    """Create the activities demo; return counts for the command's summary."""
    return _Seeder(demo, today, now).run()
