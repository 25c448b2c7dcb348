#!/usr/bin/env python
"""Benchmark: import 100,000 volunteers from Excel into PostgreSQL (DESIGN §7: < 60 s, all-or-nothing).

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_import.py [--rows 100000] [--inline]

Migrates the fresh database it is given, builds a county (1 center, 12 sub-centers, 180 stations)
and a center admin, writes a realistic workbook (random names, valid ID numbers of several counties,
skills, a tenth with e-mail, mobile numbers typed as numbers the way people do), then:

1. imports a copy with ONE bad cell in the middle (time to reject; nothing may be written),
2. imports the good file (time split into read + validate / write), and checks the result.

The workbook is written the way Excel and WPS save it (shared strings, a <dimension> element), which is
what people upload; `--inline` writes it with openpyxl instead (inline strings, no dimension: the slowest
form for openpyxl's reader, e.g. re-importing our own export).
"""

import argparse
import io
import os
import random
import resource
import sys
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")

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
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅林建国文辉鹏飞宇浩然子涵"
    "欣怡雨轩思远嘉懿晨阳俊峰志刚海燕春梅秋菊冬雪金凤银花德福有才永安长青"
)
SKILLS = [
    "理发",
    "家电维修",
    "义诊",
    "法律咨询",
    "心理疏导",
    "文艺演出",
    "书法",
    "摄影",
    "驾驶",
    "电脑",
    "烹饪",
    "育儿",
    "助老",
    "环保宣传",
    "交通劝导",
    "应急救护",
    "消防",
    "手语",
    "外语",
    "辅导作业",
    "电工",
    "水暖",
    "园艺",
    "舞蹈",
]
AREAS = ["110105", "110108", "310101", "110101", "310104"]  # valid for every birth year used
POLITICAL = ["群众"] * 6 + ["中共党员"] * 2 + ["共青团员", "中共预备党员"]
TIMES = ["周末", "节假日", "工作日晚上", "工作日白天", "随时"]


def ric(rng: random.Random, i: int) -> str:
    from stdnum.cn import ric as stdnum_ric

    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    body = f"{AREAS[i % len(AREAS)]}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + stdnum_ric.calc_check_digit(body + "0")


def make_rows(n: int, stations: list[str], seed: int = 5) -> list[list]:
    rng = random.Random(seed)
    seen: set[str] = set()
    rows = []
    for i in range(n):
        number = ric(rng, i)
        while number in seen:
            number = ric(rng, i)
        seen.add(number)
        political = rng.choice(POLITICAL)
        rows.append(
            [
                rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))),
                "居民身份证",
                number,
                13_000_000_000 + i * 7 + rng.randrange(7),  # typed as a number, as people do
                stations[i % len(stations)],
                political,
                "是" if political == "中共党员" and rng.random() < 0.3 else "否",
                "、".join(rng.sample(SKILLS, rng.choice((0, 1, 1, 2, 3)))),
                "、".join(rng.sample(TIMES, rng.choice((0, 1, 2)))),
                f"v{i}@example.com" if rng.random() < 0.1 else "",
            ]
        )
    return rows


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def excel_like_xlsx(rows: list[list]) -> bytes:
    """A workbook as Excel/WPS save it: shared strings and a <dimension> element (standard library only)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings: dict[str, int] = {}
    cols = [_col(i) for i in range(len(HEADERS))]
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{ns}">']
    parts.append(f'<dimension ref="A1:{cols[-1]}{len(rows) + 1}"/><sheetData>')
    for r, values in enumerate([HEADERS, *rows], start=1):
        cells = []
        for c, v in zip(cols, values, strict=True):
            if v == "" or v is None:
                continue
            if isinstance(v, int):
                cells.append(f'<c r="{c}{r}"><v>{v}</v></c>')
            else:
                idx = strings.setdefault(v, len(strings))
                cells.append(f'<c r="{c}{r}" t="s"><v>{idx}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    sst = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{ns}" uniqueCount="{len(strings)}">']
    sst.extend(f"<si><t>{escape(s)}</t></si>" for s in strings)
    sst.append("</sst>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{ns}" xmlns:r="{rel}">'
            '<sheets><sheet name="志愿者" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", "".join(parts))
        z.writestr("xl/sharedStrings.xml", "".join(sst))
    return buf.getvalue()


def openpyxl_xlsx(rows: list[list]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("志愿者")
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build_county():
    from leifeng.accounts.models import Role
    from leifeng.orgs.models import OrgLevel
    from leifeng.testing import add_child, add_root, make_user

    center = add_root("县新时代文明实践中心")
    stations = []
    for s in range(12):
        sub = add_child(center, f"第{s + 1}街道分中心", OrgLevel.SUBCENTER)
        for t in range(15):
            stations.append(add_child(sub, f"第{s + 1}街道第{t + 1}社区站", OrgLevel.STATION).name)
    admin = make_user("bench-center", role=Role.ORG_ADMIN, org=center, display_name="中心主任")
    return admin, stations


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall time, this process's CPU and the database backend's CPU, so a busy machine can be told apart."""

    def __init__(self):
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), backend_cpu()

    def __str__(self) -> str:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        db = backend_cpu() - self.db
        return f"{wall:.1f} s wall (CPU: Python {cpu:.1f} s, PostgreSQL {db:.1f} s)"


def vm(field: str) -> float:
    """VmRSS / VmHWM of this process in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--inline", action="store_true", help="write the file with openpyxl (inline strings)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("DATABASE_URL is not PostgreSQL: run me through scripts/with_postgres.py", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from leifeng.core.models import AuditEvent
    from leifeng.people import excel
    from leifeng.people.models import Volunteer

    settings.IMPORT_MAX_ROWS = max(args.rows, 200_000)
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - t:.1f} s")
    admin, stations = build_county()

    t = time.perf_counter()
    rows = make_rows(args.rows, stations)
    write = openpyxl_xlsx if args.inline else excel_like_xlsx
    good = write(rows)
    bad_row = args.rows // 2  # data row index; Excel row = index + 2
    rows[bad_row][2] = rows[bad_row][2][:-1] + ("0" if rows[bad_row][2][-1] != "0" else "1")
    bad = write(rows)
    kind = "openpyxl, inline strings" if args.inline else "Excel-like, shared strings"
    print(f"generate: {time.perf_counter() - t:.1f} s; {args.rows:,} rows, {len(good) / 2**20:.1f} MB ({kind})")
    print(f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")

    print(f"load before the run: {os.getloadavg()[0]:.1f}")
    clock = Clock()
    result = excel.volunteer_import(actor=admin, file=upload(bad, "bad.xlsx"), consent_confirmed=True)
    print(f"1 bad row: rejected in {clock}")
    assert result.created == 0 and len(result.errors) == 1, result.errors[:5]
    e = result.errors[0]
    assert (e.row, e.header) == (bad_row + 2, "证件号码"), e
    assert Volunteer.objects.count() == 0
    print(f"  error: {e.column}{e.row} {e.header}: {e.message}")

    clock = Clock()
    t = time.perf_counter()
    result = excel.volunteer_import(actor=admin, file=upload(good, "good.xlsx"), approve=True, consent_confirmed=True)
    total = time.perf_counter() - t
    print(f"good file: imported in {clock}")
    assert result.ok, result.errors[:5]
    assert Volunteer.objects.count() == args.rows == result.created
    assert AuditEvent.objects.filter(action="volunteer.import").count() == args.rows
    rv, w = result.timings["read_validate"], result.timings["write"]
    print(f"  = read + validate {rv:.1f} s + write {w:.1f} s ({args.rows / total:,.0f} rows/s)")
    steps = ("write_volunteers", "write_skills", "write_audit", "commit")
    print("  write: " + ", ".join(f"{s.removeprefix('write_')} {result.timings[s]:.1f} s" for s in steps))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the run so far: {peak:.0f} MB")

    # The export of the same list streams through openpyxl's write-only mode: memory must stay flat.
    from leifeng.people.selectors import VolunteerFilters

    reset_peak = Path("/proc/self/clear_refs")
    if reset_peak.exists():
        reset_peak.write_text("5")  # restart VmHWM, so the peak below is the export's own
    before = vm("VmRSS")
    clock = Clock()
    exported = excel.volunteer_export(actor=admin, filters=VolunteerFilters())
    size = exported.file.seek(0, 2)
    exported.file.close()
    print(
        f"export of {exported.count:,} volunteers: {clock}; {size / 2**20:.1f} MB; "
        f"RSS {before:.0f} MB before, peak {vm('VmHWM'):.0f} MB during"
    )
    print(f"load after the run: {os.getloadavg()[0]:.1f}")
    target = 60.0
    print(f"target < {target:.0f} s: {'PASS' if total < target else 'FAIL'}")
    return 0 if total < target else 1


if __name__ == "__main__":
    sys.exit(main())
