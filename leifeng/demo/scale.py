"""gen_scale: a synthetic county (or province) with N volunteers, built with bulk inserts for benchmarks.

Speed matters more than colour here, but every row must still be one the application accepts:

* ID numbers are well-formed and unique. Each volunteer's number comes from its volunteer number
  (allocated in one block, so unique across runs) through a bijection onto (area code, birth date,
  sequence 500–999); seed_demo uses sequences below 500, so the two never collide.
* Every row gets its own Fernet token and blind index, exactly as registration writes them; the
  blind index is unique, so one shared token would not do. Fernet costs about 20 µs a row.
* Pinyin keys come from a cache: a few thousand name combinations cover a million people.
* Volunteers, their squadron memberships and skills go in with `bulk_create`, one transaction per
  batch, so memory stays flat and a run can be interrupted without leaving half a batch.
"""

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from leifeng.core import crypto
from leifeng.core.bulk import Writer, reserve_ids
from leifeng.core.idnumbers import Gender, IdType, mask_id
from leifeng.core.numbers import allocate
from leifeng.demo import content as C
from leifeng.demo.ids import AREA_CODES, SCALE_SEQ_BASE
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people import pinyin
from leifeng.people.models import AvailableTime, PoliticalStatus, RegistrationChannel, Skill, Volunteer, VolunteerStatus
from leifeng.people.services import NUMBER_SEQUENCE, format_number
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamLevel, TeamMembership

FIRST_BIRTH = date(1950, 1, 1)
BIRTH_DAYS = (date(2005, 12, 31) - FIRST_BIRTH).days + 1  # everyone is an adult
SEQS = 500
ID_SPACE = len(AREA_CODES) * BIRTH_DAYS * SEQS
ID_STRIDE = 1_000_000_007  # prime, larger than every factor of ID_SPACE: multiplication by it permutes the space
assert ID_SPACE % ID_STRIDE != 0

TIMES = [
    [AvailableTime.WEEKEND],
    [AvailableTime.WEEKDAY_EVENING, AvailableTime.WEEKEND],
    [AvailableTime.ANYTIME],
    [AvailableTime.HOLIDAYS],
    [AvailableTime.WEEKDAY_DAYTIME],
]
SQUAD_CATEGORIES = [c for c in TeamCategory.values if c != TeamCategory.OTHER]


@cache
def _birth_days() -> list[str]:
    return [f"{FIRST_BIRTH + timedelta(days=d):%Y%m%d}" for d in range(BIRTH_DAYS)]


def scale_id(key: int) -> str:
    """The resident ID number for volunteer sequence `key`: distinct keys give distinct numbers."""
    j = (key * ID_STRIDE) % ID_SPACE
    j, seq = divmod(j, SEQS)
    area, day = divmod(j, BIRTH_DAYS)
    body = f"{AREA_CODES[area]}{_birth_days()[day]}{SCALE_SEQ_BASE + seq}"
    return body + ric.calc_check_digit(body + "0")  # as core.idnumbers.make_ric, without its strftime


@dataclass
class ScaleResult:
    center: Org
    orgs: int
    teams: int
    volunteers: int
    memberships: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.volunteers / self.seconds if self.seconds else 0.0


class _Names:
    """Deterministic names by key, with their pinyin keys computed once per distinct name."""

    cache: dict[str, tuple[str, str]] = {}  # shared by runs: pypinyin costs ~100 µs a name

    def get(self, key: int, gender: str) -> tuple[str, str, str]:
        h = (key * 2654435761) & 0xFFFFFFFF
        given = C.MALE_GIVEN if gender == Gender.MALE else C.FEMALE_GIVEN
        name = C.SURNAMES[h % len(C.SURNAMES)] + given[(h >> 8) % len(given)]
        keys = self.cache.get(name)
        if keys is None:
            keys = self.cache[name] = pinyin.keys(name)
        return name, keys[0], keys[1]


def _build_tree(label: str, subcenters: int, stations: int, batch: int) -> tuple[Org, list[int], list[int]]:
    """Root, sub-centers and stations with their materialized paths computed here (one INSERT per batch)."""
    root = Org.objects.add_root(create_kwargs={"name": f"{label}新时代文明实践中心", "level": OrgLevel.CENTER})
    root = Org.objects.get(pk=root.pk)  # sorted insertion among other roots may have moved it
    per_sub = [stations // subcenters + (1 if i < stations % subcenters else 0) for i in range(subcenters)]
    subs = Org.objects.bulk_create(
        [
            Org(
                name=f"{label}第{i + 1:04d}镇新时代文明实践所",
                level=OrgLevel.SUBCENTER,
                path=Org._get_path(root.path, 2, i + 1),
                depth=2,
                numchild=per_sub[i],
            )
            for i in range(subcenters)
        ],
        batch_size=batch,
    )
    Org.objects.filter(pk=root.pk).update(numchild=subcenters)
    station_rows = [
        Org(
            name=f"{sub.name[: -len('新时代文明实践所')]}第{j + 1:04d}村新时代文明实践站",
            level=OrgLevel.STATION,
            path=Org._get_path(sub.path, 3, j + 1),
            depth=3,
        )
        for sub, n in zip(subs, per_sub, strict=True)
        for j in range(n)
    ]
    created = Org.objects.bulk_create(station_rows, batch_size=batch)
    sub_of_station = [i for i, n in enumerate(per_sub) for _ in range(n)]
    return root, [s.pk for s in subs], [s.pk for s in created], sub_of_station


def _build_teams(
    subs: list[int], stations: list[int], sub_of_station: list[int], per_station: int, batch: int
) -> tuple[list[int], int]:
    """A brigade per sub-center; per station a squadron (where everyone joins) and squads under it."""
    brigades = Team.objects.bulk_create(
        [
            Team(org_id=pk, name=f"第{i + 1:04d}镇志愿服务大队", level=TeamLevel.BRIGADE, category=TeamCategory.OTHER)
            for i, pk in enumerate(subs)
        ],
        batch_size=batch,
    )
    if per_station < 1:
        return [], len(brigades)
    squadrons = Team.objects.bulk_create(
        [
            Team(
                org_id=pk,
                parent_id=brigades[sub_of_station[j]].pk,
                name="志愿服务中队",
                level=TeamLevel.SQUADRON,
                category=TeamCategory.OTHER,
            )
            for j, pk in enumerate(stations)
        ],
        batch_size=batch,
    )
    squads = [
        Team(
            org_id=pk,
            parent_id=squadrons[j].pk,
            name=f"{TeamCategory(cat).label}志愿服务队",
            level=TeamLevel.SQUAD,
            category=cat,
        )
        for j, pk in enumerate(stations)
        for cat in SQUAD_CATEGORIES[: per_station - 1]
    ]
    Team.objects.bulk_create(squads, batch_size=batch)
    return [t.pk for t in squadrons], len(brigades) + len(squadrons) + len(squads)


VOLUNTEER_COLUMNS = [
    "id",
    "number",
    "org_id",
    "name",
    "name_pinyin",
    "name_initials",
    "id_type",
    "id_number_encrypted",
    "id_index",
    "id_masked",
    "gender",
    "birth_date",
    "phone",
    "available_times",
    "political_status",
    "in_service_party_member",
    "status",
    "channel",
    "consent_at",
]


class _RowBuilder:
    """Volunteer rows (all columns but the primary key) for positions lo…hi of the allocated numbers."""

    def __init__(self, numbers: range, station_pks: list[int], now_value) -> None:
        self.numbers, self.station_pks, self.now_value = numbers, station_pks, now_value
        self.names = _Names()
        self.times = [json.dumps(t) for t in TIMES]

    def __call__(self, lo: int, hi: int) -> list[tuple]:
        encrypt, blind_index, names, times = crypto.encrypt, crypto.blind_index, self.names, self.times
        ric_type, channel, now_value = str(IdType.RIC), str(RegistrationChannel.IMPORT), self.now_value
        approved, pending = str(VolunteerStatus.APPROVED), str(VolunteerStatus.PENDING)
        cpc, league, masses = (
            str(s) for s in (PoliticalStatus.CPC_MEMBER, PoliticalStatus.LEAGUE_MEMBER, PoliticalStatus.MASSES)
        )
        stations, n_stations = self.station_pks, len(self.station_pks)
        rows = []
        for i in range(lo, hi):
            key = self.numbers[i]
            number = scale_id(key)
            gender = "m" if int(number[16]) % 2 else "f"
            name, full, initials = names.get(key, gender)
            h = (key * 40503) & 0xFFFF
            pct = h % 100
            political = cpc if pct < 30 else league if pct < 45 else masses
            rows.append(
                (
                    format_number(key),
                    stations[i % n_stations],
                    name,
                    full,
                    initials,
                    ric_type,
                    encrypt(number),
                    blind_index(ric_type, number),
                    mask_id(number),
                    gender,
                    f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                    f"13{(key * 7919) % 10**9:09d}",
                    times[h % len(times)],
                    political,
                    pct < 15,  # in-service party members: half of the party members
                    pending if pct == 99 else approved,
                    channel,
                    now_value,
                )
            )
        return rows


def gen_scale(
    *,
    volunteers: int,
    stations: int = 180,
    subcenters: int = 12,
    teams_per_station: int = 3,
    batch: int = 5000,
    memberships: bool = True,
    progress: Callable[[int, float], None] | None = None,
) -> ScaleResult:
    """Build one synthetic county: 1 center, `subcenters` sub-centers, `stations` stations, N volunteers."""
    if subcenters < 1 or stations < subcenters:
        raise ValueError("need at least one sub-center and at least one station per sub-center")
    if volunteers < 0 or batch < 1:
        raise ValueError("volunteers must be >= 0 and batch >= 1")
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        label = f"规模测试县{Org.objects.filter(depth=1, name__startswith='规模测试县').count() + 1:03d}"
        root, subs, station_pks, sub_of_station = _build_tree(label, subcenters, stations, batch)
        squadrons, n_teams = _build_teams(subs, station_pks, sub_of_station, teams_per_station, batch)
        numbers = allocate(NUMBER_SEQUENCE, volunteers) if volunteers else range(0)
        Skill.objects.bulk_create([Skill(name=s) for s in C.SKILLS], ignore_conflicts=True)
        skill_ids = list(Skill.objects.filter(name__in=C.SKILLS).values_list("pk", flat=True))
    if numbers and numbers[-1] >= ID_SPACE:
        raise ValueError("volunteer numbers exceed the synthetic ID space")

    # A timestamp as the database takes it, formatted once rather than per row.
    if connection.vendor == "postgresql":
        now_value = now.isoformat()
    else:
        now_value = Volunteer._meta.get_field("consent_at").get_db_prep_save(now, connection)
    build = _RowBuilder(numbers, station_pks, now_value)
    volunteer_writer = Writer(Volunteer, VOLUNTEER_COLUMNS, now)
    member_writer = Writer(TeamMembership, ["team_id", "volunteer_id", "status", "decided_at"], now)
    skill_writer = Writer(Volunteer.skills.through, ["volunteer_id", "skill_id"], now)
    n_stations, n_skills = len(station_pks), len(skill_ids)
    active = str(MembershipStatus.ACTIVE)
    members = 0
    starts = range(0, volunteers, batch)
    # Two cores: a worker thread computes the next batch (encryption, pinyin) while this thread waits
    # for the database to take the current one. The worker never touches the database.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(build, starts[0], min(batch, volunteers)) if starts else None
        for n, lo in enumerate(starts):
            hi = min(lo + batch, volunteers)
            rows = pending.result()
            if n + 1 < len(starts):
                pending = pool.submit(build, hi, min(hi + batch, volunteers))
            with transaction.atomic():
                ids = reserve_ids(Volunteer, hi - lo)
                volunteer_writer.write([(pk, *row) for pk, row in zip(ids, rows, strict=True)])
                if memberships and squadrons:
                    member_writer.write(
                        [
                            (squadrons[i % n_stations], pk, active, now_value)
                            for i, pk in zip(range(lo, hi), ids, strict=True)
                        ]
                    )
                    members += hi - lo
                if n_skills:
                    skill_writer.write(
                        [(pk, skill_ids[i % n_skills]) for i, pk in zip(range(lo, hi), ids, strict=True) if i % 3 == 0]
                    )
            if progress:
                progress(hi, time.perf_counter() - started)
    return ScaleResult(
        center=root,
        orgs=1 + len(subs) + len(station_pks),
        teams=n_teams,
        volunteers=volunteers,
        memberships=members,
        seconds=time.perf_counter() - started,
    )
