"""Volunteers in and out of Excel: the import template, the all-or-nothing import and the export.

The spreadsheet speaks Chinese whatever the page language (a county office shares one template),
so headers and choice cells use the fixed Chinese words below; English headers and the English
labels or codes of choices are accepted on import too. Every row goes through
`people.services.volunteer_clean`, the same rules as the registration form and the API.

Import is two phases. First read + validate every row, writing nothing (large files are parsed by a
forked reader process beside validation). Then, only if no cell is wrong, one transaction allocates
the volunteer numbers in one block and inserts volunteers, skills and one audit row each in bulk
(COPY on PostgreSQL, bulk_create elsewhere); if the database still refuses (a registration raced
us), the transaction rolls back and the clash is reported by row. bench/bench_import.py measures it.
Export streams `volunteer_list` through openpyxl's write-only mode, so memory stays flat.
"""

import io
import itertools
import multiprocessing
import queue
import re
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pypinyin import lazy_pinyin

from leifeng.core import audit, crypto, scope
from leifeng.core.bulk import insert_rows, reserve_ids
from leifeng.core.errors import PermissionDenied, ServiceError
from leifeng.core.idnumbers import Gender, IdType, mask_id
from leifeng.core.models import AuditEvent
from leifeng.core.numbers import allocate
from leifeng.core.scope import Perm
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people.models import (
    AvailableTime,
    PoliticalStatus,
    RegistrationChannel,
    Skill,
    Volunteer,
    VolunteerStatus,
)
from leifeng.people.selectors import VolunteerFilters, volunteer_list
from leifeng.people.services import (
    NUMBER_SEQUENCE,
    CleanVolunteer,
    VolunteerInput,
    format_number,
    volunteer_clean,
)

DATA_SHEET = "志愿者"
HELP_SHEET = "填写说明"
LISTS_SHEET = "选项"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH_SIZE = 2000  # rows per INSERT; also the export's fetch size
LOOKUP_CHUNK = 5000  # blind indexes per "already registered?" query
TEMPLATE_ROWS = 5000  # rows the template's dropdowns cover
REGISTRABLE_LEVELS = (OrgLevel.STATION, OrgLevel.POINT, OrgLevel.SUBCENTER)  # as services._check_target_org
MAX_ROWS_DEFAULT = 200_000
PARALLEL_READ_BYTES = 2**20  # files from this size (about 20,000 rows) are parsed in a forked process


@dataclass(frozen=True)
class Column:
    key: str  # VolunteerInput field (or "org")
    header: str  # the Chinese header the template writes
    english: str  # the English header also accepted
    required: bool = False
    aliases: tuple[str, ...] = ()
    width: int = 14
    help: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", True, ("名字",), 10, "必填，最多 50 个字。"),
    Column("id_type", "证件类型", "ID type", False, ("证件类别",), 16, "下拉选择；不填按居民身份证处理。"),
    Column(
        "id_number",
        "证件号码",
        "ID number",
        True,
        ("身份证号", "身份证号码", "证件号", "身份证"),
        22,
        "必填。身份证为 18 位，校验位为 X 时填大写 X。请保持“文本”格式，否则 Excel 会丢掉后几位。",
    ),
    Column(
        "phone",
        "手机号码",
        "Mobile phone",
        True,
        ("手机号", "手机", "联系电话", "Phone", "Mobile"),
        14,
        "必填，11 位手机号，同一文件内不能重复。",
    ),
    Column(
        "org",
        "所属站点",
        "Station",
        False,
        ("站点", "所属站", "所属组织", "Organization"),
        18,
        "填您有权登记的站点名称；重名时写成“分中心/站点”。留空则用导入页面选择的默认站点。",
    ),
    Column("political_status", "政治面貌", "Political status", False, (), 14, "下拉选择；不填按群众处理。"),
    Column(
        "in_service_party_member", "在职党员", "In-service party member", False, (), 10, "是/否；只有党员可以填“是”。"
    ),
    Column(
        "skills",
        "技能",
        "Skills",
        False,
        ("特长", "技能特长"),
        20,
        "可填多项，用顿号“、”或逗号分隔，每项不超过 50 字。",
    ),
    Column("available_times", "服务时间", "Available time", False, ("可服务时间",), 20, "可填多项，用顿号分隔："),
    Column("email", "电子邮箱", "E-mail", False, ("邮箱", "Email"), 22, "选填；填写即表示志愿者同意保存此项。"),
    Column("guardian_name", "监护人姓名", "Guardian's name", False, ("Guardian name",), 12, "未满 18 周岁必填。"),
    Column(
        "guardian_phone",
        "监护人电话",
        "Guardian's phone",
        False,
        ("监护人手机", "Guardian phone"),
        14,
        "未满 18 周岁必填，11 位手机号。",
    ),
    Column(
        "guardian_consent",
        "监护人同意",
        "Guardian consent",
        False,
        ("Guardian's consent",),
        12,
        "未满 18 周岁须填“是”。",
    ),
    # Only for documents that do not carry them (passports, permits); a resident ID number decides these.
    Column("gender", "性别", "Gender", False, (), 8, "仅护照、通行证等证件填写：男/女。居民身份证按号码识别，不必填。"),
    Column("birth_date", "出生日期", "Birth date", False, ("出生年月日",), 12, "同上，例如 1990-05-17。"),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# volunteer_clean's error keys → the column that holds the value
FIELD_COLUMN = {
    "name": "name",
    "id_type": "id_type",
    "id_number": "id_number",
    "phone": "phone",
    "org_id": "org",
    "political_status": "political_status",
    "in_service_party_member": "in_service_party_member",
    "skills": "skills",
    "available_times": "available_times",
    "email": "email",
    "extra_info_consent": "email",
    "guardian_name": "guardian_name",
    "guardian_phone": "guardian_phone",
    "guardian_consent": "guardian_consent",
    "gender": "gender",
    "birth_date": "birth_date",
}
# Extra columns of the export (ignored on import, so an export re-imports).
EXPORT_EXTRA = ("志愿者编号", "状态", "登记渠道", "登记时间")

# The spreadsheet's fixed Chinese words for choices; anything not listed falls back to the zh-hans label.
ID_TYPE_ZH = {
    IdType.RIC: "居民身份证",
    IdType.HK_MACAO: "港澳居民来往内地通行证",
    IdType.TAIWAN: "台湾居民来往大陆通行证",
    IdType.PASSPORT: "护照",
    IdType.FOREIGN_PR: "外国人永久居留身份证",
}
POLITICAL_ZH = {
    PoliticalStatus.CPC_MEMBER: "中共党员",
    PoliticalStatus.CPC_PROBATIONARY: "中共预备党员",
    PoliticalStatus.LEAGUE_MEMBER: "共青团员",
    PoliticalStatus.DEMOCRATIC_PARTY: "民主党派成员",
    PoliticalStatus.MASSES: "群众",
}
GENDER_ZH = {Gender.MALE: "男", Gender.FEMALE: "女"}
TIME_ZH = {
    AvailableTime.WEEKDAY_DAYTIME: "工作日白天",
    AvailableTime.WEEKDAY_EVENING: "工作日晚上",
    AvailableTime.WEEKEND: "周末",
    AvailableTime.HOLIDAYS: "节假日",
    AvailableTime.ANYTIME: "随时",
}
ALIASES = {
    "身份证": IdType.RIC,
    "居民身份证号": IdType.RIC,
    "党员": PoliticalStatus.CPC_MEMBER,
    "中国共产党党员": PoliticalStatus.CPC_MEMBER,
    "预备党员": PoliticalStatus.CPC_PROBATIONARY,
    "团员": PoliticalStatus.LEAGUE_MEMBER,
    "民主党派": PoliticalStatus.DEMOCRATIC_PARTY,
    "普通群众": PoliticalStatus.MASSES,
    "双休日": AvailableTime.WEEKEND,
    "周末节假日": AvailableTime.WEEKEND,
    "任何时间": AvailableTime.ANYTIME,
    "不限": AvailableTime.ANYTIME,
}
YES = "是"
NO = "否"
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有", "同意"}
_FALSE = {"否", "n", "no", "false", "0", "无", "不", "不同意", "×", "-"}
_SPLIT = re.compile(r"[、,，;；/\n|]+")
_HEADER_JUNK = re.compile(r"[\s*＊'’_\-]|[（(]?(必填|选填)[)）]?")


def _zh(choices: type, fixed: dict) -> dict[str, str]:
    """value → Chinese word for the spreadsheet, for every member of a TextChoices."""
    out = {}
    with translation.override("zh-hans"):
        for value, label in choices.choices:
            out[value] = fixed.get(value) or str(label)
    return out


def _parser(choices: type, fixed: dict) -> dict[str, str]:
    """Normalised word → value: the Chinese word, the code, the English label, known aliases."""
    table = {}
    with translation.override("en"):
        for value, label in choices.choices:
            table[_norm(value)] = value
            table[_norm(str(label))] = value
    for value, word in _zh(choices, fixed).items():
        table[_norm(word)] = value
    for word, value in ALIASES.items():
        if value in choices.values:
            table[_norm(word)] = value
    return table


def _norm(text: str) -> str:
    return "".join(str(text).split()).lower()


def _header_key(text: str) -> str:
    return _HEADER_JUNK.sub("", str(text)).lower()


def _header_table() -> dict[str, str]:
    table = {}
    for c in COLUMNS:
        for name in (c.header, c.english, *c.aliases):
            table[_header_key(name)] = c.key
    return table


# ---------------------------------------------------------------------------------------------- template


def template_workbook(*, stations: Iterable[str] = ()) -> openpyxl.Workbook:
    """The import template: a data sheet with Chinese headers and dropdowns, and an instructions sheet.

    `stations` (names the downloading user may register into) fill the 所属站点 dropdown.
    """
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE2E2")
    optional_fill = PatternFill("solid", fgColor="EEEEEE")
    for i, c in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i, value=c.header)
        cell.font = bold
        cell.fill = required_fill if c.required else optional_fill
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = c.width
        if c.key in ("id_number", "phone", "guardian_phone"):
            # Text, so Excel neither rounds 18-digit numbers nor drops the X check digit.
            ws.column_dimensions[letter].number_format = "@"
    ws.freeze_panes = "A2"

    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    dropdowns = {
        "id_type": list(_zh(IdType, ID_TYPE_ZH).values()),
        "political_status": list(_zh(PoliticalStatus, POLITICAL_ZH).values()),
        "in_service_party_member": [YES, NO],
        "guardian_consent": [YES, NO],
        "org": list(dict.fromkeys(stations)),
        "gender": list(_zh(Gender, GENDER_ZH).values()),
    }
    for n, (key, words) in enumerate(dropdowns.items(), start=1):
        if not words:
            continue
        col = get_column_letter(n)
        for r, word in enumerate(words, start=1):
            lists.cell(row=r, column=n, value=word)
        c = COLUMN_BY_KEY[key]
        dv = DataValidation(
            type="list",
            formula1=f"'{LISTS_SHEET}'!${col}$1:${col}${len(words)}",
            allow_blank=True,
            showErrorMessage=key != "org",  # a station may be typed as 分中心/站点
            errorTitle=c.header,
            error="请从下拉列表中选择。",
        )
        letter = get_column_letter(COLUMNS.index(c) + 1)
        dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(dv)

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 80
    help_ws.append(["志愿者批量导入说明"])
    help_ws["A1"].font = Font(bold=True, size=14)
    for line in (
        f"在“{DATA_SHEET}”工作表中从第 2 行起每行填写一名志愿者，第 1 行的表头不要修改（列的顺序可以调整）。",
        "导入前请确认表中每位志愿者本人（未成年人还须监护人）已同意登记；证件号码加密保存、脱敏显示。",
        "只要有一行有错误，整个文件都不会导入；系统会列出出错的行号、列和原因，改正后重新上传即可。",
        "已登记的证件号码、同一文件内重复的证件号码或手机号码都会被列为错误。",
    ):
        help_ws.append([line])
    help_ws.append([])
    help_ws.append(["列", "是否必填", "说明"])
    for cell in help_ws[help_ws.max_row]:
        cell.font = bold
    times = "、".join(_zh(AvailableTime, TIME_ZH).values())
    for c in COLUMNS:
        text = c.help + (times if c.key == "available_times" else "")
        help_ws.append([c.header, "必填" if c.required else "选填", text])
    for row in help_ws.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    help_ws.append([])
    help_ws.append(["示例（仅供参考，请勿在此工作表填写）"])
    help_ws[help_ws.max_row][0].font = bold
    help_ws.append([c.header for c in COLUMNS])
    example_station = next(iter(stations), "东关社区站")
    help_ws.append(
        [
            "张三",
            ID_TYPE_ZH[IdType.RIC],
            "110105199003070025",
            "13800138000",
            example_station,
            POLITICAL_ZH[PoliticalStatus.CPC_MEMBER],
            YES,
            "理发、家电维修",
            f"{TIME_ZH[AvailableTime.WEEKEND]}、{TIME_ZH[AvailableTime.HOLIDAYS]}",
            "zhangsan@example.com",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return wb


# ------------------------------------------------------------------------------------------------ import


@dataclass(frozen=True)
class CellError:
    """One problem, located as Excel shows it: row 5001, column C (证件号码)."""

    row: int
    column: str  # letter, "" when the file has no such column
    header: str
    message: str

    @property
    def where(self) -> str:
        return f"{self.column}{self.row}" if self.column else str(self.row)


@dataclass
class ImportResult:
    rows: int = 0  # data rows read
    created: int = 0
    approved: int = 0
    errors: list[CellError] = field(default_factory=list)
    numbers: tuple[str, str] | None = None  # first and last volunteer number given
    timings: dict[str, float] = field(default_factory=dict)  # seconds: read_validate, write

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def pending(self) -> int:
        return self.created - self.approved


def _file_error(message: str, code: str) -> ServiceError:
    return ServiceError(message, code=code, field="file")


NOT_XLSX = gettext_lazy("This is not an Excel .xlsx file. Download the template and fill it in.")


def _check_file(file) -> int:
    """Size and content checks before any parsing (the name proves nothing). Returns the size."""
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, 2)
        size = file.tell()
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise _file_error(
            _("The file is %(size).1f MB; files up to %(limit).1f MB can be imported. Split it into several files.")
            % {"size": size / 2**20, "limit": limit / 2**20},
            "too_large",
        )
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(_("This is an old .xls workbook. Open it in Excel or WPS and save it as .xlsx."), "not_xlsx")
    if not head.startswith(b"PK\x03\x04"):
        raise _file_error(str(NOT_XLSX), "not_xlsx")
    try:
        with zipfile.ZipFile(file) as zf:
            # Zip bombs: a small upload must not unpack into gigabytes.
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_error(str(NOT_XLSX), "not_xlsx") from None
    file.seek(0)
    if unpacked > 40 * limit:
        raise _file_error(_("The workbook unpacks to more data than can be imported at once."), "too_large")
    return size


def _open_sheet(source):
    """openpyxl's read-only view of the data sheet (the one called 志愿者, else the first)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WPS extensions openpyxl does not know
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
    ws.reset_dimensions()  # some writers record a wrong size; read what is there
    return wb, ws


def _read_worker(data: bytes, out) -> None:
    """In the forked reader: parse every row and hand them over in chunks, each with the pinyin keys of
    names not seen before (the reader has time to spare; the writer then only looks them up).
    None ends the stream, a str reports a failure."""
    try:
        wb, ws = _open_sheet(io.BytesIO(data))
        rows = ws.iter_rows(values_only=True)
        head = list(itertools.islice(rows, 10))
        try:
            name_at = _find_header(iter(head), _header_table())[1].get("name")
        except ServiceError:
            name_at = None  # the parent reports the missing header
        seen: set[str] = set()

        def send(chunk: list[tuple]) -> None:
            new = {}
            if name_at is not None:
                for cells in chunk:
                    name = _text(cells[name_at]) if name_at < len(cells) else ""
                    if name and name not in seen:
                        seen.add(name)
                        new[name] = _pinyin_keys(name)
            out.put((chunk, new))

        chunk = []
        for cells in itertools.chain(head, rows):
            chunk.append(cells)
            if len(chunk) == BATCH_SIZE:
                send(chunk)
                chunk = []
        wb.close()
        if chunk:
            send(chunk)
        out.put(None)
    except Exception as exc:  # reported to the parent, which turns it into "not an .xlsx"
        out.put(f"{type(exc).__name__}: {exc}")


def _forked_rows(data: bytes, pinyin: dict[str, tuple[str, str]]) -> Iterator[tuple]:
    """Rows parsed by a forked process while this one validates them: on two cores the XML parsing
    (a third of an import's time) then runs beside validation instead of before it. The reader's
    pinyin keys land in `pinyin`."""
    ctx = multiprocessing.get_context("fork")
    channel = ctx.Queue(maxsize=8)  # back-pressure: at most 8 chunks wait in memory
    reader = ctx.Process(target=_read_worker, args=(data, channel), daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = channel.get(timeout=2)
            except queue.Empty:
                if not reader.is_alive():
                    raise _file_error(str(NOT_XLSX), "not_xlsx") from None
                continue
            if item is None:
                return
            if isinstance(item, str):
                raise _file_error(str(NOT_XLSX), "not_xlsx")
            chunk, keys = item
            pinyin.update(keys)
            yield from chunk
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        channel.close()


def _can_fork() -> bool:
    """Forking is only safe with no other threads (they may hold locks the child would inherit)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _sheet_rows(file, pinyin: dict[str, tuple[str, str]]) -> Iterator[tuple]:
    """Every row of the data sheet as a tuple of cell values, after the file checks."""
    size = _check_file(file)
    if size >= getattr(settings, "IMPORT_PARALLEL_READ_BYTES", PARALLEL_READ_BYTES) and _can_fork():
        yield from _forked_rows(file.read(), pinyin)
        return
    try:
        wb, ws = _open_sheet(file)
    except Exception:  # a zip that is not a workbook fails in many ways inside openpyxl
        raise _file_error(str(NOT_XLSX), "not_xlsx") from None
    try:
        yield from ws.iter_rows(values_only=True)
    except Exception:  # a damaged sheet part found mid-way
        raise _file_error(str(NOT_XLSX), "not_xlsx") from None
    finally:
        wb.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _find_header(rows: Iterator[tuple], table: dict[str, str]) -> tuple[int, dict[str, int], list[str]]:
    """The first of the top 10 rows that names at least two known columns (a title row may come first)."""
    for number, row in enumerate(rows, start=1):
        found: dict[str, int] = {}
        repeated: list[str] = []
        for i, cell in enumerate(row):
            key = table.get(_header_key(_text(cell))) if cell is not None else None
            if key is None:
                continue
            if key in found:
                repeated.append(_text(cell))
            found[key] = i
        if len(found) >= 2:
            return number, found, repeated
        if number >= 10:
            break
    raise _file_error(
        _("No header row found. The first row must hold the column names of the template, e.g. %(names)s.")
        % {"names": "、".join(c.header for c in COLUMNS if c.required)},
        "missing_header",
    )


class _Stations:
    """Station names the actor may register into (Perm.CHANGE scope), resolved once per distinct cell."""

    def __init__(self, actor):
        self.actor = actor
        orgs = list(
            org_policy.orgs(actor, Perm.CHANGE)
            .filter(level__in=REGISTRABLE_LEVELS)
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
            self._approve[org_id] = scope.allows(self.actor, Perm.APPROVE, self.by_id[org_id])
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
            _("Choose a station you are allowed to register volunteers for."), code="invalid", field="default_org"
        )
    return org


def volunteer_import(
    *, actor, file, consent_confirmed: bool, default_org_id: int | None = None, approve: bool = False
) -> ImportResult:
    """Import an .xlsx of volunteers, all or nothing.

    `consent_confirmed`: the importer vouches that every volunteer (and a minor's guardian) agreed to be
    registered (条例 Art. 7, 20); without it nothing is read. File-level problems (size, not a workbook,
    missing column) raise ServiceError; cell problems come back as `ImportResult.errors` (row, column,
    reason) and then nothing at all has been written.
    """
    if not scope.has_any(actor, Perm.CHANGE):
        raise PermissionDenied()
    if not consent_confirmed:
        raise ServiceError(
            _("Confirm that every volunteer in the file agreed to be registered."),
            code="consent_required",
            field="confirm",
        )
    started = time.perf_counter()
    stations = _Stations(actor)
    default_org = _default_org(default_org_id, stations)
    pinyin: dict[str, tuple[str, str]] = {}  # name → search keys, filled by the forked reader if any
    rows = _sheet_rows(file, pinyin)
    try:
        header_row, columns, repeated = _find_header(rows, _header_table())
        if repeated:
            raise _file_error(
                _("The column “%(name)s” appears more than once.") % {"name": repeated[0]}, "duplicate_header"
            )
        missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
        if missing:
            raise _file_error(
                _("The file has no column “%(names)s”. Use the column names of the template.")
                % {"names": "”、“".join(missing)},
                "missing_header",
            )
        validator = _Validator(columns=columns, stations=stations, default_org=default_org, today=timezone.localdate())
        max_rows = getattr(settings, "IMPORT_MAX_ROWS", MAX_ROWS_DEFAULT)
        count = 0
        for number, cells in enumerate(rows, start=header_row + 1):
            if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
                continue
            count += 1
            if count > max_rows:
                raise _file_error(
                    _("The file has more than %(max)d rows; split it into several files.") % {"max": max_rows},
                    "too_many_rows",
                )
            validator.add(number, cells)
    finally:
        rows.close()
    if count == 0:
        raise _file_error(_("The file has no volunteers in it (only the header row)."), "empty")
    validator.duplicates()
    result = ImportResult(rows=count)
    result.timings["read_validate"] = time.perf_counter() - started
    if validator.errors:
        order = {c.key: i for i, c in enumerate(COLUMNS)}
        header_of = {c.header: c.key for c in COLUMNS}
        result.errors = sorted(validator.errors, key=lambda e: (e.row, order[header_of[e.header]]))
        return result
    started = time.perf_counter()
    try:
        _write(actor, validator, result, approve=approve, file_name=getattr(file, "name", "") or "", pinyin=pinyin)
        result.timings["write"] = time.perf_counter() - started
    except IntegrityError:
        # A registration committed between our check and our insert; everything above rolled back.
        clash = _registered(list(validator.id_first))
        if not clash:
            raise ServiceError(
                _(
                    "The database refused the import (a conflicting change happened meanwhile). "
                    "Nothing was imported; try again."
                ),
                code="conflict",
                field="file",
            ) from None
        result.created = result.approved = 0
        result.numbers = None
        result.errors = [
            CellError(
                r,
                get_column_letter(columns["id_number"] + 1),
                COLUMN_BY_KEY["id_number"].header,
                _("A volunteer with this ID number is already registered."),
            )
            for index in clash
            for r in validator.rows_with(index)
        ]
        result.errors.sort(key=lambda e: e.row)
    return result


def _pinyin_keys(name: str) -> tuple[str, str]:
    """pinyin.keys in one pypinyin pass: an initial is the first letter of its syllable."""
    syllables = lazy_pinyin(name, errors="ignore")
    return "".join(syllables).lower()[:200], "".join(s[0] for s in syllables if s).lower()[:50]


class _VolunteerRows:
    """Column values of each new volunteer, in `attnames` order.

    The values are what services._build sets for the same input (test_excel holds the two equal),
    produced without a model instance per row and with pinyin worked out once per distinct name:
    at 100,000 rows those two costs are a large part of the import.
    """

    def __init__(self, *, now: datetime, pinyin: dict[str, tuple[str, str]] | None = None):
        fields = Volunteer._meta.concrete_fields
        self.attnames = tuple(f.attname for f in fields)
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.now = now
        self._pinyin = pinyin if pinyin is not None else {}  # name → (full, initials), computed once

    def values(self, r: _Ready, *, pk: int | None, number: str, status: str, reviewer_id) -> tuple:
        keys = self._pinyin.get(r.name)
        if keys is None:
            keys = self._pinyin[r.name] = _pinyin_keys(r.name)
        now = self.now
        approved = status == VolunteerStatus.APPROVED
        row = dict(self.defaults)
        row.update(
            id=pk,
            created_at=now,
            updated_at=now,
            number=number,
            channel=RegistrationChannel.IMPORT,
            consent_at=now,
            org_id=r.org_id,
            unit_id=r.unit_id,
            name=r.name,
            name_pinyin=keys[0],
            name_initials=keys[1],
            id_type=r.id_type,
            id_number_encrypted=crypto.encrypt(r.id_number),
            id_index=r.id_index,
            id_masked=mask_id(r.id_number),
            gender=r.gender,
            birth_date=r.birth_date,
            phone=r.phone,
            extra_info_consent=r.extra_info_consent,
            email=r.email,
            address=r.address,
            available_times=list(r.available_times),
            political_status=r.political_status,
            in_service_party_member=r.in_service_party_member,
            guardian_name=r.guardian_name,
            guardian_phone=r.guardian_phone,
            guardian_consent_at=now if r.guardian_phone else None,
            status=status,
            reviewed_at=now if approved else None,
            reviewed_by_id=reviewer_id if approved else None,
        )
        return tuple(row[a] for a in self.attnames)


def _skill_ids(names: list[str]) -> dict[str, int]:
    """Skill name → id, creating the names nobody has used yet (two or three queries in all)."""
    if not names:
        return {}
    found = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Skill(name=n) for n in names if n not in found]
    if missing:
        Skill.objects.bulk_create(missing, ignore_conflicts=True)
        found = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    return found


AUDIT_COLUMNS = (
    "created_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "org_id",
    "changes",
    "note",
)


class _Lap:
    """Seconds per step of the write, into ImportResult.timings (the benchmark prints them)."""

    def __init__(self, into: dict[str, float]):
        self.into = into
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = now - self.last
        self.last = now


def _write(
    actor, validator: _Validator, result: ImportResult, *, approve: bool, file_name: str, pinyin: dict | None = None
) -> None:
    """One transaction: a block of numbers, then volunteers, skills and one audit row each, in bulk."""
    rows = validator.rows
    stations = validator.stations
    now = timezone.now()
    builder = _VolunteerRows(now=now, pinyin=pinyin)
    statuses = [
        VolunteerStatus.APPROVED if approve and stations.may_approve(r.org_id) else VolunteerStatus.PENDING
        for r in rows
    ]
    lap = _Lap(result.timings)
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgres:
            # Check foreign keys row by row while COPY streams (alongside Python building the next rows)
            # rather than all at COMMIT, when nothing else is left to overlap with.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        block = allocate(NUMBER_SEQUENCE, len(rows))
        numbers = [format_number(seq) for seq in block]
        skill_ids = _skill_ids(sorted({s for r in rows for s in r.skills}))
        ids = reserve_ids(Volunteer, len(rows)) if postgres else [None] * len(rows)
        built = (
            builder.values(r, pk=pk, number=number, status=status, reviewer_id=actor.pk)
            for r, pk, number, status in zip(rows, ids, numbers, statuses, strict=True)
        )
        ids = insert_rows(Volunteer, builder.attnames, built, batch_size=BATCH_SIZE) or ids
        lap("write_volunteers")
        insert_rows(
            Volunteer.skills.through,
            ("volunteer_id", "skill_id"),
            ((pk, skill_ids[s]) for pk, r in zip(ids, rows, strict=True) for s in r.skills),
        )
        lap("write_skills")
        note = file_name[:500]
        insert_rows(
            AuditEvent,
            AUDIT_COLUMNS,
            (
                (
                    now,
                    actor.pk,
                    "volunteer.import",
                    "people.volunteer",
                    str(pk),
                    f"{r.name} ({number})"[:200],
                    r.org_id,
                    {"channel": RegistrationChannel.IMPORT.value, "status": status, "row": r.row},
                    note,
                )
                for pk, r, number, status in zip(ids, rows, numbers, statuses, strict=True)
            ),
        )
        approved = statuses.count(VolunteerStatus.APPROVED)
        first, last = numbers[0], numbers[-1]
        org_ids = {r.org_id for r in rows}
        audit.record(
            actor=actor,
            action="volunteer.import_file",
            object_type="people.volunteer",
            object_repr=f"{first}–{last}",
            org=_common_org(stations.by_id[i].path for i in org_ids),
            changes={"file": file_name, "created": len(rows), "approved": approved, "first": first, "last": last},
        )
        lap("write_audit")
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again, for an outer transaction
    lap("commit")
    result.created = len(rows)
    result.approved = approved
    result.numbers = (first, last)


def error_report_workbook(errors: list[CellError]) -> openpyxl.Workbook:
    """The error list as a workbook to hand back to whoever filled the file in."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("错误")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 14
    ws.column_dimensions["D"].width = 80
    ws.append(["行", "列", "列名", "原因"])
    for e in errors:
        ws.append([e.row, e.column, e.header, e.message])
    return wb


# ------------------------------------------------------------------------------------------------ export


@dataclass
class ExportResult:
    file: object  # a binary temporary file, at position 0; the caller closes it (FileResponse does)
    count: int
    unmasked: bool


def _station_labels() -> dict[int, str]:
    """Org id → 'parent/name' for stations whose name is not unique, so an export re-imports unambiguously."""
    dup_names = list(
        Org.objects.values("name").annotate(n=Count("id")).filter(n__gt=1).values_list("name", flat=True).order_by()
    )
    if not dup_names:
        return {}
    orgs = list(Org.objects.filter(name__in=dup_names).values_list("id", "name", "path"))
    parents = dict(
        Org.objects.filter(path__in={p[: -Org.steplen] for _, _, p in orgs if len(p) > Org.steplen})
        .values_list("path", "name")
        .order_by()
    )
    return {i: f"{parents[p[: -Org.steplen]]}/{n}" if p[: -Org.steplen] in parents else n for i, n, p in orgs}


def volunteer_export(*, actor, filters: VolunteerFilters | None = None, unmasked: bool = False) -> ExportResult:
    """`volunteer_list` as an .xlsx in the import template's columns (plus number, status, dates).

    ID numbers are masked unless `unmasked` and the actor holds Perm.VIEW_ID over *every* exported
    volunteer; otherwise the export is refused rather than silently mixing masked and full numbers.
    An unmasked export is audited with its count (every unmasked read is recorded).
    """
    filters = filters or VolunteerFilters()
    qs = volunteer_list(actor=actor, filters=filters)
    if unmasked and (not scope.has_any(actor, Perm.VIEW_ID) or qs.exclude(scope.q(actor, Perm.VIEW_ID)).exists()):
        raise PermissionDenied(
            _(
                "Full ID numbers are only exported for stations where you may see them; "
                "narrow the list or export it masked."
            )
        )
    labels = _station_labels()
    id_types = _zh(IdType, ID_TYPE_ZH)
    political = _zh(PoliticalStatus, POLITICAL_ZH)
    times = _zh(AvailableTime, TIME_ZH)
    genders = _zh(Gender, GENDER_ZH)
    statuses = {value: str(label) for value, label in VolunteerStatus.choices}
    channels = {value: str(label) for value, label in RegistrationChannel.choices}
    tz = timezone.get_current_timezone()
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    for i, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.append([c.header for c in COLUMNS] + list(EXPORT_EXTRA))
    count = 0
    org_paths: set[str] = set()
    skills = Prefetch("skills", queryset=Skill.objects.only("id", "name"), to_attr="skill_list")
    for v in qs.prefetch_related(skills).iterator(chunk_size=BATCH_SIZE):
        count += 1
        org_paths.add(v.org.path)
        ws.append(
            [
                v.name,
                id_types.get(v.id_type, v.id_type),
                crypto.decrypt(v.id_number_encrypted) if unmasked else v.id_masked,
                v.phone,
                labels.get(v.org_id, v.org.name),
                political.get(v.political_status, v.political_status),
                YES if v.in_service_party_member else NO,
                "、".join(s.name for s in v.skill_list) or None,  # None: an empty cell costs less than ""
                "、".join(times.get(t, t) for t in v.available_times) or None,
                v.email or None,
                v.guardian_name or None,
                v.guardian_phone or None,
                YES if v.guardian_consent_at else None,
                genders.get(v.gender, v.gender) or None,
                v.birth_date,
                v.number,
                statuses.get(v.status, v.status),
                channels.get(v.channel, v.channel),
                timezone.localtime(v.created_at, tz).replace(tzinfo=None),
            ]
        )
    out = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the caller (FileResponse closes it)
    wb.save(out)
    out.seek(0)
    audit.record(
        actor=actor,
        action="volunteer.export_unmasked" if unmasked else "volunteer.export",
        object_type="people.volunteer",
        org=_common_org(org_paths),
        changes={
            "count": count,
            "unmasked": unmasked,
            "filters": {k: v for k, v in vars(filters).items() if v not in ("", None)},
        },
    )
    return ExportResult(file=out, count=count, unmasked=unmasked)
