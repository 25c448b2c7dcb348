from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from leifeng.accounts.models import Role, RoleAssignment, User
from leifeng.core import crypto
from leifeng.core.errors import NotFound, PermissionDenied, ServiceError
from leifeng.core.idnumbers import IdType, make_ric
from leifeng.core.models import AuditEvent
from leifeng.core.transitions import Transitions
from leifeng.people import services
from leifeng.people.models import VOLUNTEER_TRANSITIONS, RegistrationChannel, Skill, Volunteer, VolunteerStatus
from leifeng.people.services import volunteer_clean, volunteer_register
from leifeng.people.tests.conftest import registration, ric_born, years_ago


@pytest.fixture(autouse=True)
def english():
    """Messages compared in English here; the pages' tests check the Chinese a user reads."""
    with translation.override("en"):
        yield


def fields_of(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- ID numbers (DESIGN §4 rules 2 and 3) ------------------------------------------------------------


def test_wrong_check_digit_is_refused(tree):
    good = make_ric("110105", date(1990, 5, 17), 123)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, id_number=bad))
    assert fields_of(exc)["id_number"] == ["ID number check digit is wrong."]


def test_gender_and_birth_date_are_derived_from_the_id(tree, owner):
    man = volunteer_register(
        actor=owner, data=registration(tree.st_a1, id_number=make_ric("110105", date(1985, 3, 5), 123))
    )
    woman = volunteer_register(
        actor=owner, data=registration(tree.st_a1, id_number=make_ric("110105", date(1999, 12, 31), 124))
    )
    assert (man.gender, man.birth_date) == ("m", date(1985, 3, 5))
    assert (woman.gender, woman.birth_date) == ("f", date(1999, 12, 31))


def test_a_lower_case_x_is_the_same_id(tree, owner):
    ric = next(r for r in (make_ric("110105", date(1990, 1, 1), n) for n in range(1000)) if r.endswith("X"))
    volunteer_register(actor=owner, data=registration(tree.st_a1, id_number=ric))
    with pytest.raises(ValidationError) as exc:
        volunteer_register(actor=owner, data=registration(tree.st_a1, id_number=ric.lower()))
    assert fields_of(exc)["id_number"] == ["A volunteer with this ID number is already registered."]


def test_duplicate_id_is_refused_even_across_subtrees(tree, owner, outsider):
    ric = ric_born(date(1980, 1, 2))
    volunteer_register(actor=owner, data=registration(tree.st_a1, id_number=ric))
    with pytest.raises(ValidationError) as exc:
        volunteer_register(actor=outsider, data=registration(tree.st_b1, id_number=ric))
    assert "id_number" in fields_of(exc)
    assert Volunteer.objects.count() == 1


def test_id_is_encrypted_at_rest_and_masked(tree, owner):
    ric = make_ric("110105", date(1990, 5, 17), 2)
    v = volunteer_register(actor=owner, data=registration(tree.st_a1, id_number=ric))
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM people_volunteer WHERE id = %s", [v.pk])
        row = [str(col) for col in cur.fetchone()]
    assert not any(ric in col or ric[6:14] + ric[14:] in col for col in row)
    assert v.id_masked == ric[:6] + "********" + ric[-4:]
    assert crypto.decrypt(Volunteer.objects.get(pk=v.pk).id_number_encrypted) == ric
    assert v.id_index == crypto.blind_index(IdType.RIC, ric)


def test_other_documents_are_checked_for_shape_and_ask_for_birth_date_and_gender(tree, owner):
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, id_type=IdType.PASSPORT, id_number="E1"))
    assert set(fields_of(exc)) == {"id_number", "birth_date", "gender"}
    with pytest.raises(ValidationError) as exc:  # the age rule holds for every document
        volunteer_clean(
            registration(
                tree.st_a1, id_type=IdType.PASSPORT, id_number="E12345678", birth_date=years_ago(10), gender="f"
            )
        )
    assert fields_of(exc)["id_number"] == ["Volunteers must be at least 14 years old."]
    v = volunteer_register(
        actor=owner,
        data=registration(
            tree.st_a1, id_type=IdType.PASSPORT, id_number="e1234 5678", birth_date=date(1980, 2, 3), gender="f"
        ),
    )
    assert (v.id_masked, v.gender, v.birth_date) == ("E******78", "f", date(1980, 2, 3))


# --- consent and minors (DESIGN §4 rules 1 and 4) ---------------------------------------------------


def test_consent_is_required(tree):
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, consent=False))
    assert list(fields_of(exc)) == ["consent"]


def test_optional_information_needs_its_own_consent(tree, owner):
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, email="a@example.com", address="东关路1号"))
    assert list(fields_of(exc)) == ["extra_info_consent"]
    v = volunteer_register(
        actor=owner,
        data=registration(tree.st_a1, email="a@example.com", address="东关路1号", extra_info_consent=True),
    )
    assert (v.email, v.address, v.extra_info_consent) == ("a@example.com", "东关路1号", True)


def test_under_14_cannot_register(tree):
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(
            registration(
                tree.st_a1,
                id_number=ric_born(years_ago(14, days=-1)),  # 14 tomorrow
                guardian_name="张父",
                guardian_phone="13800001111",
                guardian_consent=True,
            )
        )
    assert fields_of(exc)["id_number"] == ["Volunteers must be at least 14 years old."]


def test_14_to_17_need_a_recorded_guardian_consent(tree, owner):
    minor = ric_born(years_ago(14))  # 14 today
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, id_number=minor))
    assert set(fields_of(exc)) == {"guardian_name", "guardian_phone", "guardian_consent"}
    v = volunteer_register(
        actor=owner,
        data=registration(
            tree.st_a1, id_number=minor, guardian_name="张父", guardian_phone="138 0000 1111", guardian_consent=True
        ),
    )
    assert v.guardian_consent_at is not None and v.guardian_phone == "13800001111"


def test_adults_keep_no_guardian_data(tree, owner):
    v = volunteer_register(
        actor=owner,
        data=registration(
            tree.st_a1, id_number=ric_born(years_ago(18)), guardian_name="某人", guardian_phone="13800001111"
        ),
    )
    assert (v.guardian_name, v.guardian_phone, v.guardian_consent_at) == ("", "", None)


def test_in_service_party_member_needs_party_status(tree):
    with pytest.raises(ValidationError) as exc:
        volunteer_clean(registration(tree.st_a1, in_service_party_member=True, political_status="masses"))
    assert list(fields_of(exc)) == ["in_service_party_member"]
    clean = volunteer_clean(registration(tree.st_a1, in_service_party_member=True, political_status="cpc"))
    assert clean.data.in_service_party_member


def test_every_problem_is_reported_at_once(tree, owner):
    with pytest.raises(ValidationError) as exc:
        volunteer_register(
            actor=owner, data=registration(tree.st_b1, name="", phone="123", consent=False, available_times=["x"])
        )
    assert {"name", "phone", "consent", "available_times", "org_id"} <= set(fields_of(exc))


# --- registration paths --------------------------------------------------------------------------------


def test_self_registration_creates_a_pending_account(tree):
    data = registration(tree.st_a2, phone="+86 139-0000-1234", skills=["急救", "文艺表演"])
    v = volunteer_register(actor=None, data=data, channel=RegistrationChannel.SELF, password="Lei-feng-2024")
    assert v.status == VolunteerStatus.PENDING and v.channel == RegistrationChannel.SELF
    assert v.number.startswith("LF") and len(v.number) == 11
    user = User.objects.get(pk=v.user_id)
    assert user.phone == "13900001234" and user.check_password("Lei-feng-2024")
    assert RoleAssignment.objects.filter(user=user, role=Role.VOLUNTEER, org=tree.st_a2).exists()
    assert sorted(v.skills.values_list("name", flat=True)) == ["急救", "文艺表演"]
    event = AuditEvent.objects.get(action="volunteer.register")
    assert event.actor_id == user.pk and event.org_id == tree.st_a2.pk


def test_self_registration_needs_a_good_password_and_a_free_phone(tree, colleague):
    colleague.phone = "13900001234"
    colleague.save()
    with pytest.raises(ValidationError) as exc:
        volunteer_register(
            actor=None,
            data=registration(tree.st_a2, phone="13900001234"),
            channel=RegistrationChannel.SELF,
            password="1",
        )
    assert {"phone", "password"} <= set(fields_of(exc))
    assert not Volunteer.objects.exists()


def test_staff_enter_only_into_their_subtree(tree, owner):
    with pytest.raises(ValidationError) as exc:
        volunteer_register(actor=owner, data=registration(tree.st_b1))
    assert "org_id" in fields_of(exc)
    v = volunteer_register(actor=owner, data=registration(tree.st_a1))
    assert v.channel == RegistrationChannel.STAFF and v.user is None


def test_volunteers_belong_to_a_station_not_the_center(tree, center_admin):
    with pytest.raises(ValidationError) as exc:
        volunteer_register(actor=center_admin, data=registration(tree.center))
    assert "org_id" in fields_of(exc)


def test_volunteer_numbers_are_unique_and_sequential(tree, owner):
    a = volunteer_register(actor=owner, data=registration(tree.st_a1))
    b = volunteer_register(actor=owner, data=registration(tree.st_a1))
    assert int(b.number[2:]) == int(a.number[2:]) + 1


def test_skills_are_shared_not_duplicated(tree, owner):
    volunteer_register(actor=owner, data=registration(tree.st_a1, skills=["急救", " 急救 "]))
    volunteer_register(actor=owner, data=registration(tree.st_a1, skills=["急救"]))
    assert Skill.objects.filter(name="急救").count() == 1


def test_split_skills_reads_chinese_separators():
    assert services.split_skills("急救、文艺表演，法律咨询; 摄影\n") == ["急救", "文艺表演", "法律咨询", "摄影"]


# --- status transitions -----------------------------------------------------------------------------------

MOVES = {
    "approve": (services.volunteer_approve, {}),
    "reject": (services.volunteer_reject, {"reason": "照片不清楚"}),
    "suspend": (services.volunteer_suspend, {"reason": "搬离本社区"}),
    "reinstate": (services.volunteer_reinstate, {}),
}
ALLOWED = {("pending", "approve"), ("pending", "reject"), ("approved", "suspend"), ("suspended", "reinstate")}
RESULT = {"approve": "approved", "reject": "rejected", "suspend": "suspended", "reinstate": "approved"}


@pytest.mark.parametrize("start,move", sorted(ALLOWED))
def test_allowed_transitions(make_status, colleague, start, move):
    v = make_status(start)
    fn, kw = MOVES[move]
    done = fn(actor=colleague, volunteer_id=v.pk, **kw)
    assert done.status == RESULT[move] and done.reviewed_by == colleague
    assert Volunteer.objects.get(pk=v.pk).status == RESULT[move]
    event = AuditEvent.objects.get(action=f"volunteer.{move}")
    assert event.changes["status"] == [start, RESULT[move]]


@pytest.mark.parametrize("start,move", sorted({(s, m) for s in VolunteerStatus.values for m in MOVES} - ALLOWED))
def test_forbidden_transitions(make_status, colleague, start, move):
    v = make_status(start)
    fn, kw = MOVES[move]
    with pytest.raises(ServiceError) as exc:
        fn(actor=colleague, volunteer_id=v.pk, **kw)
    assert exc.value.code == "invalid_transition"
    assert Volunteer.objects.get(pk=v.pk).status == start
    assert not AuditEvent.objects.exists()


def test_reject_needs_a_reason_the_applicant_sees(pending, owner):
    with pytest.raises(ServiceError) as exc:
        services.volunteer_reject(actor=owner, volunteer_id=pending.pk, reason="  ")
    assert exc.value.field == "reason"
    services.volunteer_reject(actor=owner, volunteer_id=pending.pk, reason="身份证号与姓名不符")
    assert Volunteer.objects.get(pk=pending.pk).rejection_reason == "身份证号与姓名不符"


def test_approval_is_scoped(pending, outsider, assessor):
    with pytest.raises(NotFound):
        services.volunteer_approve(actor=outsider, volunteer_id=pending.pk)
    with pytest.raises(PermissionDenied):
        services.volunteer_approve(actor=assessor, volunteer_id=pending.pk)
    assert Volunteer.objects.get(pk=pending.pk).status == VolunteerStatus.PENDING


# --- resubmit -------------------------------------------------------------------------------------------


@pytest.fixture
def rejected_applicant(tree, owner):
    v = volunteer_register(
        actor=None,
        data=registration(tree.st_a1, name="王芳"),
        channel=RegistrationChannel.SELF,
        password="Lei-feng-2024",
    )
    services.volunteer_reject(actor=owner, volunteer_id=v.pk, reason="请选择居住地所在的站")
    return Volunteer.objects.get(pk=v.pk)


def test_resubmit_moves_rejected_back_to_pending(tree, rejected_applicant):
    user = rejected_applicant.user
    data = registration(tree.st_a2, name="王芳芳", id_number="", phone=rejected_applicant.phone)
    v = services.volunteer_resubmit(actor=user, data=data)
    v.refresh_from_db()
    assert (v.status, v.rejection_reason, v.org_id, v.name) == ("pending", "", tree.st_a2.pk, "王芳芳")
    assert v.id_index == rejected_applicant.id_index  # an empty ID field keeps the ID
    assert RoleAssignment.objects.get(user=user, role=Role.VOLUNTEER).org_id == tree.st_a2.pk
    event = AuditEvent.objects.get(action="volunteer.resubmit")
    assert event.actor_id == user.pk and event.changes["status"] == ["rejected", "pending"]
    assert event.changes["name"] == ["王芳", "王芳芳"]


def test_resubmit_needs_consent_again_and_only_from_rejected(tree, rejected_applicant, pending, owner):
    user = rejected_applicant.user
    with pytest.raises(ValidationError):
        services.volunteer_resubmit(actor=user, data=registration(tree.st_a1, id_number="", consent=False))
    services.volunteer_resubmit(actor=user, data=registration(tree.st_a1, id_number="", phone=rejected_applicant.phone))
    with pytest.raises(ServiceError) as exc:
        services.volunteer_resubmit(actor=user, data=registration(tree.st_a1, id_number=""))
    assert exc.value.code == "invalid_transition"
    with pytest.raises(NotFound):  # staff have no registration of their own
        services.volunteer_resubmit(actor=owner, data=registration(tree.st_a1))


# --- update -----------------------------------------------------------------------------------------------


def test_update_revalidates_and_reindexes_a_new_id(tree, owner, pending):
    new = make_ric("110105", date(1970, 1, 1), 111)
    with pytest.raises(ValidationError) as exc:
        services.volunteer_update(
            actor=owner, volunteer_id=pending.pk, data=registration(tree.st_a1, id_number=new[:-1] + "Y")
        )
    assert "id_number" in fields_of(exc)
    services.volunteer_update(
        actor=owner, volunteer_id=pending.pk, data=registration(tree.st_a1, name="李娜娜", id_number=new)
    )
    v = Volunteer.objects.get(pk=pending.pk)
    assert v.id_index == crypto.blind_index(IdType.RIC, new) and crypto.decrypt(v.id_number_encrypted) == new
    assert (v.birth_date, v.gender, v.name_initials) == (date(1970, 1, 1), "m", "lnn")
    event = AuditEvent.objects.get(action="volunteer.update")
    assert event.changes["name"] == ["李娜", "李娜娜"] and event.changes["id_number"] == "changed"
    assert new not in str(event.changes)


def test_update_moves_the_account_role_with_the_station(tree, center_admin, rejected_applicant):
    data = registration(tree.st_a2, name="王芳", id_number="", phone=rejected_applicant.phone)
    services.volunteer_update(actor=center_admin, volunteer_id=rejected_applicant.pk, data=data)
    assert RoleAssignment.objects.get(user=rejected_applicant.user, role=Role.VOLUNTEER).org_id == tree.st_a2.pk
    assert AuditEvent.objects.get(action="volunteer.update").changes["org_id"] == [tree.st_a1.pk, tree.st_a2.pk]


def test_update_keeps_the_id_when_left_empty_and_refuses_a_duplicate(tree, owner, pending):
    other = volunteer_register(actor=owner, data=registration(tree.st_a1))
    services.volunteer_update(actor=owner, volunteer_id=pending.pk, data=registration(tree.st_a1, id_number=""))
    assert Volunteer.objects.get(pk=pending.pk).id_index == pending.id_index
    with pytest.raises(ValidationError) as exc:
        services.volunteer_update(
            actor=owner,
            volunteer_id=pending.pk,
            data=registration(tree.st_a1, id_number=crypto.decrypt(other.id_number_encrypted)),
        )
    assert fields_of(exc)["id_number"] == ["A volunteer with this ID number is already registered."]


def test_update_is_scoped(tree, pending, outsider, assessor, owner):
    with pytest.raises(NotFound):
        services.volunteer_update(actor=outsider, volunteer_id=pending.pk, data=registration(tree.st_a1))
    with pytest.raises(PermissionDenied):
        services.volunteer_update(actor=assessor, volunteer_id=pending.pk, data=registration(tree.st_a1))
    with pytest.raises(ValidationError) as exc:  # moving it out of one's own subtree
        services.volunteer_update(actor=owner, volunteer_id=pending.pk, data=registration(tree.st_b1, id_number=""))
    assert "org_id" in fields_of(exc)


# --- reveal ------------------------------------------------------------------------------------------------


def test_reveal_is_audited(pending, colleague):
    full = services.volunteer_reveal_id(actor=colleague, volunteer=pending)
    assert full == crypto.decrypt(pending.id_number_encrypted)
    event = AuditEvent.objects.get(action="volunteer.reveal_id")
    assert (event.actor_id, event.object_id, event.org_id) == (colleague.pk, str(pending.pk), pending.org_id)
    assert full not in str(event.changes) + event.note + event.object_repr


def test_reveal_is_refused_to_assessor_and_outsider(pending, assessor, outsider):
    with pytest.raises(PermissionDenied):
        services.volunteer_reveal_id(actor=assessor, volunteer=pending)
    with pytest.raises(NotFound):
        services.volunteer_reveal_id(actor=outsider, volunteer=pending)
    assert not AuditEvent.objects.filter(action="volunteer.reveal_id").exists()


def test_the_registration_table_is_the_one_transition_helper(make_status, colleague):
    """VOLUNTEER_TRANSITIONS is a core Transitions; a named move from the wrong state is refused with both labels."""
    assert isinstance(VOLUNTEER_TRANSITIONS, Transitions)
    v = make_status(VolunteerStatus.SUSPENDED)  # the table reaches APPROVED from here, but only by reinstating
    with translation.override("en"), pytest.raises(ServiceError) as exc:
        services.volunteer_approve(actor=colleague, volunteer_id=v.pk)
    assert exc.value.message == "A registration that is “Suspended” cannot become “Approved”."
    assert exc.value.status == 400 and exc.value.code == "invalid_transition"
