"""The demo's teams (the \"5+n\" brigade, squadrons per station, groups per class): a part of seed_demo's builder."""

from collections import defaultdict
from datetime import timedelta

from leifeng.core.idnumbers import age_on
from leifeng.demo import content as C
from leifeng.orgs.models import Org
from leifeng.people.models import PoliticalStatus, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamKind, TeamLevel, TeamMembership
from leifeng.teams.services import group_limit

SEED = 2024
PHONE_PREFIXES = (  # noqa: SIM905
    "130 131 132 133 135 136 137 139 150 151 152 153 157 158 159 177 180 181 186 187 188 189 199"
).split()


class TeamsBuilder:
    """Mixed into seed._Builder, which holds the tree, the people and the helpers these methods use."""

    def team(self, name: str, org: Org, level: str, category: str, *, parent=None, leader=None, deputy=None, **kw):
        if level == TeamLevel.GROUP:
            kw.setdefault("max_members", group_limit())  # as teams.services.team_create does
        t = Team.objects.create(
            org=org,
            parent=parent,
            name=name,
            level=level,
            category=category,
            leader=leader.volunteer if leader else None,
            deputy=deputy.volunteer if deputy else None,
            **kw,
        )
        self.teams[name] = t
        return t

    def join(self, team: Team, people: list, *, decided_by, status=MembershipStatus.ACTIVE) -> None:
        for p in people:
            if p.volunteer.pk in self.member_of[team.pk]:
                continue
            self.member_of[team.pk].add(p.volunteer.pk)
            active = status == MembershipStatus.ACTIVE
            self.memberships.append(
                TeamMembership(
                    team=team,
                    volunteer=p.volunteer,
                    status=status,
                    message="" if active else self.rng.choice(C.JOIN_MESSAGES),
                    decided_at=self.now - timedelta(days=self.rng.randint(1, 200)) if active else None,
                    decided_by=decided_by if active else None,
                )
            )

    def build_teams(self) -> None:
        rng = self.rng
        self.teams: dict[str, Team] = {}
        self.member_of: dict[int, set[int]] = defaultdict(set)
        self.memberships: list[TeamMembership] = []
        admin = self.users["changan"]
        changan = {st.pk for st in self.changan_stations} | {self.sub.pk}
        adults = [
            p
            for p in self.people
            if p.status == VolunteerStatus.APPROVED and p.kind != "student" and p.org.pk in changan
        ]
        he, fang, chai, _zhou = self.officials

        brigade = self.team(
            C.BRIGADE,
            self.sub,
            TeamLevel.BRIGADE,
            TeamCategory.OTHER,
            leader=he,
            deputy=fang,
            description="街道党工委书记任大队长,副书记、宣传委员任副大队长。",
        )
        self.join(brigade, self.officials, decided_by=admin)

        # The "5" of "5+n".
        pools = {
            TeamCategory.PARTY_VANGUARD: [p for p in adults if p.political_status == PoliticalStatus.CPC_MEMBER],
            TeamCategory.THEORY: [p for p in adults if "理论宣讲" in p.skills or p.kind == "teacher"],
            TeamCategory.CULTURE_FOR_ALL: [p for p in adults if {"文艺表演", "书法", "摄影"} & set(p.skills)],
            TeamCategory.CUSTOMS: [p for p in adults if age_on(p.birth, self.today) >= 45],
            TeamCategory.ELDERLY: [p for p in adults if p.kind in ("resident", "medic")],
        }
        # The demo accounts lead only what their table says; officials lead the first two.
        reserved = {id(self.leader), id(self.demo_volunteer), *(id(p) for p in self.officials)}
        fixed_leaders = {TeamCategory.PARTY_VANGUARD: (chai, he), TeamCategory.THEORY: (fang, chai)}
        for name, category, description in C.FIXED_TEAMS:
            pool = pools[category]
            free = [p for p in pool if id(p) not in reserved]
            leader, deputy = fixed_leaders.get(category) or rng.sample(free, 2)
            t = self.team(
                name,
                self.sub,
                TeamLevel.SQUADRON,
                category,
                parent=brigade,
                kind=TeamKind.FIXED,
                leader=leader,
                deputy=deputy,
                description=description,
            )
            picked = rng.sample(pool, min(len(pool), rng.randint(10, 18)))
            self.join(t, [leader, deputy, *picked], decided_by=admin)

        # The "n": optional teams, two of them drawn from units.
        for name, category, _unit, description in C.OPTIONAL_TEAMS:
            if category == TeamCategory.TRAFFIC:
                pool = self.teachers
            elif category == TeamCategory.HEALTH:
                pool = self.medics
            else:
                pool = [p for p in adults if "法律咨询" in p.skills and id(p) not in reserved]
            t = self.team(
                name,
                self.sub,
                TeamLevel.SQUADRON,
                category,
                parent=brigade,
                leader=pool[0],
                deputy=pool[1],
                description=description,
            )
            self.join(t, pool, decided_by=admin)

        # Civilized-traffic week: one group of five per class with a student as 小组长 (groups hold ≤ 8).
        traffic = self.teams[C.OPTIONAL_TEAMS[0][0]]
        for cls in self.classes:
            kids = self.students[cls.pk]
            group = self.team(
                f"{cls.name.removeprefix(C.SCHOOL)}文明劝导小组",
                self.sub,
                TeamLevel.GROUP,
                TeamCategory.TRAFFIC,
                parent=traffic,
                leader=kids[0],
                deputy=kids[1],
                description="路口文明劝导、快板宣讲、书写文明提示语。",
            )
            self.join(group, kids, decided_by=admin)

        # A 中队 per station, led by the Party branch secretary (站长).
        for st in self.changan_stations:
            self.squadron(st, brigade)
        other_brigade = self.team(
            C.OTHER_BRIGADE,
            self.other,
            TeamLevel.BRIGADE,
            TeamCategory.OTHER,
            leader=self.heads[C.OTHER_STATIONS[0][0]],
            description="镇党委书记任大队长。",
        )
        self.join(
            other_brigade, [self.heads[place] for place, *_rest in C.OTHER_STATIONS], decided_by=self.users["center"]
        )
        for st in self.qingshan_stations:
            self.squadron(st, other_brigade)

        # The demo station: a neighbourhood-watch squad led by the "leader" account, and a group of six.
        station_admin = self.users["station"]
        locals_ = [
            p
            for p in adults
            if p.org.pk == self.demo_station.pk
            and p not in (self.leader, self.demo_volunteer, self.heads[C.DEMO_STATION])
        ]
        watch = self.team(
            C.NEIGHBORHOOD_TEAM,
            self.demo_station,
            TeamLevel.SQUAD,
            TeamCategory.NEIGHBORHOOD,
            parent=self.teams[f"{C.DEMO_STATION}志愿服务中队"],
            leader=self.leader,
            deputy=locals_[0],
            description="以社区两委成员、爱心人士为主体,邻里互助、守望相助。",
        )
        self.join(watch, [self.leader, self.demo_volunteer, *locals_[:6]], decided_by=station_admin)
        helpers = locals_[-6:]
        group = self.team(
            C.ELDERLY_GROUP,
            self.demo_station,
            TeamLevel.GROUP,
            TeamCategory.ELDERLY,
            parent=self.teams[C.FIXED_TEAMS[4][0]],
            leader=helpers[0],
            deputy=helpers[1],
            description="每周探访辖区空巢、孤寡老人。",
        )
        self.join(group, helpers, decided_by=station_admin)

        # Join requests waiting for a leader's answer (never on groups, which may be full).
        open_teams = [t for t in self.teams.values() if t.level != TeamLevel.GROUP and t.org_id == self.sub.pk]
        candidates = rng.sample(adults, 30)
        for p in candidates[:8]:
            team = next(
                t for t in rng.sample(open_teams, len(open_teams)) if p.volunteer.pk not in self.member_of[t.pk]
            )
            self.join(team, [p], decided_by=None, status=MembershipStatus.PENDING)
        self.join(watch, [candidates[8]], decided_by=None, status=MembershipStatus.PENDING)
        TeamMembership.objects.bulk_create(self.memberships)

    def squadron(self, st: Org, parent: Team) -> None:
        place = st.name.removesuffix("新时代文明实践站")
        head = self.heads[place]
        local = [
            p
            for p in self.people
            if p.org.pk == st.pk and p.status == VolunteerStatus.APPROVED and p.kind != "student" and p is not head
        ]
        party = [
            p
            for p in local
            if p.political_status == PoliticalStatus.CPC_MEMBER and p not in (self.demo_volunteer, self.leader)
        ]
        deputy = (party or local)[0]
        team = self.team(
            f"{place}志愿服务中队",
            st,
            TeamLevel.SQUADRON,
            TeamCategory.OTHER,
            parent=parent,
            leader=head,
            deputy=deputy,
            description="村(社区)党组织书记任中队长,副书记任副中队长。",
        )
        decided_by = self.users["station" if st.pk == self.demo_station.pk else "changan"]
        self.join(team, [head, deputy, *local], decided_by=decided_by)

    # ---- audit ----------------------------------------------------------------------------------
