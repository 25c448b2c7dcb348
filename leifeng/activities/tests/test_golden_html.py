"""Golden pages: the roster and the activity page, byte for byte, in both languages, on both databases.

The two pages were built with Python f-strings for speed (issue #4) and went back to templates with
autoescaping (issue #11); these files hold what they must render. The data is fixed (explicit keys, names
with HTML's special characters, dates on 9 December) so the pages are the same on every run; only the CSRF
token (random per request) is replaced by a placeholder. Compared: the page's <main> element (the frame
around it belongs to base.html and the home app).

To rewrite the files after an intended change: GOLDEN_UPDATE=1 pytest leifeng/activities/tests/test_golden_html.py
(then read the diff: it is the change).
"""

import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from leifeng import testing
from leifeng.accounts.models import Role
from leifeng.activities.models import Activity, ActivityStatus, Post, Signup, SignupGroup, SignupStatus
from leifeng.people.models import Skill

GOLDEN = Path(__file__).parent / "golden"
TZ = ZoneInfo("Asia/Shanghai")
NEAR = datetime(2031, 12, 9, 9, 0, tzinfo=TZ)  # a Tuesday, far enough ahead for sign-ups to be open
PAST = datetime(2020, 3, 1, 14, 30, tzinfo=TZ)
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def _main(body: str) -> str:
    start = body.index('<main class="container">')
    return CSRF.sub(r"\1CSRF\2", body[start : body.index("</main>", start) + len("</main>")]) + "\n"


def _check(name: str, body: str) -> None:
    path = GOLDEN / f"{name}.html"
    got = _main(body)
    if os.environ.get("GOLDEN_UPDATE"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), name


def _volunteer(tree, pk: int, name: str, **fields):
    return testing.VolunteerFactory(
        id=pk, org=tree.st_a1, name=name, number=f"V{pk:06d}", phone=f"1380000{pk:04d}", **fields
    )


@pytest.fixture
def world(tree, owner):
    """Activity 7001: post 7101 (many people in groups, a waitlist, leavers), post 7102 (nobody yet, needs a
    skill), post 7103 (over). Activity 7002: no posts."""
    a = Activity.objects.create(
        id=7001,
        org=tree.st_a1,
        title="敬老院<清洁> & “关爱”",
        category="elderly",
        address="东关敬老院",
        status=ActivityStatus.PUBLISHED,
        group_size=3,
    )
    empty = Activity.objects.create(
        id=7002, org=tree.st_a1, title="空活动", category="elderly", address="东关", status=ActivityStatus.PUBLISHED
    )
    big = Post.objects.create(
        id=7101,
        activity=a,
        title="清洁岗 <A>",
        description='扫地 & "擦窗"',
        starts_at=NEAR,
        ends_at=NEAR.replace(hour=11, minute=30),
        quota=45,
    )
    skilled = Post.objects.create(
        id=7102, activity=a, title="急救岗", starts_at=NEAR.replace(hour=13), ends_at=NEAR.replace(hour=17), quota=2
    )
    skilled.skills.add(Skill.objects.create(name="急救<证>"))
    Post.objects.create(id=7103, activity=a, title="往年岗", starts_at=PAST, ends_at=PAST.replace(hour=16), quota=1)
    names = ["张伟", "O'Brien <b>", "李&娜", 'Tom "T"', "王芳"]
    groups = [SignupGroup.objects.create(id=7301 + g, post=big, number=g + 1, leader=None) for g in range(16)]
    people = []
    for i in range(52):
        user = testing.make_user(f"golden{i}") if i == 0 else None
        v = _volunteer(tree, 8001 + i, f"{names[i % len(names)]}{i}", user=user)
        people.append(v)
        if i < 45:
            status, group = SignupStatus.CONFIRMED, groups[i // 3] if i < 42 else None
        elif i < 49:
            status, group = SignupStatus.WAITLISTED, None
        else:
            status, group = (SignupStatus.WITHDRAWN, SignupStatus.REMOVED, SignupStatus.WITHDRAWN)[i - 49], None
        Signup.objects.create(
            id=7501 + i,
            post=big,
            volunteer=v,
            status=status,
            starts_at=big.starts_at,
            ends_at=big.ends_at,
            group=group,
            guardian_consent=i % 7 == 3,
            assigned_by=owner if i % 5 == 2 else None,
            note='重复 <报名> & "备注"' if i in (6, 50) else "",
            created_at=datetime(2031, 1, 1, 8, 0, i, tzinfo=TZ),
        )
    for g in groups[:3]:
        g.leader = people[(g.number - 1) * 3 + 1]
        g.save()
    big.filled = 45
    big.save()
    return {"activity": a, "empty": empty, "people": people, "big": big, "skilled": skilled}


def _client(client, user, language: str):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


LANGUAGES = ["zh-hans", "en"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_roster_overview(world, client, owner, tree, language):
    c = _client(client, owner, language)
    url = reverse("activities:roster", args=[7001])
    _check(f"roster_overview_{language}", c.get(url).content.decode())
    _check(f"roster_search_{language}", c.get(url, {"q": "O'Brien <b>"}).content.decode())
    _check(f"roster_empty_{language}", c.get(reverse("activities:roster", args=[7002])).content.decode())
    assessor = testing.make_user("viewer", role=Role.ASSESSOR, org=tree.st_a1)
    _check(f"roster_viewer_{language}", _client(client, assessor, language).get(url).content.decode())


@pytest.mark.parametrize("language", LANGUAGES)
def test_roster_post_pages(world, client, owner, language):
    c = _client(client, owner, language)
    url = reverse("activities:roster", args=[7001])
    _check(f"roster_post_{language}", c.get(url, {"post": 7101}).content.decode())
    _check(f"roster_post_page2_{language}", c.get(url, {"post": 7101, "page": 2}).content.decode())
    _check(f"roster_post_waitlisted_{language}", c.get(url, {"post": 7101, "tab": "waitlisted"}).content.decode())
    _check(f"roster_post_ended_{language}", c.get(url, {"post": 7101, "tab": "ended"}).content.decode())
    _check(f"roster_post_search_{language}", c.get(url, {"post": 7101, "q": "李&"}).content.decode())
    _check(f"roster_post_nobody_{language}", c.get(url, {"post": 7102}).content.decode())


@pytest.mark.parametrize("language", LANGUAGES)
def test_activity_page(world, client, owner, language):
    url = reverse("activities:activity_detail", args=[7001])
    _check(f"detail_organizer_{language}", _client(client, owner, language).get(url).content.decode())
    signed = world["people"][0]  # confirmed on the big post; lacks the skill of the other
    _check(f"detail_signed_up_{language}", _client(client, signed.user, language).get(url).content.decode())
    fresh = testing.VolunteerFactory(
        id=8100,
        org=world["activity"].org,
        name="新人",
        number="V008100",
        phone="13800008100",
        user=testing.make_user("fresh"),
    )
    fresh.skills.add(Skill.objects.get(name="急救<证>"))
    _check(f"detail_volunteer_{language}", _client(client, fresh.user, language).get(url).content.decode())
    empty = reverse("activities:activity_detail", args=[7002])
    _check(f"detail_empty_{language}", _client(client, owner, language).get(empty).content.decode())


def test_dates_follow_the_language(world, client, owner):
    """The cards' dates were "12月9日" in the English pages too (issue #11): now Django's date formatting in the
    active language, with the format itself translated (the activities catalog: "N j, H:i" → "n月j日 H:i")."""
    for name, args in (("activities:roster", [7001]), ("activities:activity_detail", [7001])):
        en = _client(client, owner, "en").get(reverse(name, args=args)).content.decode()
        assert "Dec. 9, 09:00–11:30" in en and "12月9日" not in en, name
        zh = _client(client, owner, "zh-hans").get(reverse(name, args=args)).content.decode()
        assert "12月9日" in zh and "Dec." not in zh, name
