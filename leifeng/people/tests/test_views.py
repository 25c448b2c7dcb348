"""Pages, as the three personas (owner, colleague, outsider) and an anonymous visitor see them, in Chinese."""

from datetime import date

import pytest
from django.urls import reverse

from leifeng.accounts.models import Role, User
from leifeng.core import crypto
from leifeng.core.idnumbers import make_ric
from leifeng.core.models import AuditEvent
from leifeng.people import services
from leifeng.people.models import RegistrationChannel, Skill, Volunteer, VolunteerStatus
from leifeng.people.tests.conftest import registration, ric_born, years_ago
from leifeng.teams.models import TeamMembership
from leifeng.testing import TeamFactory, VolunteerFactory, make_user

HTMX = {"HX-Request": "true"}


def form_data(org, **kw) -> dict:
    data = {
        "org_id": org.pk,
        "name": "刘洋",
        "id_type": "ric",
        "id_number": make_ric("110105", date(1992, 8, 8), 321),
        "phone": "13912345678",
        "skills": [],
        "other_skills": "急救、摄影",
        "available_times": ["weekend"],
        "political_status": "masses",
        "password": "Lei-feng-2024",
        "password2": "Lei-feng-2024",
        "consent": "on",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def url(name: str, v=None) -> str:
    return reverse(f"people:{name}", args=[v.number] if v is not None else [])


# --- self-registration ---------------------------------------------------------------------------------


def test_register_page_is_public_chinese_and_groups_stations(client, tree):
    Skill.objects.create(name="文艺表演")
    page = client.get(url("register")).content.decode()
    assert "注册成为志愿者" in page and "我同意" in page  # title and consent text in Chinese
    assert '<optgroup label="长安街道分中心">' in page and "东关社区站" in page
    assert "文艺表演" in page and 'name="guardian_name"' in page
    assert 'name="viewport"' in page  # phone layout from base.html


def test_anonymous_registration_logs_in_and_shows_the_profile(client, tree):
    response = client.post(url("register"), form_data(tree.st_a1))
    assert response.status_code == 302 and response.url == url("my_profile")
    v = Volunteer.objects.get()
    assert (v.channel, v.status, v.org, v.gender) == (RegistrationChannel.SELF, "pending", tree.st_a1, "m")
    assert sorted(v.skills.values_list("name", flat=True)) == ["急救", "摄影"]
    profile = client.get(url("my_profile")).content.decode()
    assert v.number in profile and "待审核" in profile and v.id_masked in profile
    assert crypto.decrypt(v.id_number_encrypted) not in profile
    assert "1992-08-08" in profile and "男" in profile


def test_registration_errors_are_shown_by_field_and_nothing_is_saved(client, tree):
    bad = make_ric("110105", date(1992, 8, 8), 321)
    bad = bad[:-1] + ("1" if bad[-1] == "0" else "0")
    page = client.post(url("register"), form_data(tree.st_a1, id_number=bad, consent=None)).content.decode()
    assert "证件号码校验位错误" in page and "注册须经志愿者本人同意" in page
    assert not Volunteer.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize("field", ["name", "address", "other_skills", "id_number", "password"])
def test_a_nul_character_on_the_page_is_an_error_at_its_field(client, tree, field):
    data = form_data(tree.st_a1, extra_info_consent="on", address="东关5号楼")
    data[field] += "\x00"
    if field == "password":
        data["password2"] = data["password"]

    response = client.post(url("register"), data)

    assert response.status_code == 200 and field in response.context["form"].errors
    assert not Volunteer.objects.exists() and not User.objects.exists()


def test_minors_need_a_guardian_on_the_page_too(client, tree):
    data = form_data(tree.st_a1, id_number=ric_born(years_ago(15)))
    page = client.post(url("register"), data).content.decode()
    assert "未成年人须填写监护人姓名" in page and "须经监护人同意" in page
    data.update(guardian_name="刘父", guardian_phone="13800001111", guardian_consent="on")
    assert client.post(url("register"), data).status_code == 302
    assert Volunteer.objects.get().guardian_consent_at is not None


def test_under_14_is_refused_on_the_page(client, tree):
    data = form_data(
        tree.st_a1,
        id_number=ric_born(years_ago(13)),
        guardian_name="刘父",
        guardian_phone="13800001111",
        guardian_consent="on",
    )
    assert "志愿者须年满 14 周岁" in client.post(url("register"), data).content.decode()
    assert not Volunteer.objects.exists()


def test_logged_in_users_are_sent_to_their_profile(client_for, owner):
    assert client_for(owner).get(url("register")).url == url("my_profile")


def test_profile_of_staff_without_registration(client_for, owner):
    assert "此账号没有志愿者登记" in client_for(owner).get(url("my_profile")).content.decode()


def test_profile_shows_teams_read_only(client_for, tree):
    user = make_user("vol", role=Role.VOLUNTEER, org=tree.st_a1)
    v = VolunteerFactory(user=user, org=tree.st_a1)
    TeamMembership.objects.create(team=TeamFactory(org=tree.st_a1, name="东关敬老服务队"), volunteer=v, status="active")
    page = client_for(user).get(url("my_profile")).content.decode()
    assert "东关敬老服务队" in page and "已通过" in page


def test_rejected_applicant_sees_the_reason_and_resubmits(client, tree, owner):
    client.post(url("register"), form_data(tree.st_a1))
    v = Volunteer.objects.get()
    services.volunteer_reject(actor=owner, volunteer_id=v.pk, reason="请上传本人信息")
    page = client.get(url("my_profile")).content.decode()
    assert "未通过" in page and "请上传本人信息" in page and url("resubmit") in page
    form = client.get(url("resubmit")).content.decode()
    assert "请上传本人信息" in form and 'value="刘洋"' in form
    data = form_data(tree.st_a2, id_number="", name="刘洋洋")
    assert client.post(url("resubmit"), data).url == url("my_profile")
    v.refresh_from_db()
    assert (v.status, v.name, v.org) == ("pending", "刘洋洋", tree.st_a2)
    assert client.get(url("resubmit")).url == url("my_profile")  # only a rejected one can be resubmitted


# --- staff pages ---------------------------------------------------------------------------------------


@pytest.fixture
def v_a1(tree, owner):
    return services.volunteer_register(actor=owner, data=registration(tree.st_a1, name="陈静"))


def test_staff_entry_offers_only_stations_in_scope(client_for, tree, owner, v_a1):
    page = client_for(owner).get(url("volunteer_create")).content.decode()
    assert "东关社区站" in page and "北村站" not in page and "西街社区站" not in page
    response = client_for(owner).post(url("volunteer_create"), form_data(tree.st_a1, phone="13912340000"))
    v = Volunteer.objects.get(phone="13912340000")
    assert response.url == url("volunteer_detail", v) and v.channel == RegistrationChannel.STAFF and v.user is None


def test_staff_entry_into_another_subtree_is_refused(client_for, tree, outsider):
    page = client_for(outsider).post(url("volunteer_create"), form_data(tree.st_a1)).content.decode()
    assert "选择一个有效的选项" in page and not Volunteer.objects.exists()


def test_staff_entry_needs_change_rights(client_for, assessor):
    assert client_for(assessor).get(url("volunteer_create")).status_code == 404


@pytest.mark.parametrize("who,sees", [("owner", True), ("colleague", True), ("outsider", False), ("assessor", True)])
def test_list_is_scoped(client_for, request, v_a1, who, sees):
    page = client_for(request.getfixturevalue(who)).get(url("volunteer_list")).content.decode()
    assert (v_a1.number in page) is sees


def test_list_is_hidden_from_volunteers_and_anonymous(client, client_for, tree):
    user = make_user("vol", role=Role.VOLUNTEER, org=tree.st_a1)
    assert client.get(url("volunteer_list")).status_code == 302
    assert client_for(user).get(url("volunteer_list")).status_code == 404


def test_list_search_filters_and_export_link(client_for, tree, owner, v_a1):
    other = VolunteerFactory(org=tree.st_a1, name="黄强", status="pending")
    page = client_for(owner).get(url("volunteer_list"), {"q": "cj"}).content.decode()
    assert v_a1.number in page and other.number not in page
    assert url("volunteer_export") + "?q=cj" in page and url("volunteer_import") in page
    page = client_for(owner).get(url("volunteer_list"), {"status": "pending", "q": "黄"}).content.decode()
    assert other.number in page and v_a1.number not in page
    partial = client_for(owner).get(url("volunteer_list"), {"q": "hq"}, headers={**HTMX, "HX-Target": "results"})
    assert other.number in partial.content.decode() and b"<html" not in partial.content


@pytest.mark.parametrize("rows", [3, 120])
def test_list_queries_do_not_grow_with_rows(client_for, django_assert_num_queries, tree, owner, rows):
    VolunteerFactory.create_batch(rows, org=tree.st_a1)
    client = client_for(owner)
    with django_assert_num_queries(6):
        # 1 session with its account, roles and "has a volunteer profile?" for the menu (accounts.middleware),
        # 2 ids of the stations in scope, 3 capped COUNT of the matches,
        # 4 the 50 rows of the page with org and unit joined, 5 org choices of the filter,
        # 6 skill choices of the filter
        page = client.get(url("volunteer_list")).content.decode()
    assert page.count('data-label="志愿者编号"') == min(rows, 50)


def test_list_says_when_the_count_is_capped(client_for, tree, owner, monkeypatch):
    from leifeng.people import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    VolunteerFactory.create_batch(55, org=tree.st_a1)
    client = client_for(owner)
    first = client.get(url("volunteer_list")).content.decode()
    assert "超过 2 名志愿者符合条件" in first and "第 1 页" in first and "?page=2" in first
    second = client.get(url("volunteer_list"), {"page": 2}).content.decode()
    assert second.count('data-label="志愿者编号"') == 5 and "下一页" not in second


# --- detail, reveal, decisions, edit -----------------------------------------------------------------


ROUTES_POST = ["volunteer_reveal_id", "volunteer_approve", "volunteer_reject", "volunteer_suspend"]
ROUTES_POST += ["volunteer_reinstate"]


def test_outsider_gets_404_on_every_object_page(client_for, outsider, v_a1):
    client = client_for(outsider)
    assert client.get(url("volunteer_detail", v_a1)).status_code == 404
    assert client.get(url("volunteer_edit", v_a1)).status_code == 404
    for name in ROUTES_POST:
        assert client.post(url(name, v_a1), {"reason": "x"}).status_code == 404, name
    assert not AuditEvent.objects.exclude(action="volunteer.register").exists()


@pytest.mark.parametrize("who", ["owner", "colleague"])
def test_detail_shows_masked_id_and_actions(client_for, request, v_a1, who):
    page = client_for(request.getfixturevalue(who)).get(url("volunteer_detail", v_a1)).content.decode()
    assert v_a1.id_masked in page and crypto.decrypt(v_a1.id_number_encrypted) not in page
    assert "显示完整证件号码" in page and "通过" in page and "待审核" in page and url("volunteer_edit", v_a1) in page


def test_assessor_reads_but_cannot_act(client_for, assessor, v_a1):
    client = client_for(assessor)
    page = client.get(url("volunteer_detail", v_a1)).content.decode()
    assert v_a1.name in page and "显示完整证件号码" not in page and url("volunteer_approve", v_a1) not in page
    assert client.post(url("volunteer_reveal_id", v_a1)).status_code == 403
    assert client.post(url("volunteer_approve", v_a1)).status_code == 403
    assert client.get(url("volunteer_edit", v_a1)).status_code == 403
    assert not AuditEvent.objects.filter(action="volunteer.reveal_id").exists()
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.PENDING


def test_show_full_id_once_and_audit_it(client_for, colleague, v_a1):
    full = crypto.decrypt(v_a1.id_number_encrypted)
    client = client_for(colleague)
    assert client.get(url("volunteer_reveal_id", v_a1)).status_code == 405
    response = client.post(url("volunteer_reveal_id", v_a1), headers=HTMX)
    assert full in response.content.decode() and b"<html" not in response.content
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="volunteer.reveal_id")
    assert event.actor == colleague and event.object_id == str(v_a1.pk)
    page = client.post(url("volunteer_reveal_id", v_a1)).content.decode()  # without htmx: the whole page
    assert full in page and "<html" in page
    assert AuditEvent.objects.filter(action="volunteer.reveal_id").count() == 2
    assert full not in client.get(url("volunteer_detail", v_a1)).content.decode()  # shown once


def test_approve_with_htmx_returns_the_status_box(client_for, owner, v_a1):
    response = client_for(owner).post(url("volunteer_approve", v_a1), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="review"' in body and "已通过" in body and "<html" not in body
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.APPROVED


def test_reject_needs_a_reason_then_the_applicant_sees_it(client_for, owner, v_a1):
    client = client_for(owner)
    body = client.post(url("volunteer_reject", v_a1), {"reason": ""}, headers=HTMX).content.decode()
    assert body.count("请填写未通过的原因") == 1  # next to the reason field, not twice
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.PENDING
    response = client.post(url("volunteer_reject", v_a1), {"reason": "手机号无法接通"})  # without htmx
    assert response.status_code == 302 and response.url == url("volunteer_detail", v_a1)
    v = Volunteer.objects.get(pk=v_a1.pk)
    assert (v.status, v.rejection_reason) == ("rejected", "手机号无法接通")
    assert "手机号无法接通" in client.get(url("volunteer_detail", v_a1)).content.decode()


def test_suspend_and_reinstate(client_for, owner, v_a1):
    client = client_for(owner)
    client.post(url("volunteer_approve", v_a1))
    client.post(url("volunteer_suspend", v_a1), {"reason": "搬家"})
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.SUSPENDED
    assert AuditEvent.objects.get(action="volunteer.suspend").note == "搬家"
    page = client.post(url("volunteer_reinstate", v_a1), follow=True).content.decode()
    assert "已恢复" in page and Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.APPROVED
    # a move the table does not allow is refused with a message, not a crash
    page = client.post(url("volunteer_reinstate", v_a1), follow=True).content.decode()
    assert "不能变为" in page


def test_edit_keeps_id_when_empty_and_audits_the_diff(client_for, tree, colleague, v_a1):
    client = client_for(colleague)
    form = client.get(url("volunteer_edit", v_a1)).content.decode()
    assert 'value="陈静"' in form and crypto.decrypt(v_a1.id_number_encrypted) not in form
    data = form_data(tree.st_a1, name="陈静怡", id_number="", phone=v_a1.phone, password=None, password2=None)
    assert client.post(url("volunteer_edit", v_a1), data).url == url("volunteer_detail", v_a1)
    v = Volunteer.objects.get(pk=v_a1.pk)
    assert (v.name, v.name_initials, v.id_index) == ("陈静怡", "cjy", v_a1.id_index)
    assert AuditEvent.objects.get(action="volunteer.update").changes["name"] == ["陈静", "陈静怡"]


def test_edit_with_a_new_bad_id_shows_the_error(client_for, tree, owner, v_a1):
    data = form_data(tree.st_a1, id_number="110105199208083219", phone=v_a1.phone, password=None, password2=None)
    page = client_for(owner).post(url("volunteer_edit", v_a1), data).content.decode()
    assert "证件号码" in page and Volunteer.objects.get(pk=v_a1.pk).id_index == v_a1.id_index


def test_login_with_phone_after_registration(client, tree):
    client.post(url("register"), form_data(tree.st_a1))
    client.logout()
    response = client.post(reverse("accounts:login"), {"username": "13912345678", "password": "Lei-feng-2024"})
    assert response.status_code == 302
    assert "待审核" in client.get(url("my_profile")).content.decode()


# --- admin --------------------------------------------------------------------------------------------


def test_admin_shows_the_id_masked_and_never_the_ciphertext(client, tree, v_a1):
    operator = User.objects.create_superuser("root", password="Lei-feng-2024")
    client.force_login(operator)
    listing = client.get(reverse("admin:people_volunteer_changelist")).content.decode()
    assert v_a1.id_masked in listing
    change = client.get(reverse("admin:people_volunteer_change", args=[v_a1.pk])).content.decode()
    assert v_a1.id_masked in change
    assert v_a1.id_number_encrypted not in change and v_a1.id_index not in change
    assert crypto.decrypt(v_a1.id_number_encrypted) not in change
    assert client.get(reverse("admin:people_volunteer_add")).status_code == 403


def test_unmasked_export_link_only_for_roles_that_may_see_ids(client_for, tree, owner, assessor):
    link = url("volunteer_export") + "?q=cj&amp;unmasked=1"
    assert link in client_for(owner).get(url("volunteer_list"), {"q": "cj"}).content.decode()
    assert "unmasked=1" not in client_for(assessor).get(url("volunteer_list"), {"q": "cj"}).content.decode()
