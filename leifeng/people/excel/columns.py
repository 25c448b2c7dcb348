"""The spreadsheet's columns and words: headers, choice cells in fixed Chinese, the header aliases."""

import re
from dataclasses import dataclass

from django.utils import translation

from leifeng.core.idnumbers import Gender, IdType
from leifeng.people.models import (
    AvailableTime,
    PoliticalStatus,
)

DATA_SHEET = "志愿者"
HELP_SHEET = "填写说明"
LISTS_SHEET = "选项"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH_SIZE = 2000  # rows per INSERT; also the export's fetch size
LOOKUP_CHUNK = 5000  # blind indexes per "already registered?" query
TEMPLATE_ROWS = 5000  # rows the template's dropdowns cover
MAX_ROWS_DEFAULT = 200_000
# Zip bombs: what the workbook's members may unpack to, all together (their declared sizes, checked before any
# parsing; zipfile never reads past a declared size). A 10,000-row workbook written by openpyxl unpacks to about
# 6.4 MB (~640 bytes a row), so MAX_ROWS_DEFAULT rows are ~130 MB, and Excel's or WPS's richer XML well under
# 500 MB; a 600 KB file of zeros unpacking to gigabytes is refused. Settings may override IMPORT_MAX_UNPACKED_BYTES.
MAX_UNPACKED_BYTES_DEFAULT = 500 * 2**20
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
