"""seed_demo: a county as the 长安街道 plan describes it, with people, teams and one account per role.

Everything is built from `content.py` with a seeded random generator, so two runs on empty databases
give the same names, numbers (apart from encryption nonces) and memberships. Volunteers go through
the same validation and row-building code as registration and Excel import
(`people.services.volunteer_clean` + `_build` + `_attach_skills`), so the demo cannot hold a row the
real entry paths would refuse.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core import audit
from leifeng.core.idnumbers import age_on, make_ric
from leifeng.core.numbers import allocate
from leifeng.demo import content as C
from leifeng.demo.codes import AuditAction
from leifeng.demo.ids import AREA_CODES, DEMO_SEQ, credit_code
from leifeng.demo.seed_teams import TeamsBuilder
from leifeng.orgs.models import LeadingGroup, LeadingGroupMember, Org, OrgLevel, Position, Unit
from leifeng.people.models import AvailableTime, PoliticalStatus, RegistrationChannel, Volunteer, VolunteerStatus
from leifeng.people.services import (
    NUMBER_SEQUENCE,
    VolunteerInput,
    _attach_skills,
    _build,
    format_number,
    volunteer_clean,
)
from leifeng.teams.models import Team, TeamMembership

SEED = 2024
PHONE_PREFIXES = (  # noqa: SIM905
    "130 131 132 133 135 136 137 139 150 151 152 153 157 158 159 177 180 181 186 187 188 189 199"
).split()


class AlreadySeeded(Exception):
    """The database already holds organizations; the demo never mixes into existing data."""


@dataclass(eq=False)
class Person:
    """One volunteer to create, before validation."""

    name: str
    gender: str  # "m" / "f"
    birth: date
    org: Org
    kind: str  # official, head, resident, student, teacher, medic, staff (of a unit)
    unit: Unit | None = None
    political_status: str = PoliticalStatus.MASSES
    in_service: bool = False
    skills: list[str] = field(default_factory=list)
    status: str = VolunteerStatus.APPROVED
    channel: str = RegistrationChannel.STAFF
    user: object | None = None
    phone: str = ""
    volunteer: Volunteer | None = None


@dataclass
class Demo:
    """Handles on what was built, for the command's summary and for tests."""

    center: Org
    subcenter: Org
    stations: dict[str, Org]
    other_subcenter: Org
    units: dict[str, Unit]
    users: dict[str, object]
    people: list[Person]
    teams: dict[str, Team]
    counts: dict[str, int]


class _Builder(TeamsBuilder):
    def __init__(self, today: date, now: datetime):
        self.rng = random.Random(SEED)
        self.today = today
        self.now = now
        self.used_names: set[str] = set()
        self.used_phones: set[str] = {a[4] for a in C.ACCOUNTS}
        self.used_ids: set[tuple[str, date, int]] = set()
        self.people: list[Person] = []

    # ---- the tree -------------------------------------------------------------------------------
    def node(self, parent: Org | None, name: str, level: str, **extra) -> Org:
        kwargs = {"name": name, "level": level, **extra}
        if parent is None:
            return Org.objects.add_root(create_kwargs=kwargs)
        # Sorted insertion may shift siblings' paths: always add under a fresh copy of the parent.
        return Org.objects.add_child(Org.objects.get(pk=parent.pk), create_kwargs=kwargs)

    def build_tree(self) -> None:
        center = self.node(None, C.CENTER, OrgLevel.CENTER, address="县城文化路1号", contact_name="郭晓燕")
        sub = self.node(center, C.SUBCENTER, OrgLevel.SUBCENTER, address=C.SUBCENTER_ADDRESS, contact_name="柴志慧")
        other = self.node(
            center, C.OTHER_SUBCENTER, OrgLevel.SUBCENTER, address="青山镇政府院内", contact_name="罗志明"
        )
        stations: dict[str, Org] = {}
        positions = []
        for parent, specs in ((sub, C.STATIONS), (other, C.OTHER_STATIONS)):
            base = (28.1960, 112.9720) if parent is sub else (28.2650, 113.0810)  # town offices
            for i, (place, head, specialist, points) in enumerate(specs):
                # Stations within a few kilometres of their town office, so order matching has distances.
                lat = Decimal(f"{base[0] + 0.009 * (i % 3) - 0.009:.6f}")
                lng = Decimal(f"{base[1] + 0.011 * (i // 3) - 0.011:.6f}")
                st = self.node(
                    parent,
                    C.station_name(place),
                    OrgLevel.STATION,
                    contact_name=specialist,
                    latitude=lat,
                    longitude=lng,
                )
                stations[place] = st
                positions += [
                    Position(org=st, title="station_head", person_name=head),
                    Position(org=st, title="specialist", person_name=specialist),
                ]
                for point in points:
                    self.node(st, point, OrgLevel.POINT)
        for org, specs in ((center, C.CENTER_POSITIONS), (sub, C.SUBCENTER_POSITIONS)):
            positions += [Position(org=org, title=title, person_name=name) for title, name, _job in specs]
        for p in positions:
            p.phone = self.phone()
        Position.objects.bulk_create(positions)
        group = LeadingGroup.objects.create(org=sub, name=C.LEADING_GROUP)
        LeadingGroupMember.objects.bulk_create(
            LeadingGroupMember(group=group, role=role, person_name=name, job_title=job)
            for role, name, job in C.LEADING_GROUP_MEMBERS
        )
        # Paths may have moved while siblings were inserted in name order: reload every node.
        fresh = Org.objects.in_bulk([center.pk, sub.pk, other.pk, *(s.pk for s in stations.values())])
        self.center, self.sub, self.other = fresh[center.pk], fresh[sub.pk], fresh[other.pk]
        self.stations = {place: fresh[st.pk] for place, st in stations.items()}
        self.changan_stations = [self.stations[p[0]] for p in C.STATIONS]
        self.qingshan_stations = [self.stations[p[0]] for p in C.OTHER_STATIONS]
        self.demo_station = self.stations[C.DEMO_STATION]

    def build_units(self) -> None:
        units = {}
        for serial, (name, kind, prefix, where, address) in enumerate(C.UNITS, start=1):
            org = self.center if where == "center" else self.sub
            units[name] = Unit.objects.create(
                org=org,
                name=name,
                kind=kind,
                credit_code=credit_code(prefix, C.CREDIT_AREA, 43012100 + serial),
                address=address,
                contact_name=self.name(self.rng.choice("mf")),
                contact_phone=self.phone(),
            )
        school = units[C.SCHOOL]
        Unit.objects.bulk_create(
            Unit(org=school.org, parent=school, name=f"{C.SCHOOL}{cls}", kind=school.kind) for cls in C.CLASSES
        )
        self.units = units
        self.classes = list(Unit.objects.filter(parent=school).order_by("name"))

    # ---- accounts -------------------------------------------------------------------------------
    def build_accounts(self) -> None:
        User = get_user_model()
        password = make_password(C.DEMO_PASSWORD)  # hashed once: ten argon2 runs would slow `make run`
        where = {"center": self.center, "subcenter": self.sub, "station": self.demo_station}
        users, roles = {}, []
        for username, role, node, display, phone, _has_profile in C.ACCOUNTS:
            admin = role == Role.PLATFORM_ADMIN
            user = User(
                username=username,
                password=password,
                phone=phone,
                display_name=display,
                is_staff=admin,
                is_superuser=admin,
            )
            user.save()
            users[username] = user
            roles.append(RoleAssignment(user=user, role=role, org=where[node]))
        RoleAssignment.objects.bulk_create(roles)
        # The people behind the posts get their accounts linked.
        Position.objects.filter(org=self.demo_station, title="station_head").update(user=users["station"])
        Position.objects.filter(org=self.demo_station, title="specialist").update(user=users["staff"])
        Position.objects.filter(org=self.center, title="director").update(user=users["center"])
        Position.objects.filter(org=self.sub, person_name="柴志慧").update(user=users["changan"])
        self.users = users

    # ---- people ---------------------------------------------------------------------------------
    def phone(self) -> str:
        while True:
            p = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p

    def name(self, gender: str, *, student: bool = False) -> str:
        weights = [1 / (i + 4) for i in range(len(C.SURNAMES))]
        if student:
            given = C.STUDENT_MALE_GIVEN if gender == "m" else C.STUDENT_FEMALE_GIVEN
        else:
            given = C.MALE_GIVEN if gender == "m" else C.FEMALE_GIVEN
        while True:
            n = self.rng.choices(C.SURNAMES, weights)[0] + self.rng.choice(given)
            if n not in self.used_names:
                self.used_names.add(n)
                return n

    def birth(self, min_age: int, max_age: int) -> date:
        while True:
            year = self.today.year - self.rng.randint(min_age, max_age + 1)
            b = date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))
            if min_age <= age_on(b, self.today) <= max_age:
                return b

    def person(self, kind: str, org: Org, *, name: str = "", gender: str = "", ages=(22, 68), **kw) -> Person:
        gender = gender or self.rng.choice("mf")
        p = Person(
            name=name or self.name(gender, student=kind == "student"),
            gender=gender,
            birth=self.birth(*ages),
            org=org,
            kind=kind,
            **kw,
        )
        if name:
            self.used_names.add(name)
        if not p.political_status or p.political_status == PoliticalStatus.MASSES and kind != "student":
            p.political_status, p.in_service = self.politics(age_on(p.birth, self.today))
        self.people.append(p)
        return p

    def politics(self, age: int) -> tuple[str, bool]:
        """About a third party members (most of working age 在职党员), league members among the young."""
        r = self.rng.random()
        if r < 0.30:
            return PoliticalStatus.CPC_MEMBER, age < 60 and self.rng.random() < 0.6
        if r < 0.33:
            return PoliticalStatus.CPC_PROBATIONARY, False
        if r < 0.34:
            return PoliticalStatus.DEMOCRATIC_PARTY, False
        if r < 0.70 and age <= 28:
            return PoliticalStatus.LEAGUE_MEMBER, False
        return PoliticalStatus.MASSES, False

    def skills(self, *must: str, extra: int = 2) -> list[str]:
        return [*must, *self.rng.sample(C.SKILLS, self.rng.randint(0, extra))]

    def build_people(self) -> None:
        cpc = PoliticalStatus.CPC_MEMBER
        rng = self.rng
        self.officials = [
            self.person("official", self.sub, name=n, gender=g, ages=(42, 55), political_status=cpc, in_service=True)
            for n, g in (("何华光", "m"), ("方艳明", "f"), ("柴志慧", "f"), ("周建国", "m"))
        ]
        for p in self.officials:
            p.skills = self.skills("理论宣讲", extra=1)
        self.heads = {}
        for place, head, _specialist, _points in C.STATIONS + C.OTHER_STATIONS:
            self.heads[place] = self.person(
                "head", self.stations[place], name=head, ages=(40, 60), political_status=cpc, skills=["理论宣讲"]
            )
            self.heads[place].gender = "f" if head in ("王秀英", "周玉兰") else "m"
        self.heads[C.DEMO_STATION].user = self.users["station"]
        self.heads[C.DEMO_STATION].phone = self.users["station"].phone
        leader = self.person("resident", self.demo_station, name="刘建军", gender="m", ages=(45, 58), skills=["驾驶"])
        leader.political_status, leader.in_service = cpc, True
        leader.user, leader.phone = self.users["leader"], self.users["leader"].phone
        vol = self.person(
            "resident", self.demo_station, name="陈思远", gender="m", ages=(24, 30), skills=["摄影", "电脑"]
        )
        vol.user, vol.phone = self.users["volunteer"], self.users["volunteer"].phone
        self.leader, self.demo_volunteer = leader, vol

        # The school: four teachers and five students from each of classes 1001–1010 (the traffic week).
        school = self.units[C.SCHOOL]
        self.teachers = [
            self.person("teacher", rng.choice(self.changan_stations), unit=school, ages=(28, 50), skills=["书法"])
            for _ in range(4)
        ]
        self.students: dict[int, list[Person]] = {}
        for cls in self.classes:
            self.students[cls.pk] = [
                self.person(
                    "student",
                    rng.choice(self.changan_stations),
                    unit=cls,
                    ages=(14, 17),
                    political_status=rng.choice([PoliticalStatus.LEAGUE_MEMBER, PoliticalStatus.MASSES]),
                    skills=rng.sample(["书法", "文艺表演", "摄影", "电脑", "外语"], rng.randint(1, 2)),
                )
                for _ in range(5)
            ]
        self.medics = [
            self.person(
                "medic",
                rng.choice(self.changan_stations),
                unit=self.units[C.HOSPITAL],
                ages=(25, 58),
                skills=self.skills(rng.choice(["医疗护理", "医疗护理", "急救", "心理疏导"]), "急救", extra=1),
            )
            for _ in range(20)
        ]
        for unit_name, n, must in (
            (C.WATER_BUREAU, 8, "水电维修"),
            (C.ARMY, 8, "急救"),
            ("长安惠民超市有限公司", 5, "驾驶"),
            ("县义工联合会", 6, "心理疏导"),
        ):
            for _ in range(n):
                self.person(
                    "staff",
                    rng.choice(self.changan_stations),
                    unit=self.units[unit_name],
                    ages=(20, 55),
                    skills=self.skills(must),
                )
        # Residents fill the rest, most of them in the street's nine stations.
        while len(self.people) < 300:
            org = rng.choice(self.changan_stations * 4 + self.qingshan_stations)
            self.person("resident", org, ages=(18, 75), skills=self.skills(extra=3))
        residents = [p for p in self.people if p.kind == "resident" and p.user is None]
        for p in rng.sample(residents, 20):
            p.status, p.channel = VolunteerStatus.PENDING, RegistrationChannel.SELF
        for p in rng.sample([r for r in residents if r.status == VolunteerStatus.APPROVED], 3):
            p.status, p.channel = VolunteerStatus.REJECTED, RegistrationChannel.SELF
        for p in residents:
            if p.channel == RegistrationChannel.STAFF and rng.random() < 0.3:
                p.channel = RegistrationChannel.IMPORT
        self.save_people()

    def id_number(self, p: Person) -> str:
        area = C.CREDIT_AREA if self.rng.random() < 0.8 else self.rng.choice(AREA_CODES)
        while True:
            seq = self.rng.choice(DEMO_SEQ)
            if (seq % 2 == 1) != (p.gender == "m"):
                seq = seq + 1 if seq + 1 in DEMO_SEQ else seq - 1
            if (area, p.birth, seq) not in self.used_ids:
                self.used_ids.add((area, p.birth, seq))
                return make_ric(area, p.birth, seq)

    def save_people(self) -> None:
        User = get_user_model()
        rng = self.rng
        cleans = []
        for p in self.people:
            p.phone = p.phone or self.phone()
            minor = p.kind == "student"
            with_address = rng.random() < 0.3
            place = p.org.name.removesuffix("新时代文明实践站")
            if place.endswith("社区"):
                address = f"{rng.choice(C.STREETS)}{rng.randint(1, 200)}号"
            else:
                address = f"{place}{rng.choice(C.VILLAGE_GROUPS)}"
            surname = p.name[:2] if p.name[:2] in C.SURNAMES else p.name[0]
            data = VolunteerInput(
                name=p.name,
                id_number=self.id_number(p),
                phone=p.phone,
                org_id=p.org.pk,
                unit_id=p.unit.pk if p.unit else None,
                skills=p.skills,
                available_times=rng.sample(AvailableTime.values, rng.randint(1, 2)),
                political_status=p.political_status,
                in_service_party_member=p.in_service,
                consent=True,
                extra_info_consent=with_address,
                address=address if with_address else "",
                guardian_name=surname + rng.choice(C.MALE_GIVEN) if minor else "",
                guardian_phone=self.phone() if minor else "",
                guardian_consent=minor,
            )
            cleans.append(volunteer_clean(data, today=self.today))
        numbers = [format_number(n) for n in allocate(NUMBER_SEQUENCE, len(self.people))]
        # Self-registrations come with the account registration made for them (user name = number).
        for p, number in zip(self.people, numbers, strict=True):
            if p.channel == RegistrationChannel.SELF and p.user is None:
                p.user = User(username=number, phone=p.phone, display_name=p.name)
                p.user.set_unusable_password()
        fresh = [p for p in self.people if p.user is not None and p.user.pk is None]
        User.objects.bulk_create([p.user for p in fresh])
        ids = dict(User.objects.filter(username__in=[p.user.username for p in fresh]).values_list("username", "id"))
        for p in fresh:
            p.user.pk = ids[p.user.username]
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=p.user, role=Role.VOLUNTEER, org=p.org) for p in fresh]
            + [
                RoleAssignment(user=self.users[name], role=Role.VOLUNTEER, org=self.demo_station)
                for name in ("station", "leader")
            ]
        )
        changan = {st.pk for st in self.changan_stations} | {self.sub.pk}
        rows = []
        for p, clean, number in zip(self.people, cleans, numbers, strict=True):
            v = _build(clean, number=number, channel=p.channel, now=self.now)
            v.user = p.user
            v.status = p.status
            if p.status != VolunteerStatus.PENDING:
                v.reviewed_at = self.now - timedelta(days=rng.randint(1, 300))
                if p.org.pk == self.demo_station.pk:
                    v.reviewed_by = self.users["station"]
                else:
                    v.reviewed_by = self.users["changan" if p.org.pk in changan else "center"]
            if p.status == VolunteerStatus.REJECTED:
                v.rejection_reason = rng.choice(C.REJECTION_REASONS)
            rows.append(v)
            p.volunteer = v
        Volunteer.objects.bulk_create(rows)
        _attach_skills(rows, [c.skills for c in cleans])

    # ---- teams ----------------------------------------------------------------------------------
    def record(self) -> dict[str, int]:
        counts = {
            "orgs": Org.objects.count(),
            "units": Unit.objects.count(),
            "volunteers": Volunteer.objects.count(),
            "teams": Team.objects.count(),
            "memberships": TeamMembership.objects.count(),
            "accounts": len(self.users),
        }
        audit.record(
            actor=None, action=AuditAction.DEMO_SEED, obj=self.center, changes=counts, note="seed_demo: county tree"
        )
        for sub in (self.sub, self.other):
            audit.record(
                actor=None,
                action=AuditAction.DEMO_SEED,
                obj=sub,
                changes={
                    "stations": Org.objects.filter(path__startswith=sub.path, level=OrgLevel.STATION).count(),
                    "volunteers": Volunteer.objects.filter(org__path__startswith=sub.path).count(),
                },
                note="seed_demo: sub-center",
            )
        audit.record(
            actor=None,
            action=AuditAction.DEMO_SEED,
            org=self.center,
            object_type="accounts.user",
            object_repr="demo accounts",
            changes={"accounts": sorted(self.users)},
            note="seed_demo: one account per role, password leifeng2024",
        )
        return counts


def seed_demo(*, today: date | None = None) -> Demo:
    """Build the whole demo in one transaction; refuse if any organization exists."""
    today = today or timezone.localdate()
    with transaction.atomic():
        if Org.objects.exists():
            raise AlreadySeeded
        b = _Builder(today, timezone.now())
        b.build_tree()
        b.build_units()
        b.build_accounts()
        b.build_people()
        b.build_teams()
        counts = b.record()
        demo = Demo(
            center=b.center,
            subcenter=b.sub,
            stations=b.stations,
            other_subcenter=b.other,
            units=b.units,
            users=b.users,
            people=b.people,
            teams=b.teams,
            counts=counts,
        )
        # Each domain adds its own demo on top of the people and teams (leifeng/demo/seed_<domain>.py).
        from leifeng.demo import seed_activities, seed_orders

        demo.counts.update(seed_activities.build(demo, today=today, now=b.now))
        demo.counts.update(seed_orders.build(demo, today=today, now=b.now))
    return demo
