"""Validating the rows: stations the actor may register into, every cell, duplicates in the file and the database."""

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from leifeng.core.errors import ErrorCode as CoreCode
from leifeng.core.errors import ServiceError
from leifeng.core.idnumbers import Gender, IdType
from leifeng.core.scope import Perm
from leifeng.orgs.models import Org
from leifeng.people.excel.columns import (
    _FALSE,
    _SPLIT,
    _TRUE,
    COLUMN_BY_KEY,
    COLUMNS,
    FIELD_COLUMN,
    GENDER_ZH,
    ID_TYPE_ZH,
    LOOKUP_CHUNK,
    POLITICAL_ZH,
    TIME_ZH,
    _norm,
    _parser,
)
from leifeng.people.excel.reader import _text
from leifeng.people.excel.report import CellError
from leifeng.people.models import (
    AvailableTime,
    PoliticalStatus,
    Volunteer,
)
from leifeng.people.policy import REGISTRABLE_LEVELS, volunteer_policy
from leifeng.people.services import (
    CleanVolunteer,
    VolunteerInput,
    volunteer_clean,
)


class _Stations:
    """Station names the actor may register into (Perm.CHANGE scope), resolved once per distinct cell."""

    def __init__(self, actor):
        self.actor = actor
        orgs = list(
            volunteer_policy.stations(actor, Perm.CHANGE, levels=REGISTRABLE_LEVELS)
            .only("id", "name", "path", "level", "depth")
            .order_by("path")
        )
        self.by_id = {o.pk: o for o in orgs}
        parent_paths = {o.path[: -Org.steplen] for o in orgs if o.depth > 1}
        self.parent_names = parent_names = dict(
            Org.objects.filter(path__in=parent_paths).values_list("path", "name").order_by()
        )
        self.by_name: dict[str, list[Org]] = {}
        self.labels: dict[str, list[Org]] = {}  # as written in a cell → orgs, plain names first
        for o in orgs:
            self.labels.setdefault(o.name, []).append(o)
        for o in orgs:
            parent = parent_names.get(o.path[: -Org.steplen])
            if parent and len(self.labels[o.name]) > 1:
                self.labels.setdefault(f"{parent}/{o.name}", []).append(o)
        for label, found in self.labels.items():
            self.by_name.setdefault(_norm(label), []).extend(found)
        self._cache: dict[str, Org | str] = {}
        self._approve: dict[int, bool] = {}

    def resolve(self, text: str) -> Org | str:
        """The org, or the reason it cannot be used."""
        hit = self._cache.get(text)
        if hit is None:
            found = self.by_name.get(_norm(text.replace("／", "/")), [])
            if len(found) == 1:
                hit = found[0]
            elif not found:
                hit = _("No station called “%(name)s” among the stations you may register volunteers for.") % {
                    "name": text
                }
            else:
                hit = _("Several stations are called “%(name)s”; write it as “sub-center/station”.") % {"name": text}
            self._cache[text] = hit
        return hit

    def may_approve(self, org_id: int) -> bool:
        if org_id not in self._approve:
            self._approve[org_id] = volunteer_policy.allows_at(self.actor, Perm.APPROVE, self.by_id[org_id])
        return self._approve[org_id]


def import_station_choices(*, actor) -> list[tuple[int, str]]:
    """Default-station choices for the import form: the actor's CHANGE scope, 'sub-center / station'."""
    stations = _Stations(actor)
    out = []
    for o in stations.by_id.values():
        parent = stations.parent_names.get(o.path[: -Org.steplen])
        out.append((o.pk, f"{parent} / {o.name}" if parent else o.name))
    return out


def template_station_names(*, actor) -> list[str]:
    """What the template's 所属站点 dropdown offers: names, or 'sub-center/station' where a name repeats."""
    stations = _Stations(actor)
    return [name for name, orgs in stations.labels.items() if len(orgs) == 1]


class _Ready(NamedTuple):
    """A validated row, kept small (a tuple) because 100,000 of them wait in memory for the write."""

    row: int  # as Excel shows it
    name: str
    org_id: int
    unit_id: int | None
    id_type: str
    id_number: str  # canonical; encrypted only when written
    id_index: str
    gender: str
    birth_date: date | None
    phone: str
    email: str
    address: str
    extra_info_consent: bool
    available_times: tuple[str, ...]
    political_status: str
    in_service_party_member: bool
    guardian_name: str
    guardian_phone: str
    skills: tuple[str, ...]


def _ready(row: int, clean: CleanVolunteer) -> _Ready:
    """What services._apply would store, taken from a CleanVolunteer (test_excel holds the two equal)."""
    d = clean.data
    minor = bool(clean.guardian_phone)
    return _Ready(
        row=row,
        name=d.name,
        org_id=d.org_id,
        unit_id=d.unit_id,
        id_type=d.id_type,
        id_number=clean.id_number,
        id_index=clean.id_index,
        gender=clean.gender,
        birth_date=clean.birth_date,
        phone=clean.phone,
        email=d.email if d.extra_info_consent else "",
        address=d.address if d.extra_info_consent else "",
        extra_info_consent=d.extra_info_consent,
        available_times=tuple(d.available_times),
        political_status=d.political_status,
        in_service_party_member=d.in_service_party_member,
        guardian_name=(d.guardian_name or "").strip() if minor else "",
        guardian_phone=clean.guardian_phone,
        skills=tuple(clean.skills),
    )


class _Validator:
    """Turns sheet rows into clean registrations or cell errors; keeps the duplicate maps.

    Choice cells repeat ("群众", "周末、节假日"), so each distinct text is parsed once.
    """

    def __init__(self, *, columns: dict[str, int], stations: _Stations, default_org: Org | None, today: date):
        self.columns = columns
        self.width = max(columns.values()) + 1
        self.ix = tuple(columns.get(c.key) for c in COLUMNS)  # cell index per COLUMNS entry, or None
        self.default_org = default_org
        self.today = today
        self.stations = stations
        self.id_types = _parser(IdType, ID_TYPE_ZH)
        self.political = _parser(PoliticalStatus, POLITICAL_ZH)
        self.time_words = _parser(AvailableTime, TIME_ZH)
        self.genders = _parser(Gender, GENDER_ZH)
        self._cache: dict[tuple[str, str], tuple] = {}
        self.errors: list[CellError] = []
        self.rows: list[_Ready] = []  # kept while no error has been seen
        self.id_first: dict[str, int] = {}  # blind index → first row; later rows go to id_more
        self.id_more: dict[str, list[int]] = {}
        self.phone_first: dict[str, int] = {}
        self.phone_more: dict[str, list[int]] = {}

    def error(self, row: int, key: str, message: str) -> None:
        c = COLUMN_BY_KEY[key]
        i = self.columns.get(key)
        self.errors.append(CellError(row, get_column_letter(i + 1) if i is not None else "", c.header, message))

    def _parse(self, key: str, text: str) -> tuple:
        """(value, problem or None) for a choice cell, memoised per distinct text."""
        hit = self._cache.get((key, text))
        if hit is None:
            hit = self._cache[(key, text)] = self._parse_new(key, text)
        return hit

    def _parse_new(self, key: str, text: str) -> tuple:
        if key == "id_type":
            value = self.id_types.get(_norm(text)) if text else IdType.RIC
            return (value, None) if value else (IdType.RIC, _("Unknown ID type “%(value)s”.") % {"value": text})
        if key == "political_status":
            value = self.political.get(_norm(text)) if text else PoliticalStatus.MASSES
            if value:
                return value, None
            return PoliticalStatus.MASSES, _("Unknown political status “%(value)s”.") % {"value": text}
        if key == "available_times":
            values, bad = [], []
            for word in _SPLIT.split(text):
                word = word.strip()
                if word:
                    value = self.time_words.get(_norm(word))
                    if value is None:
                        bad.append(_("Unknown available time “%(value)s”.") % {"value": word})
                    elif value not in values:
                        values.append(value)
            return tuple(values), ("；".join(bad) or None)
        if key == "skills":
            return tuple(dict.fromkeys(w.strip() for w in _SPLIT.split(text) if w.strip())), None
        if key == "gender":
            value = self.genders.get(_norm(text)) if text else ""
            return (value, None) if value is not None else ("", _("Write “男” (male) or “女” (female)."))
        # yes / no columns
        word = _norm(text)
        if not word or word in _FALSE:
            return False, None
        if word in _TRUE:
            return True, None
        return False, _("Write “是” (yes) or “否” (no).")

    def add(self, number: int, cells: tuple) -> None:
        if len(cells) < self.width:
            cells = (*cells, *([None] * (self.width - len(cells))))
        (
            i_name,
            i_id_type,
            i_id,
            i_phone,
            i_org,
            i_pol,
            i_isp,
            i_skills,
            i_times,
            i_email,
            i_gname,
            i_gphone,
            i_gok,
            i_gender,
            i_birth,
        ) = self.ix
        flagged: set[str] = set()  # columns already named here, so the service's echo is dropped

        def text(i) -> str:
            if i is None:
                return ""
            v = cells[i]
            return v.strip() if v.__class__ is str else _text(v)

        def choice(key: str, i):
            value, problem = self._parse(key, text(i))
            if problem:
                self.error(number, key, problem)
                flagged.add(key)
            return value

        raw_id = cells[i_id]
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool) and len(_text(raw_id)) > 15:
            # Excel keeps 15 significant digits: the number is already damaged.
            self.error(
                number,
                "id_number",
                _("The ID number was stored as a number and lost digits; format the column as text and type it again."),
            )
            flagged.add("id_number")
            raw_id = ""
        id_number = _text(raw_id)
        if "*" in id_number:
            self.error(number, "id_number", _("The ID number is masked; use the full number."))
            flagged.add("id_number")

        org_text = text(i_org)
        org_id = 0
        if org_text:
            org = self.stations.resolve(org_text)
            if isinstance(org, str):
                self.error(number, "org", org)
            else:
                org_id = org.pk
        elif self.default_org is not None:
            org_id = self.default_org.pk
        else:
            self.error(number, "org", _("No station given, and no default station was chosen on the import page."))

        email = text(i_email)
        guardian_name = text(i_gname)
        if len(guardian_name) > 50:
            self.error(number, "guardian_name", _("Name is longer than 50 characters."))
            flagged.add("guardian_name")
        if len(email) > 254:
            self.error(number, "email", _("Enter a valid e-mail address."))
            flagged.add("email")
            email = ""
        data = VolunteerInput(
            name=text(i_name),
            id_number=id_number,
            phone=text(i_phone),
            org_id=org_id,
            id_type=choice("id_type", i_id_type),
            email=email,
            skills=list(choice("skills", i_skills)),
            available_times=list(choice("available_times", i_times)),
            political_status=choice("political_status", i_pol),
            in_service_party_member=choice("in_service_party_member", i_isp),
            # The importer confirms on the import page that each volunteer agreed; an e-mail in the
            # file is the volunteer's optional information given with their consent (条例 Art. 7, 20).
            consent=True,
            extra_info_consent=bool(email),
            guardian_name=guardian_name,
            guardian_phone=text(i_gphone),
            guardian_consent=choice("guardian_consent", i_gok),
            gender=choice("gender", i_gender),
            birth_date=self._date(number, cells[i_birth] if i_birth is not None else None, flagged),
        )
        try:
            clean = volunteer_clean(data, today=self.today)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                col_key = FIELD_COLUMN.get(key, "name")
                if col_key not in flagged:
                    for message in messages:
                        self.error(number, col_key, message)
            return
        for value, first, more in (
            (clean.id_index, self.id_first, self.id_more),
            (clean.phone, self.phone_first, self.phone_more),
        ):
            seen = first.setdefault(value, number)
            if seen != number:
                more.setdefault(value, [seen]).append(number)
        if not self.errors:  # once anything is wrong nothing is written: stop keeping rows
            self.rows.append(_ready(number, clean))

    def _date(self, number: int, value, flagged: set[str]) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = re.sub(r"[年月/.]", "-", _text(value)).rstrip("日")
        for fmt in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.error(number, "birth_date", _("Write the date like 1990-05-17."))
        flagged.add("birth_date")
        return None

    def rows_with(self, id_index: str) -> list[int]:
        """Every row holding this ID number."""
        return self.id_more.get(id_index) or [self.id_first[id_index]]

    def duplicates(self) -> None:
        """Within the file (every row named), then against registered volunteers (in chunks)."""
        for key, more, message in (
            ("id_number", self.id_more, _("The same ID number is in rows %(rows)s.")),
            ("phone", self.phone_more, _("The same mobile number is in rows %(rows)s.")),
        ):
            for rows in more.values():
                listed = "、".join(str(r) for r in rows)
                for r in rows:
                    self.error(r, key, message % {"rows": listed})
        for index in _registered(list(self.id_first)):
            for r in self.rows_with(index):
                self.error(r, "id_number", _("A volunteer with this ID number is already registered."))


def _registered(indexes: list[str]) -> set[str]:
    """Which blind indexes are already in the database: one query per LOOKUP_CHUNK."""
    found: set[str] = set()
    for start in range(0, len(indexes), LOOKUP_CHUNK):
        chunk = indexes[start : start + LOOKUP_CHUNK]
        found.update(Volunteer.objects.filter(id_index__in=chunk).values_list("id_index", flat=True))
    return found


def _common_org(paths: Iterable[str]) -> Org | None:
    """The lowest node above all `paths`, so a summary audit event is scoped like its volunteers."""
    paths = list(paths)
    if not paths:
        return None
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[: -Org.steplen]
    prefix = prefix[: len(prefix) - len(prefix) % Org.steplen]
    return Org.objects.filter(path=prefix).first() if prefix else None


def _default_org(default_org_id: int | None, stations: _Stations) -> Org | None:
    if default_org_id in (None, ""):
        return None
    org = stations.by_id.get(int(default_org_id))
    if org is None:
        raise ServiceError(
            _("Choose a station you are allowed to register volunteers for."),
            code=CoreCode.INVALID,
            field="default_org",
        )
    return org
