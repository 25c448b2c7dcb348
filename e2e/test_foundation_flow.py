"""Issue #2's browser flow in real Chromium, on a phone-sized screen:

a resident registers as a volunteer → the station head logs in and approves → finds the volunteer
by pinyin initials → creates a team and adds the volunteer. Screenshots: test-artifacts/screenshots/.
"""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from leifeng import testing
from leifeng.core.idnumbers import make_ric
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, TeamMembership

pytestmark = pytest.mark.browser

NAME = "欧阳娜娜"  # pinyin initials: oynn
ID_NUMBER = make_ric("110105", date(1995, 3, 5), 321)


def test_register_approve_search_team(transactional_db, live_server, phone, shot):
    tree = testing.build_tree()
    testing.make_user("zhanzhang", role="org_admin", org=tree.st_a1, display_name="东关站长")
    base = live_server.url
    page = phone

    # 1. A resident registers on the phone form.
    page.goto(f"{base}/people/register/")
    expect(page.locator("h1")).to_contain_text("注册")
    page.select_option("select[name=org_id]", label=tree.st_a1.name)
    page.fill("input[name=name]", NAME)
    page.fill("input[name=id_number]", ID_NUMBER)
    page.fill("input[name=phone]", "13912345678")
    page.fill("input[name=other_skills]", "摄影")
    page.check("input[name=available_times][value=weekend]")
    page.fill("input[name=password]", "Lei-Feng-2026!")
    page.fill("input[name=password2]", "Lei-Feng-2026!")
    page.check("input[name=consent]")
    shot(page, "01-register-form-phone")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/people/me/"))
    expect(page.locator("body")).to_contain_text("待审核")
    number = Volunteer.objects.get(name=NAME).number
    expect(page.locator("body")).to_contain_text(number)
    shot(page, "02-my-profile-pending")

    # 2. The station head logs in (by user name) on the phone and approves.
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "zhanzhang")
    page.fill("input[name=password]", testing.PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto(f"{base}/people/volunteers/{number}/")
    expect(page.locator("body")).to_contain_text("110105********")  # masked ID
    assert ID_NUMBER not in page.content()
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.locator("#review")).to_contain_text("已通过")
    shot(page, "03-approved")
    assert Volunteer.objects.get(number=number).status == VolunteerStatus.APPROVED

    # 3. Find the volunteer by pinyin initials.
    page.goto(f"{base}/people/volunteers/")
    page.fill("input[name=q]", "oynn")
    page.locator("input[name=q]").press("Enter")
    expect(page.locator("body")).to_contain_text(NAME)
    expect(page.locator("body")).to_contain_text(number)
    shot(page, "04-search-initials")

    # 4. Create a team and add the volunteer.
    page.goto(f"{base}/teams/new/")
    page.select_option("select[name=org]", value=str(tree.st_a1.pk))
    page.fill("input[name=name]", "东关摄影志愿服务队")
    page.select_option("select[name=category]", value="culture")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("东关摄影志愿服务队")
    page.fill("#member-q", "oynn")
    candidate = page.locator(f"#candidates input[name=numbers][value='{number}']")
    expect(candidate).to_be_visible()
    candidate.check()
    page.locator("#candidates button[type=submit]").click()
    roster_row = page.locator("#members table tbody tr", has_text=number)  # the roster, not the search box
    expect(roster_row).to_contain_text(NAME)
    expect(page.locator("#member-q")).to_have_value("")  # the roster block was swapped in afresh
    expect(page.locator("#member-count")).to_have_text("1")  # the team card's count follows
    shot(page, "05-team-with-member")
    membership = TeamMembership.objects.get(volunteer__number=number)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.team.name == "东关摄影志愿服务队"
