"""/api/v1/hours/certificates/: the three personas, the one error format, pagination, the public check."""

from datetime import date

import pytest
from django.test import Client

from leifeng.hours import certificates as certs
from leifeng.hours.models import CertificateStatus
from leifeng.hours.tests import test_certificate_services as svc
from leifeng.testing import make_user

API = "/api/v1/hours/certificates"
LIST = f"{API}/"  # the collection (list, request)
vol_user = svc.vol_user
volunteer = svc.volunteer
ledger = svc.ledger


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def requested(ledger, vol_user, tree):
    return svc.ask(vol_user, tree.st_a1)


def test_volunteer_asks_and_staff_issue_through_the_api(ledger, vol_user, owner, client_for, tree):
    response = post(
        client_for(vol_user), LIST, {"org_id": tree.st_a1.pk, "period_from": "2026-01-01", "period_to": "2026-11-20"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "requested" and body["number"] is None and body["content"] is None
    assert body["volunteer_number"] == "LF3201000001" and body["org_name"] == "东关社区站"

    response = post(
        client_for(owner), f"{API}/{body['id']}/issue", {"person_in_charge": "李站长", "contact_phone": "0531-1"}
    )
    assert response.status_code == 200, response.content
    issued = response.json()
    assert issued["status"] == "issued" and issued["total_minutes"] == 370
    assert issued["number"].startswith("ZM") and issued["verification_url"].endswith("/")
    assert [r["kind"] for r in issued["content"]["rows"]] == ["verified", "verified", "backfilled", "verified"]


def test_errors_use_the_one_format(ledger, vol_user, client_for, tree):
    client = client_for(vol_user)
    response = post(client, LIST, {"org_id": tree.st_a1.pk, "period_from": "2026-08-01", "period_to": "2026-08-31"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "period_from" in error["fields"]
    response = post(client, LIST, {"org_id": tree.st_a1.pk, "period_from": "2026-01-01"})
    assert response.status_code == 422 and "period_to" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("colleague", 200), ("outsider", 404), ("assessor", 403)]
)
def test_issue_three_personas(persona, status, requested, request, client_for):
    user = request.getfixturevalue(persona)
    response = post(
        client_for(user), f"{API}/{requested.pk}/issue", {"person_in_charge": "李站长", "contact_phone": "0531-1"}
    )
    assert response.status_code == status, response.content
    if status == 404:
        assert response.json()["error"]["code"] == "not_found"
    requested.refresh_from_db()
    assert (requested.status == CertificateStatus.ISSUED) == (status == 200)


def test_only_the_organizer_and_never_the_volunteer(ledger, vol_user, owner, client_for, tree):
    other = svc.ask(vol_user, tree.st_a2)
    response = post(client_for(owner), f"{API}/{other.pk}/issue", {"person_in_charge": "x", "contact_phone": "1"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_organizer"
    own = svc.ask(vol_user, tree.st_a1)
    response = post(client_for(vol_user), f"{API}/{own.pk}/issue", {"person_in_charge": "x", "contact_phone": "1"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_certificate"


@pytest.mark.parametrize(("persona", "visible"), [("owner", True), ("colleague", True), ("outsider", False)])
def test_detail_and_pdf_three_personas(persona, visible, requested, owner, request, client_for):
    certs.certificate_issue(actor=owner, certificate_id=requested.pk, person_in_charge="李", contact_phone="1")
    client = client_for(request.getfixturevalue(persona))
    assert client.get(f"{API}/{requested.pk}").status_code == (200 if visible else 404)
    response = client.get(f"{API}/{requested.pk}/pdf")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_refuse_and_revoke(requested, owner, vol_user, client_for, tree):
    client = client_for(owner)
    assert post(client, f"{API}/{requested.pk}/refuse", {"reason": ""}).status_code == 400
    body = post(client, f"{API}/{requested.pk}/refuse", {"reason": "时段有误"}).json()
    assert body["status"] == "refused" and body["decision_note"] == "时段有误"
    assert client.get(f"{API}/{requested.pk}/pdf").json()["error"]["code"] == "not_issued"
    again = svc.ask(vol_user, tree.st_a1)
    post(client, f"{API}/{again.pk}/issue", {"person_in_charge": "李", "contact_phone": "1"})
    assert post(client, f"{API}/{again.pk}/revoke", {"reason": "重复出具"}).json()["status"] == "revoked"
    assert post(client, f"{API}/{again.pk}/revoke", {"reason": "再次"}).status_code == 409


def test_verify_needs_no_login_and_shows_only_the_certificate(requested, owner):
    anonymous = Client()
    assert anonymous.get(f"{API}/verify/{requested.verification_code}").status_code == 404
    certs.certificate_issue(actor=owner, certificate_id=requested.pk, person_in_charge="李", contact_phone="1")
    body = anonymous.get(f"{API}/verify/{requested.verification_code}").json()
    requested.refresh_from_db()
    assert body["genuine"] is True and body["number"] == requested.number and body["org_name"] == "东关社区站"
    assert body["content"]["id_masked"] == requested.volunteer.id_masked
    assert requested.volunteer.phone not in str(body)
    certs.certificate_revoke(actor=owner, certificate_id=requested.pk, reason="重复出具")
    body = anonymous.get(f"{API}/verify/{requested.verification_code}").json()
    assert body["genuine"] is False and body["status"] == "revoked" and body["revoked_at"]
    response = anonymous.get(f"{API}/verify/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert anonymous.get(f"{API}/{requested.pk}").status_code == 401  # everything else needs a login


@pytest.mark.parametrize("page_size", [1, 50])
def test_list_is_scoped_paginated_and_constant_in_queries(
    page_size, ledger, vol_user, owner, outsider, client_for, tree, django_assert_num_queries
):
    for month in (3, 4, 5):
        svc.ask(vol_user, tree.st_a1, period_to=date(2026, month, 28))
    svc.ask(vol_user, tree.st_a2)
    client = client_for(owner)
    client.get(LIST)
    # session with its account, roles and volunteer flag (accounts.middleware), count,
    # the page (volunteer/org/requester/handler joined)
    with django_assert_num_queries(3):
        body = client.get(LIST, {"page_size": page_size}).json()
    assert body["count"] == 4 and len(body["items"]) == min(page_size, 4)
    assert client.get(LIST, {"to_decide": True}).json()["count"] == 3  # 西街's is not 东关's to issue
    assert client.get(LIST, {"status": "issued"}).json()["count"] == 0
    assert client_for(outsider).get(LIST).json()["count"] == 0
    assert client_for(vol_user).get(LIST, {"mine": True}).json()["count"] == 4
    stranger = make_user("stranger")
    assert client_for(stranger).get(LIST).json()["count"] == 0
