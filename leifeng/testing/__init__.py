"""Test personas and factories shared by every app's tests (healthchecks' BaseTestCase, as fixtures).

The tree:   县中心 (center)
              ├─ 长安街道分中心 (sub_a) ── 东关社区站 (st_a1), 西街社区站 (st_a2)
              └─ 城关镇分中心 (sub_b) ── 北村站 (st_b1)

Personas:  owner      org_admin at st_a1   — owns the objects under test
           colleague  org_staff at st_a1   — same subtree, day-to-day rights
           outsider   org_admin at st_b1   — another subtree: must get 404 on everything
"""

import gettext
import itertools
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from leifeng.accounts.models import RoleAssignment
from leifeng.core import crypto
from leifeng.core.idnumbers import IdType, make_ric, mask_id
from leifeng.orgs.models import Org, OrgLevel
from leifeng.people import pinyin
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import Team, TeamCategory, TeamKind, TeamLevel

PASSWORD = "leifeng-test-pass"
_seq = itertools.count(1000)  # factory births start 1990-05-18: never a number the people tests build by hand


def add_root(name: str, level: str = OrgLevel.CENTER) -> Org:
    return Org.objects.add_root(create_kwargs={"name": name, "level": level})


def add_child(parent: Org, name: str, level: str) -> Org:
    return Org.objects.add_child(Org.objects.get(pk=parent.pk), create_kwargs={"name": name, "level": level})


@dataclass
class Tree:
    center: Org
    sub_a: Org
    st_a1: Org
    st_a2: Org
    sub_b: Org
    st_b1: Org


def build_tree() -> Tree:
    center = add_root("县新时代文明实践中心")
    sub_a = add_child(center, "长安街道分中心", OrgLevel.SUBCENTER)
    st_a1 = add_child(sub_a, "东关社区站", OrgLevel.STATION)
    st_a2 = add_child(sub_a, "西街社区站", OrgLevel.STATION)
    sub_b = add_child(center, "城关镇分中心", OrgLevel.SUBCENTER)
    st_b1 = add_child(sub_b, "北村站", OrgLevel.STATION)
    return Tree(*(Org.objects.get(pk=o.pk) for o in (center, sub_a, st_a1, st_a2, sub_b, st_b1)))


def make_user(username: str, *, role: str | None = None, org: Org | None = None, phone: str | None = None, **kw):
    User = get_user_model()
    user = User.objects.create_user(username=username, password=PASSWORD, phone=phone, **kw)
    if role:
        RoleAssignment.objects.create(user=user, role=role, org=org)
    return user


def grant(user, role: str, org: Org) -> None:
    RoleAssignment.objects.create(user=user, role=role, org=org)
    if hasattr(user, "_leifeng_roles"):
        del user._leifeng_roles


DEFAULT_BIRTH = date(1990, 5, 17)
# The sequence part of an ID number has three digits: after every 1,000 numbers the next thousand move on (an adult
# born a day later; for a given birth date, the next Beijing district), so one test process never repeats a number.
_AREAS = ("110105", "110101", "110102", "110106", "110107", "110108", "110109")


def next_ric(birth: date | None = None) -> str:
    n = next(_seq)
    if birth is None:
        return make_ric("110105", DEFAULT_BIRTH + timedelta(days=n // 1000), n % 1000)
    return make_ric(_AREAS[(n // 1000) % len(_AREAS)], birth, n % 1000)


class VolunteerFactory(factory.django.DjangoModelFactory):
    """A volunteer row as registration would leave it (encrypted ID, blind index, pinyin keys)."""

    class Meta:
        model = Volunteer
        exclude = ("ric",)

    ric = factory.LazyFunction(next_ric)
    number = factory.Sequence(lambda n: f"T{n:09d}")
    name = factory.Iterator(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"])
    name_pinyin = factory.LazyAttribute(lambda o: pinyin.keys(o.name)[0])
    name_initials = factory.LazyAttribute(lambda o: pinyin.keys(o.name)[1])
    id_type = IdType.RIC
    id_number_encrypted = factory.LazyAttribute(lambda o: crypto.encrypt(o.ric))
    id_index = factory.LazyAttribute(lambda o: crypto.blind_index(IdType.RIC, o.ric))
    id_masked = factory.LazyAttribute(lambda o: mask_id(o.ric))
    gender = "m"
    birth_date = date(1990, 5, 17)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    status = VolunteerStatus.APPROVED
    consent_at = factory.LazyFunction(timezone.now)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"志愿服务队{n}")
    level = TeamLevel.SQUADRON
    category = TeamCategory.ELDERLY
    kind = TeamKind.OPTIONAL


def make_volunteer_user(username: str, *, org: Org, status: str = VolunteerStatus.APPROVED, **kw):
    """An account with the volunteer role at `org` and its Volunteer row (what registration leaves)."""
    from leifeng.accounts.models import Role

    user = make_user(username, role=Role.VOLUNTEER, org=org, display_name=kw.pop("display_name", "志愿者"))
    VolunteerFactory(user=user, org=org, status=status, **kw)
    return user


def make_platform_admin(username: str = "operator", *, org: Org):
    from leifeng.accounts.models import Role

    return make_user(username, role=Role.PLATFORM_ADMIN, org=org, display_name="平台管理员")


def po_entries(text: str, *, refs_containing: str | None = None) -> list[dict]:
    """The entries of a .po file but its header: msgctxt, msgid, msgid_plural, msgstr (msgstr[0] for plurals),
    and `fuzzy` (the entry carries `#, fuzzy`). With `refs_containing`, only the entries whose `#:` source
    references contain that text (e.g. "certificate").

    Read line by line as gettext does (a blank line between msgid and msgstr does not end an entry)."""
    entries: list[dict] = []
    current: dict = {"comments": []}
    key = None

    def close():
        if "msgid" in current and current["msgid"] != "":
            entries.append(current)

    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        starts_entry = line.startswith("#") or re.match(r"^(msgctxt|msgid) ", line)
        if starts_entry and "msgstr" in current:
            close()
            current, key = {"comments": []}, None
        if line.startswith("#"):
            current["comments"].append(line)
            continue
        m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\]) (".*")$', line)
        if m:
            key = m.group(1)
            if key.startswith("msgstr["):
                key = "msgstr" if key == "msgstr[0]" else None
                if key is None:
                    continue
            current[key] = json.loads(m.group(2))
        elif line.startswith('"') and key:
            current[key] += json.loads(line)
    close()
    out = []
    for e in entries:
        comments = e.pop("comments")
        if refs_containing is not None:
            refs = " ".join(c for c in comments if c.startswith("#:"))
            if refs_containing not in refs:
                continue
        e["fuzzy"] = any(c.startswith("#,") and "fuzzy" in c for c in comments)
        out.append(e)
    return out


def catalog_path(app) -> Path:
    """The zh_Hans catalog (.po) of an app package (`leifeng.orders`), or the path itself."""
    if isinstance(app, (str, Path)):
        return Path(app)
    return Path(app.__file__).parent / "locale/zh_Hans/LC_MESSAGES/django.po"


def assert_catalog_complete(app, *, min_entries: int, refs_containing: str | None = None) -> list[dict]:
    """The check every app's locale test makes of its catalog: more than `min_entries` entries, every msgid
    translated, nothing fuzzy, and the committed .mo says what the .po says (compile it after every edit).

    With `refs_containing`, only the entries whose source references contain that text are checked (a catalog
    shared by several features) and only those must not be fuzzy; otherwise the whole file must hold no
    `#, fuzzy` at all. Returns the entries checked.
    """
    po = catalog_path(app)
    text = po.read_text(encoding="utf-8")
    rows = po_entries(text, refs_containing=refs_containing)
    assert len(rows) > min_entries, f"{po}: only {len(rows)} entries"
    assert [r["msgid"] for r in rows if not r.get("msgstr")] == [], f"{po}: untranslated entries"
    if refs_containing is None:
        assert "#, fuzzy" not in text, f"{po}: drop the fuzzy marks"
    assert [r["msgid"] for r in rows if r["fuzzy"]] == [], f"{po}: fuzzy entries"
    with open(po.with_suffix(".mo"), "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for r in rows:
        if "msgid_plural" in r:
            got = mo.ngettext(r["msgid"], r["msgid_plural"], 1)
        elif "msgctxt" in r:
            got = mo.pgettext(r["msgctxt"], r["msgid"])
        else:
            got = mo.gettext(r["msgid"])
        if got != r["msgstr"]:
            stale.append(r["msgid"])
    assert stale == [], f"{po}: compile the catalog (msgfmt or compilemessages)"
    return rows


def wsgi_call(method: str, path: str, body: bytes = b"", *, host: str = "testserver", **headers: str):
    """One request through the production WSGI entry point (leifeng/config/wsgi.py, burst paths included),
    as the server makes it: (status, headers, parsed JSON or None). Headers as keyword arguments:
    authorization="Bearer …", idempotency_key="…", accept_language="en"."""
    import io
    import json

    from leifeng.config.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)

    chunks = application(environ, start_response)
    data = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return seen["status"], seen["headers"], json.loads(data) if data else None


class DjangoQueries:
    """Counts the statements that go through Django's cursors (the burst paths use none)."""

    def __enter__(self):
        from django.db import connection

        self.count = 0
        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def production_server_command(port: int, *, workers: int = 1, threads: int = 1) -> list[str]:
    """How production serves the app (docs/operations.md): granian on the WSGI entry point, burst paths
    included."""
    import sys

    return [
        *(sys.executable, "-m", "granian", "--interface", "wsgi", "leifeng.config.wsgi:application"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads)),
        *("--http", "1", "--no-ws", "--log-level", "warning"),
    ]


class ProductionServer:
    """The production server in a subprocess, on the test database (so the data the test reads and writes
    must be committed: `transactional_db`). `with ProductionServer() as server:` → `server.request(...)` over
    one keep-alive connection, as a phone or a kiosk sends it."""

    def __init__(self, *, workers: int = 1, threads: int = 1):
        self.workers, self.threads = workers, threads

    def __enter__(self):
        import os
        import socket
        import subprocess
        import time
        from http.client import HTTPConnection
        from urllib.parse import quote

        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        if connection.vendor == "postgresql":
            url = (
                f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or 'localhost'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            )
        else:
            raise RuntimeError("the production server test needs a database another process can open (PostgreSQL)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = dict(
            os.environ,
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="leifeng.config.settings_test",
            DEBUG="False",
            ALLOWED_HOSTS="127.0.0.1",
            SECRET_KEY=settings.SECRET_KEY,
            DB_CONN_MAX_AGE="600",
            LOG_LEVEL="ERROR",
        )
        cmd = production_server_command(self.port, workers=self.workers, threads=self.threads)
        root = Path(__file__).resolve().parent.parent.parent
        self.process = subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:  # the port accepts once the workers have loaded Django
            if self.process.poll() is not None:
                raise RuntimeError(f"the production server exited with {self.process.returncode}")
            try:
                probe = HTTPConnection("127.0.0.1", self.port, timeout=5)
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    probe.close()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise
                time.sleep(0.1)
        self.conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self

    def request(self, method: str, path: str, body: bytes = b"", **headers: str):
        """(status, headers with lower-case names, parsed JSON or the raw bytes)."""
        names = {k.replace("_", "-"): v for k, v in headers.items()}
        if body:
            names.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=body, headers=names)
        response = self.conn.getresponse()
        data = response.read()
        got = {k.lower(): v for k, v in response.getheaders()}
        if got.get("content-type", "").startswith("application/json"):
            return response.status, got, json.loads(data)
        return response.status, got, data

    def __exit__(self, *exc):
        import contextlib
        import os
        import signal
        import subprocess

        if getattr(self, "conn", None):
            self.conn.close()
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # a worker left behind would hold a test-database connection
            os.killpg(self.process.pid, signal.SIGKILL)
