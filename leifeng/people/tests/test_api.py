"""/api/v1/people/: token auth, one error format, pagination, the three personas."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leifeng.core import crypto
from leifeng.core.idnumbers import make_ric
from leifeng.core.models import AuditEvent
from leifeng.people import services
from leifeng.people.models import RegistrationChannel, Skill, Volunteer, VolunteerStatus
from leifeng.people.tests.conftest import registration, ric_born, years_ago
from leifeng.testing import VolunteerFactory

API = "/api/v1/people"


def payload(org, **kw) -> dict:
    body = {
        "org_id": org.pk,
        "name": "杨磊",
        "id_number": make_ric("110105", date(1988, 1, 9), 777),
        "phone": "13911112222",
        "skills": ["急救"],
        "available_times": ["weekend", "holidays"],
        "political_status": "cpc",
        "in_service_party_member": True,
        "consent": True,
    }
    body.update(kw)
    return body


def post(client: Client, path: str, body: dict | None = None):
    return client.post(f"{API}{path}", body or {}, content_type="application/json")


@pytest.fixture
def v_a1(tree, owner):
    return services.volunteer_register(actor=owner, data=registration(tree.st_a1, name="周明"))


# --- public self-registration --------------------------------------------------------------------------


def test_anonymous_self_registration(tree):
    response = post(Client(), "/volunteers/register", payload(tree.st_a2, password="Lei-feng-2024"))
    assert response.status_code == 201
    body = response.json()
    v = Volunteer.objects.get(number=body["number"])
    assert body["status"] == "pending" and v.channel == RegistrationChannel.SELF and v.user.phone == "13911112222"


def test_registration_errors_name_the_field(tree):
    response = post(
        Client(),
        "/volunteers/register",
        payload(tree.st_a2, password="Lei-feng-2024", id_number=ric_born(years_ago(16)), consent=False),
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {"consent", "guardian_name", "guardian_phone", "guardian_consent"} <= set(error["fields"])
    assert not Volunteer.objects.exists()


def test_registration_schema_errors_name_the_field(tree):
    response = post(Client(), "/volunteers/register", {"org_id": "x", "name": "杨磊"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {"org_id", "id_number", "phone", "password"} <= set(fields)


@pytest.mark.parametrize(
    "field",
    ["name", "address", "email", "guardian_name", "phone", "id_number", "political_status", "skills", "password"],
)
def test_a_nul_character_is_refused_naming_the_field_and_nothing_is_saved(tree, field):
    """PostgreSQL cannot store NUL: name, address and skills reached it and answered 500."""
    body = payload(tree.st_a2, password="Lei-feng-2024", extra_info_consent=True, address="东关5号楼")
    body[field] = ["急救\x00"] if field == "skills" else (body.get(field) or "x") + "\x00"

    response = post(Client(), "/volunteers/register", body)

    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields and ("空字符" in fields[field][0] or "Null characters" in fields[field][0])
    assert not Volunteer.objects.exists() and not get_user_model().objects.exists()


def test_staff_endpoints_need_a_token(tree, v_a1):
    for response in (Client().get(f"{API}/volunteers"), post(Client(), "/volunteers", payload(tree.st_a1))):
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


# --- staff entry ------------------------------------------------------------------------------------------


def test_staff_entry(api_for, tree, colleague):
    response = post(api_for(colleague), "/volunteers", payload(tree.st_a1))
    assert response.status_code == 201
    body = response.json()
    assert body["id_masked"].startswith("110105") and "*" in body["id_masked"] and body["id_number"] is None
    assert (body["gender"], body["birth_date"], body["skills"]) == ("m", "1988-01-09", ["急救"])
    assert Volunteer.objects.get(number=body["number"]).channel == RegistrationChannel.STAFF


def test_staff_entry_outside_scope_is_refused_by_field(api_for, tree, outsider):
    response = post(api_for(outsider), "/volunteers", payload(tree.st_a1))
    assert response.status_code == 400 and "org_id" in response.json()["error"]["fields"]


# --- list -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who,count", [("owner", 1), ("colleague", 1), ("outsider", 0), ("assessor", 2)])
def test_list_is_scoped(api_for, request, tree, v_a1, who, count):
    VolunteerFactory(org=tree.st_a2)
    body = api_for(request.getfixturevalue(who)).get(f"{API}/volunteers").json()
    assert body["count"] == count and len(body["items"]) == count


def test_list_filters_match_the_page(api_for, tree, owner, v_a1):
    other = VolunteerFactory(org=tree.st_a1, name="黄强", political_status="cpc", in_service_party_member=True)
    other.skills.add(Skill.objects.create(name="法律咨询"))
    client = api_for(owner)

    def numbers(**params) -> set[str]:
        return {item["number"] for item in client.get(f"{API}/volunteers", params).json()["items"]}

    assert numbers(q="zm") == {v_a1.number}
    assert numbers(q="huangqiang") == {other.number}
    assert numbers(q=other.phone) == {other.number}
    assert numbers(status="approved") == {other.number}
    assert numbers(in_service_party_member="true") == {other.number}
    assert numbers(in_service_party_member="false") == {v_a1.number}
    assert numbers(skill="法律咨询") == {other.number}
    assert numbers(org=tree.st_b1.pk) == set()


@pytest.mark.parametrize("page_size", [2, 50])
def test_list_queries_do_not_grow_with_page_size(api_for, django_assert_num_queries, tree, owner, page_size):
    VolunteerFactory.create_batch(60, org=tree.st_a1)
    client = api_for(owner)
    client.get(f"{API}/volunteers")  # the token's first use stamps last_used_at; measure a later call
    with django_assert_num_queries(5):
        # 1 the token with its user, 2 the user's roles (scope), 3 ids of the stations in scope,
        # 4 capped COUNT of the matches, 5 the page of rows with org and unit joined
        body = client.get(f"{API}/volunteers", {"page_size": page_size}).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (60, False, page_size)
    assert body["items"][0]["org_name"] == "东关社区站"


def test_list_count_is_capped_but_pages_go_on(api_for, tree, owner, monkeypatch):
    from leifeng.people import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    VolunteerFactory.create_batch(5, org=tree.st_a1)
    client = api_for(owner)
    body = client.get(f"{API}/volunteers", {"page_size": 2, "page": 3}).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (2, True, 1)


# --- detail and reveal ----------------------------------------------------------------------------------


def test_outsider_gets_404_on_every_object(api_for, outsider, v_a1):
    client = api_for(outsider)
    for response in (
        client.get(f"{API}/volunteers/{v_a1.number}"),
        client.get(f"{API}/volunteers/{v_a1.number}", {"reveal": "true"}),
        post(client, f"/volunteers/{v_a1.number}/approve"),
        post(client, f"/volunteers/{v_a1.number}/reject", {"reason": "x"}),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.PENDING
    assert not AuditEvent.objects.filter(action="volunteer.reveal_id").exists()


def test_detail_is_masked_unless_revealed_and_reveal_is_audited(api_for, colleague, v_a1):
    client = api_for(colleague)
    body = client.get(f"{API}/volunteers/{v_a1.number}").json()
    full = crypto.decrypt(v_a1.id_number_encrypted)
    assert body["id_number"] is None and body["id_masked"] == v_a1.id_masked and full not in str(body)
    assert not AuditEvent.objects.filter(action="volunteer.reveal_id").exists()
    body = client.get(f"{API}/volunteers/{v_a1.number}", {"reveal": "true"}).json()
    assert body["id_number"] == full
    event = AuditEvent.objects.get(action="volunteer.reveal_id")
    assert event.actor == colleague and event.object_id == str(v_a1.pk)


def test_reveal_is_refused_to_an_assessor(api_for, assessor, v_a1):
    client = api_for(assessor)
    assert client.get(f"{API}/volunteers/{v_a1.number}").status_code == 200
    response = client.get(f"{API}/volunteers/{v_a1.number}", {"reveal": "true"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert not AuditEvent.objects.filter(action="volunteer.reveal_id").exists()


# --- approve and reject -----------------------------------------------------------------------------------


def test_approve(api_for, owner, v_a1):
    response = post(api_for(owner), f"/volunteers/{v_a1.number}/approve")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    again = post(api_for(owner), f"/volunteers/{v_a1.number}/approve")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_transition"


def test_reject_needs_a_reason(api_for, colleague, v_a1):
    client = api_for(colleague)
    response = post(client, f"/volunteers/{v_a1.number}/reject", {"reason": " "})
    assert response.status_code == 400 and response.json()["error"]["fields"] == {
        "reason": [response.json()["error"]["message"]]
    }
    response = post(client, f"/volunteers/{v_a1.number}/reject", {"reason": "证件照片模糊"})
    assert response.json()["status"] == "rejected" and response.json()["rejection_reason"] == "证件照片模糊"


def test_assessor_cannot_decide(api_for, assessor, v_a1):
    response = post(api_for(assessor), f"/volunteers/{v_a1.number}/approve")
    assert response.status_code == 403
    assert Volunteer.objects.get(pk=v_a1.pk).status == VolunteerStatus.PENDING


# --- skills -----------------------------------------------------------------------------------------------


def test_skills_are_listed_paginated(api_for, owner):
    Skill.objects.bulk_create([Skill(name=n) for n in ("急救", "摄影", "法律咨询")])
    body = api_for(owner).get(f"{API}/skills", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["items"]) == 2
