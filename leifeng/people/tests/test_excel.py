"""Excel import/export services (people/excel.py): all-or-nothing, located errors, masked exports.

The helpers at the top build spreadsheets; test_excel_views.py imports them.
"""

import io
import zipfile
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from stdnum.cn import ric as stdnum_ric

from leifeng.accounts.models import Role
from leifeng.core import crypto
from leifeng.core.errors import PermissionDenied, ServiceError
from leifeng.core.idnumbers import make_ric
from leifeng.core.models import AuditEvent, NumberSequence
from leifeng.orgs.models import OrgLevel
from leifeng.people import excel, services
from leifeng.people.models import RegistrationChannel, Volunteer, VolunteerStatus
from leifeng.people.selectors import VolunteerFilters
from leifeng.people.services import VolunteerInput
from leifeng.testing import VolunteerFactory, add_child, grant, make_user

HEADERS = [
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "所属站点",
    "政治面貌",
    "在职党员",
    "技能",
    "服务时间",
    "电子邮箱",
    "监护人姓名",
    "监护人电话",
    "监护人同意",
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴刚", "欧阳娜娜", "司马光"]


def ric(i: int, birth: date | None = None) -> str:
    """The i-th fictitious resident ID number (adults born from 1970 on, 1,000 per birth date)."""
    return make_ric("110105", birth or date(1970, 1, 1) + timedelta(days=i // 1000), i)


def wrong_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def row(i: int, station: str = "东关社区站", **over) -> list:
    """One valid data row, in template column order; `over` replaces cells by header."""
    values = {
        "姓名": NAMES[i % len(NAMES)],
        "证件类型": "居民身份证",
        "证件号码": ric(i),
        "手机号码": f"139{i:08d}",
        "所属站点": station,
        "政治面貌": "中共党员" if i % 3 == 0 else "群众",
        "在职党员": "是" if i % 6 == 0 else "否",
        "技能": "理发、家电维修" if i % 2 == 0 else "",
        "服务时间": "周末、节假日" if i % 2 == 0 else "",
        "电子邮箱": "",
        "监护人姓名": "",
        "监护人电话": "",
        "监护人同意": "",
    }
    values.update(over)
    return [values[h] for h in HEADERS]


def xlsx(rows: list[list], headers: list[str] | None = HEADERS, sheet: str = "志愿者") -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    if headers is not None:
        ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(data: bytes, name: str = "volunteers.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=excel.XLSX_CONTENT_TYPE)


def read_rows(data: bytes, sheet: str | None = None) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    out = list(ws.iter_rows(values_only=True))
    wb.close()
    return out


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, the source language (the catalog may translate them)."""
    with translation.override("en"):
        yield


def do_import(actor, rows, **kwargs) -> excel.ImportResult:
    data = rows if isinstance(rows, bytes) else xlsx(rows)
    kwargs.setdefault("consent_confirmed", True)
    return excel.volunteer_import(actor=actor, file=upload(data), **kwargs)


def messages_at(result: excel.ImportResult, row_number: int) -> list[str]:
    return [f"{e.column}|{e.header}|{e.message}" for e in result.errors if e.row == row_number]


# ------------------------------------------------------------------------------------------- template


def test_template_has_chinese_headers_dropdowns_and_an_instructions_sheet(tree):
    buf = io.BytesIO()
    excel.template_workbook(stations=["东关社区站", "西街社区站"]).save(buf)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames[0] == "志愿者" and "填写说明" in wb.sheetnames
    ws = wb["志愿者"]
    assert [c.value for c in ws[1]] == [*HEADERS, "性别", "出生日期"]
    assert ws.max_row == 1  # no example on the data sheet
    dropdowns = {str(dv.sqref)[0] for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert dropdowns == {"B", "E", "F", "G", "M", "N"}  # 证件类型, 所属站点, 政治面貌, 在职党员, 监护人同意, 性别
    hidden = wb["选项"]
    assert "居民身份证" in [c.value for c in hidden["A"]]
    assert [c.value for c in hidden["E"] if c.value] == ["东关社区站", "西街社区站"]
    help_rows = [tuple(c.value for c in r) for r in wb["填写说明"].iter_rows()]
    example = help_rows[-1]
    assert example[0] == "张三" and stdnum_ric.is_valid(example[2])


def test_filled_template_imports(tree, owner):
    wb = excel.template_workbook(stations=["东关社区站"])
    ws = wb["志愿者"]
    ws.append(row(1, 电子邮箱="a@example.com", 服务时间="周末、工作日晚上", 技能="理发"))
    ws.append(row(2, 所属站点="", 证件类型="", 政治面貌=""))
    buf = io.BytesIO()
    wb.save(buf)

    result = do_import(owner, buf.getvalue(), default_org_id=tree.st_a1.pk)

    assert result.ok, result.errors
    assert result.created == 2
    first = Volunteer.objects.get(phone="13900000001")
    assert first.org == tree.st_a1 and first.email == "a@example.com" and first.extra_info_consent
    assert first.available_times == ["weekend", "weekday_evening"]
    assert [s.name for s in first.skills.all()] == ["理发"]
    assert first.channel == RegistrationChannel.IMPORT and first.status == VolunteerStatus.PENDING
    second = Volunteer.objects.get(phone="13900000002")
    assert second.political_status == "masses" and second.id_type == "ric"


# ------------------------------------------------------------------------------------ 10,000 rows


@pytest.fixture(scope="module")
def big_files():
    """10,000 rows; the bad copy has a wrong check digit at row 5,001 (data row 5,000)."""
    rows = [row(i) for i in range(10_000)]
    good = xlsx(rows)
    rows[4999][2] = wrong_check_digit(rows[4999][2])
    return xlsx(rows), good


def test_ten_thousand_rows_with_one_bad_row_import_nothing(tree, owner, big_files):
    bad, _good = big_files
    seq_before = NumberSequence.objects.filter(name="volunteer").values_list("last", flat=True).first()

    result = do_import(owner, bad)

    assert result.rows == 10_000 and result.created == 0
    assert [(e.row, e.column, e.header) for e in result.errors] == [(5001, "C", "证件号码")]
    assert "check digit" in result.errors[0].message or "校验" in result.errors[0].message
    assert Volunteer.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="volunteer.import").count() == 0
    assert NumberSequence.objects.filter(name="volunteer").values_list("last", flat=True).first() == seq_before


def test_fixed_ten_thousand_rows_import_all(tree, owner, big_files, settings):
    _bad, good = big_files
    settings.IMPORT_PARALLEL_READ_BYTES = 0  # parsed by the forked reader (the bad file above: in-process)

    result = do_import(owner, good, approve=True)

    assert result.ok and result.created == 10_000 and result.approved == 10_000
    assert Volunteer.objects.count() == 10_000
    assert Volunteer.objects.values("number").distinct().count() == 10_000
    assert Volunteer.objects.filter(org=tree.st_a1, status=VolunteerStatus.APPROVED).count() == 10_000
    v = Volunteer.objects.get(phone="13900005000")
    assert ric(5000) not in v.id_number_encrypted and crypto.decrypt(v.id_number_encrypted) == ric(5000)
    assert v.id_masked == ric(5000)[:6] + "********" + ric(5000)[-4:]
    assert v.reviewed_by == owner
    assert {s.name for s in v.skills.all()} == {"理发", "家电维修"}  # row 5000 is even
    assert Volunteer.skills.through.objects.count() == 10_000  # 5,000 even rows × 2 skills
    assert AuditEvent.objects.filter(action="volunteer.import").count() == 10_000
    summary = AuditEvent.objects.get(action="volunteer.import_file")
    assert summary.changes["created"] == 10_000 and summary.org_id == tree.st_a1.pk


# ------------------------------------------------------------------------------------- duplicates


def test_duplicate_id_and_phone_within_the_file_name_both_rows(tree, owner):
    rows = [row(1), row(2, 证件号码=ric(1)), row(3, 手机号码="13900000001"), row(4)]

    result = do_import(owner, rows)

    assert Volunteer.objects.count() == 0
    assert messages_at(result, 2) == [
        "C|证件号码|The same ID number is in rows 2、3.",
        "D|手机号码|The same mobile number is in rows 2、4.",
    ]
    assert messages_at(result, 3) == ["C|证件号码|The same ID number is in rows 2、3."]
    assert messages_at(result, 4) == ["D|手机号码|The same mobile number is in rows 2、4."]
    assert messages_at(result, 5) == []


def test_already_registered_is_reported(tree, owner, outsider):
    VolunteerFactory(org=tree.st_b1, ric=ric(7))  # registered elsewhere, out of the owner's sight

    result = do_import(owner, [row(6), row(7)])

    assert result.created == 0
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "C", "A volunteer with this ID number is already registered.")
    ]


def test_a_registration_that_races_the_import_rolls_everything_back(tree, owner, monkeypatch):
    """The unique index refuses the insert; nothing is kept and the clashing row is named."""
    real = excel._registered
    calls = []

    def checked_before_the_race(indexes):
        calls.append(1)
        if len(calls) == 1:  # our check ran, then someone registers row 3's person
            VolunteerFactory(org=tree.st_a2, ric=ric(2))
            return set()
        return real(indexes)

    monkeypatch.setattr(excel.validate, "_registered", checked_before_the_race)

    result = do_import(owner, [row(1), row(2), row(3)])

    assert [(e.row, e.column) for e in result.errors] == [(3, "C")]
    assert result.created == 0
    assert Volunteer.objects.count() == 1  # only the racing registration
    assert not AuditEvent.objects.filter(action__startswith="volunteer.import").exists()


def test_a_refusal_it_cannot_explain_still_keeps_nothing(tree, owner, monkeypatch):
    real_allocate = excel.write.allocate

    def allocate_then_clash(name, count):
        block = real_allocate(name, count)
        VolunteerFactory(org=tree.st_a2, number=excel.format_number(block[0]))  # number taken meanwhile
        return block

    monkeypatch.setattr(excel.write, "allocate", allocate_then_clash)

    with pytest.raises(ServiceError) as exc:
        do_import(owner, [row(1), row(2)])

    assert exc.value.code == "conflict"
    assert Volunteer.objects.count() == 0


# ---------------------------------------------------------------------------------------- stations


def test_unknown_and_out_of_scope_stations_are_refused_alike(tree, owner):
    result = do_import(owner, [row(1, station="东关社区站"), row(2, station="火星站"), row(3, station="北村站")])

    assert result.created == 0
    assert [(e.row, e.column, e.header) for e in result.errors] == [(3, "E", "所属站点"), (4, "E", "所属站点")]
    assert "火星站" in result.errors[0].message and "北村站" in result.errors[1].message
    assert result.errors[0].message.replace("火星站", "X") == result.errors[1].message.replace("北村站", "X")


def test_ambiguous_station_needs_the_sub_center(tree, center_admin):
    add_child(tree.sub_b, "东关社区站", OrgLevel.STATION)  # the same name under another sub-center

    result = do_import(center_admin, [row(1, station="东关社区站")])
    assert [e.header for e in result.errors] == ["所属站点"]
    assert "sub-center/station" in result.errors[0].message

    result = do_import(center_admin, [row(1, station="长安街道分中心/东关社区站")])
    assert result.ok and Volunteer.objects.get().org == tree.st_a1


def test_default_station_is_used_for_empty_cells_and_must_be_in_scope(tree, owner):
    with pytest.raises(ServiceError) as exc:
        do_import(owner, [row(1, station="")], default_org_id=tree.st_b1.pk)
    assert exc.value.field == "default_org"

    result = do_import(owner, [row(1, station="")])
    assert [(e.row, e.header) for e in result.errors] == [(2, "所属站点")]

    result = do_import(owner, [row(1, station="")], default_org_id=tree.st_a1.pk)
    assert result.ok and Volunteer.objects.get().org == tree.st_a1


def test_import_rows_hold_what_registration_would_store(tree):
    """The import writes column values itself (speed); they must equal services._build's, field by field."""
    now = timezone.now()
    fifteen = date.today().replace(year=date.today().year - 15) - timedelta(days=1)
    inputs = [
        VolunteerInput(
            name="欧阳娜娜",
            id_number=ric(1),
            phone="13900000001",
            org_id=tree.st_a1.pk,
            consent=True,
            email="a@example.com",
            extra_info_consent=True,
            skills=["理发"],
            available_times=["weekend", "holidays"],
            political_status="cpc",
            in_service_party_member=True,
        ),
        VolunteerInput(
            name="小明",
            id_number=ric(2, birth=fifteen),
            phone="13900000002",
            org_id=tree.st_a2.pk,
            consent=True,
            guardian_name="王芳",
            guardian_phone="13900000003",
            guardian_consent=True,
        ),
        VolunteerInput(
            name="John 李",
            id_type="passport",
            id_number="E1234567",
            phone="13900000004",
            org_id=1,
            consent=True,
            birth_date=date(1980, 2, 29),
            gender="m",
        ),
    ]
    builder = excel._VolunteerRows(now=now)
    for data in inputs:
        clean = services.volunteer_clean(data)
        expected = services._build(clean, number="LF000000001", channel=RegistrationChannel.IMPORT, now=now)
        ready = excel._ready(2, clean)
        values = builder.values(ready, pk=None, number="LF000000001", status=expected.status, reviewer_id=None)
        got = dict(zip(builder.attnames, values, strict=True))
        for attname in builder.attnames:
            if attname in ("id", "created_at", "updated_at"):
                continue
            if attname == "id_number_encrypted":
                assert crypto.decrypt(got[attname]) == crypto.decrypt(expected.id_number_encrypted)
            else:
                assert got[attname] == getattr(expected, attname), attname


# ------------------------------------------------------------------------------------------- cells


def test_passport_rows_give_gender_and_birth_date(tree, owner):
    extra = [*HEADERS, "性别", "出生日期"]
    rows = [
        [*row(1, 证件类型="护照", 证件号码="E12345678"), "女", date(1988, 8, 8)],
        [*row(2, 证件类型="护照", 证件号码="E22345678"), "", ""],
        [*row(3, 证件类型="护照", 证件号码="E32345678"), "女", "1988年8月"],
    ]

    result = do_import(owner, xlsx(rows, headers=extra))

    assert [(e.row, e.header) for e in result.errors] == [(3, "性别"), (3, "出生日期"), (4, "出生日期")]
    result = do_import(owner, xlsx(rows[:1], headers=extra))
    v = Volunteer.objects.get()
    assert (v.id_type, v.gender, v.birth_date, v.id_masked) == ("passport", "f", date(1988, 8, 8), "E******78")


def test_each_bad_cell_is_named_once(tree, owner):
    minor = ric(9, birth=date.today().replace(year=date.today().year - 15) - timedelta(days=1))
    rows = [
        row(1, 姓名=""),
        row(2, 手机号码="12345"),
        row(3, 政治面貌="党员候选人"),
        row(4, 在职党员="是"),  # row 4 is 群众
        row(5, 服务时间="周末、每天"),
        row(6, 证件号码=minor),
        row(7, 证件号码="110105********0021"),
        row(8, 电子邮箱="not-an-address"),
    ]

    result = do_import(owner, rows)

    where = [(e.row, e.column) for e in result.errors]
    assert where == [(2, "A"), (3, "D"), (4, "F"), (5, "G"), (6, "I"), (7, "K"), (7, "L"), (7, "M"), (8, "C"), (9, "J")]
    assert "每天" in result.errors[4].message
    assert "masked" in result.errors[8].message


def test_id_number_typed_as_a_number_is_explained(tree, owner):
    result = do_import(owner, [row(1, 证件号码=110105197001010011, 手机号码=13900000001)])
    assert [(e.row, e.column) for e in result.errors] == [(2, "C")]
    assert "text" in result.errors[0].message


def test_english_headers_any_order_and_a_title_row(tree, owner):
    english = ["Mobile phone", "Name", "ID number", "Station", "Skills"]
    data = xlsx(
        [["志愿者名单（2026 年 3 月）"], english, ["13900000001", "王芳", ric(1), "东关社区站", "理发"]], headers=None
    )

    result = do_import(owner, data)

    assert result.ok, result.errors
    assert Volunteer.objects.get().name == "王芳"


def test_missing_required_header_is_named(tree, owner):
    headers = [h for h in HEADERS if h != "手机号码"]
    data = xlsx([[c for h, c in zip(HEADERS, row(1), strict=True) if h != "手机号码"]], headers=headers)

    with pytest.raises(ServiceError) as exc:
        do_import(owner, data)

    assert exc.value.code == "missing_header" and "手机号码" in exc.value.message


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"name,phone\n", "not_xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not_xlsx"),  # old .xls
        (None, "not_xlsx"),  # a zip that is not a workbook
    ],
)
def test_non_xlsx_content_is_refused_whatever_its_name(tree, owner, content, code):
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("hello.txt", "hi")
        content = buf.getvalue()
    with pytest.raises(ServiceError) as exc:
        excel.volunteer_import(actor=owner, file=upload(content, "volunteers.xlsx"), consent_confirmed=True)
    assert exc.value.code == code and exc.value.field == "file"


def test_forked_reader_gives_the_same_rows_and_errors(tree, owner, settings):
    rows = [row(1), row(2, 手机号码="123"), row(3)]
    inline = do_import(owner, rows)
    settings.IMPORT_PARALLEL_READ_BYTES = 0

    forked = do_import(owner, rows)

    assert forked.errors == inline.errors and [e.row for e in forked.errors] == [3]
    assert do_import(owner, [row(1), row(3)]).created == 2


def test_forked_reader_reports_a_damaged_workbook(tree, owner, settings):
    settings.IMPORT_PARALLEL_READ_BYTES = 0
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ServiceError) as exc:
        excel.volunteer_import(actor=owner, file=upload(buf.getvalue()), consent_confirmed=True)
    assert exc.value.code == "not_xlsx"


def test_size_limit(tree, owner, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(ServiceError) as exc:
        do_import(owner, [row(i) for i in range(50)])
    assert exc.value.code == "too_large"


def _bomb_workbook(unpacked: int) -> bytes:
    """A real workbook plus one member of zeros that unpacks to `unpacked` bytes (a few hundred KB on the wire)."""
    buf = io.BytesIO(xlsx([row(1)]))
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/zeros.bin", "w") as f:
        block = b"\0" * 2**20
        for _ in range(unpacked // 2**20):
            f.write(block)
    return buf.getvalue()


def test_a_zip_bomb_like_workbook_is_refused_before_parsing(tree, owner):
    data = _bomb_workbook(600 * 2**20)
    assert len(data) < 2 * 2**20  # well under IMPORT_MAX_BYTES: only the unpacked size can catch it

    with pytest.raises(ServiceError) as exc:
        do_import(owner, data)

    assert exc.value.code == "too_large" and exc.value.field == "file"
    assert "unpacks to 600 MB" in exc.value.message and "at most 500 MB" in exc.value.message
    assert Volunteer.objects.count() == 0


def test_the_unpacked_cap_leaves_room_for_a_hundred_thousand_rows(big_files):
    """10,000 rows unpack to ~6.4 MB: 100,000 rows (and MAX_ROWS_DEFAULT's 200,000, thrice as verbose) fit."""
    from leifeng.people.excel.columns import MAX_ROWS_DEFAULT, MAX_UNPACKED_BYTES_DEFAULT

    with zipfile.ZipFile(io.BytesIO(big_files[1])) as zf:
        ten_thousand = sum(i.file_size for i in zf.infolist())
    assert 3 * ten_thousand * MAX_ROWS_DEFAULT // 10_000 < MAX_UNPACKED_BYTES_DEFAULT <= 500 * 2**20


def test_approve_only_where_the_actor_may(tree, owner, monkeypatch):
    from leifeng.core import scope

    staff_without_approval = dict(scope.ROLE_PERMS)
    staff_without_approval[Role.ORG_STAFF] = scope.ROLE_PERMS[Role.ORG_STAFF] - {scope.Perm.APPROVE}
    monkeypatch.setattr(scope, "ROLE_PERMS", staff_without_approval)
    grant(owner, Role.ORG_STAFF, tree.sub_a)  # CHANGE over the sub-center, APPROVE only at st_a1

    result = do_import(owner, [row(1), row(2, station="西街社区站")], approve=True)

    assert result.created == 2 and result.approved == 1
    assert Volunteer.objects.get(org=tree.st_a1).status == VolunteerStatus.APPROVED
    assert Volunteer.objects.get(org=tree.st_a2).status == VolunteerStatus.PENDING


def test_without_change_anywhere_import_is_refused(tree, assessor):
    with pytest.raises(PermissionDenied):
        do_import(assessor, [row(1)])


def test_import_without_the_consent_confirmation_is_refused_by_the_service(tree, owner):
    with pytest.raises(ServiceError) as exc:
        do_import(owner, [row(1)], consent_confirmed=False)
    assert exc.value.code == "consent_required" and exc.value.field == "confirm"
    assert Volunteer.objects.count() == 0


# -------------------------------------------------------------------------------------------- export


def test_export_is_masked_by_default(tree, owner):
    VolunteerFactory(org=tree.st_a1, ric=ric(1), name="王芳")
    VolunteerFactory(org=tree.st_b1, ric=ric(2))  # another subtree: not exported

    result = excel.volunteer_export(actor=owner, filters=VolunteerFilters())

    rows = read_rows(result.file.read())
    assert rows[0][: len(HEADERS)] == tuple(HEADERS)
    assert len(rows) == 2 and rows[1][0] == "王芳"
    assert rows[1][2] == ric(1)[:6] + "********" + ric(1)[-4:]
    assert AuditEvent.objects.filter(action="volunteer.export_unmasked").count() == 0


def test_unmasked_export_needs_view_id_over_every_row_and_is_audited(tree, owner, assessor):
    VolunteerFactory(org=tree.st_a1, ric=ric(1))
    VolunteerFactory(org=tree.st_a2, ric=ric(2))

    with pytest.raises(PermissionDenied):
        excel.volunteer_export(actor=assessor, filters=VolunteerFilters(), unmasked=True)
    grant(assessor, Role.ORG_STAFF, tree.st_a1)  # full IDs at st_a1 only, sees the whole sub-center
    with pytest.raises(PermissionDenied):
        excel.volunteer_export(actor=assessor, filters=VolunteerFilters(), unmasked=True)

    result = excel.volunteer_export(actor=assessor, filters=VolunteerFilters(org_id=tree.st_a1.pk), unmasked=True)

    rows = read_rows(result.file.read())
    assert [r[2] for r in rows[1:]] == [ric(1)]
    event = AuditEvent.objects.get(action="volunteer.export_unmasked")
    assert event.actor == assessor and event.changes["count"] == 1 and event.org_id == tree.st_a1.pk


def test_export_reimports_elsewhere(tree, owner, center_admin):
    do_import(owner, [row(1, 电子邮箱="a@example.com"), row(2), row(3, 在职党员="否")], approve=True)
    before = {v.phone: v for v in Volunteer.objects.prefetch_related("skills")}
    exported = excel.volunteer_export(actor=owner, filters=VolunteerFilters(), unmasked=True).file.read()
    Volunteer.objects.all().delete()  # "elsewhere": a fresh installation

    result = do_import(center_admin, exported)

    assert result.ok, result.errors
    after = {v.phone: v for v in Volunteer.objects.prefetch_related("skills")}
    assert set(after) == set(before)
    for phone, v in after.items():
        old = before[phone]
        assert (v.name, v.id_index, v.org_id, v.political_status, v.in_service_party_member, v.email) == (
            old.name,
            old.id_index,
            old.org_id,
            old.political_status,
            old.in_service_party_member,
            old.email,
        )
        assert v.available_times == old.available_times
        assert {s.name for s in v.skills.all()} == {s.name for s in old.skills.all()}


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","点我")', "=cmd|' /C calc'!A0", "+1+2", "@SUM(A1)"])
def test_export_writes_a_formula_like_name_as_text(tree, owner, name):
    VolunteerFactory(org=tree.st_a1, ric=ric(1), name=name)

    data = excel.volunteer_export(actor=owner, filters=VolunteerFilters()).file.read()

    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["A2"].value == name and ws["A2"].data_type == "s"
    assert {c.data_type for r in ws.iter_rows() for c in r} <= {"s", "n", "d"}  # no formula anywhere


def test_template_and_error_report_write_formula_like_texts_as_text(tree):
    buf = io.BytesIO()
    excel.template_workbook(stations=['=HYPERLINK("http://x")']).save(buf)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    cells = [c for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value is not None]
    assert '=HYPERLINK("http://x")' in [c.value for c in cells]
    assert {c.data_type for c in cells} <= {"s", "n", "d"}

    buf = io.BytesIO()
    excel.error_report_workbook([excel.CellError(2, "A", "姓名", "=cmd|' /C calc'!A0")]).save(buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).worksheets[0]
    assert ws["D2"].value == "=cmd|' /C calc'!A0" and ws["D2"].data_type == "s"


@pytest.mark.parametrize("rows", [3, 40])
def test_export_queries_do_not_grow_with_rows(tree, owner, rows, django_assert_num_queries):
    VolunteerFactory.create_batch(rows, org=tree.st_a1)
    with django_assert_num_queries(7):
        # 1 the actor's roles, 2 the path of the org filter, 3 station names used by several nodes,
        # 4 the volunteers with org and unit joined, 5 their skills (one query per 2,000 rows fetched),
        # 6 the node the audit event is filed under, 7 INSERT the audit event
        excel.volunteer_export(actor=owner, filters=VolunteerFilters(org_id=tree.st_a1.pk)).file.close()


@pytest.mark.parametrize("make", [make_user])
def test_nobody_without_view_exports_anything(tree, make):
    nobody = make("nobody")
    result = excel.volunteer_export(actor=nobody, filters=VolunteerFilters())
    assert len(read_rows(result.file.read())) == 1
