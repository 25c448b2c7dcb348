"""Certificate pages with the three personas, the volunteer and an anonymous visitor of the verification page."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from leifeng.core.models import AuditEvent
from leifeng.hours import certificates as certs
from leifeng.hours.models import Certificate, CertificateStatus
from leifeng.hours.tests import test_certificate_services as svc

vol_user = svc.vol_user
volunteer = svc.volunteer
ledger = svc.ledger


@pytest.fixture
def issued(ledger, vol_user, owner, tree):
    cert = svc.ask(vol_user, tree.st_a1)
    return certs.certificate_issue(
        actor=owner, certificate_id=cert.pk, person_in_charge="李站长", contact_phone="0531-1234567", now=svc.NOW
    )


def test_volunteer_asks_for_a_certificate_among_the_nodes_that_recorded_them(ledger, vol_user, client_for, tree):
    client = client_for(vol_user)
    page = client.get(reverse("hours:my_certificates")).content.decode()
    assert "我的志愿服务证明" in page
    for name in ("东关社区站", "西街社区站", "长安街道分中心"):  # the nodes that recorded service for them
        assert f">{name}</option>" in page
    assert ">北村站</option>" not in page
    response = client.post(
        reverse("hours:my_certificates"),
        {"org": tree.st_a1.pk, "period_from": "2026-01-01", "period_to": "2026-11-20"},
        follow=True,
    )
    assert "申请已提交" in response.content.decode()
    cert = Certificate.objects.get()
    assert (cert.org, cert.status, cert.requested_by) == (tree.st_a1, CertificateStatus.REQUESTED, vol_user)
    response = client.post(
        reverse("hours:my_certificates"), {"org": tree.st_a1.pk, "period_from": "2026-08-01", "period_to": "2026-08-31"}
    )
    assert "在此期间没有记录服务时长" in response.content.decode()
    assert Certificate.objects.count() == 1


def test_my_certificates_for_staff_without_a_volunteer_profile(owner, client_for):
    page = client_for(owner).get(reverse("hours:my_certificates")).content.decode()
    assert "只有注册志愿者才有服务证明" in page and "<form" not in page.split("<main")[1]


def test_my_certificates_query_count_does_not_grow(
    ledger, vol_user, owner, client_for, tree, django_assert_num_queries
):
    for month in (3, 4, 5):
        svc.ask(vol_user, tree.st_a1, period_to=date(2026, month, 28))
    client = client_for(vol_user)
    client.get(reverse("hours:my_certificates"))
    # session with its account, roles and volunteer flag (accounts.middleware), volunteer profile, count for the
    # pager, any certifying node? (has_orgs), the page of certificates (volunteer/org/requester/handler joined),
    # certifying nodes (form choices)
    with django_assert_num_queries(6):
        page = client.get(reverse("hours:my_certificates"))
    assert page.content.decode().count("申请中") == 3


def test_queue_three_personas(
    ledger, vol_user, owner, colleague, outsider, client_for, tree, django_assert_num_queries
):
    svc.ask(vol_user, tree.st_a1)
    svc.ask(vol_user, tree.st_a1, period_to=date(2026, 4, 30))
    svc.ask(vol_user, tree.st_a2)  # 西街's: not in 东关's queue
    url = reverse("hours:certificate_queue")
    client = client_for(owner)
    client.get(url)
    # session with its account, roles and volunteer flag (accounts.middleware), count,
    # the page (volunteer/org/requester/handler joined), nodes for the request form
    with django_assert_num_queries(4):
        page = client.get(url).content.decode()
    assert page.count("LF3201000001") == 2 and "西街社区站</td>" not in page
    assert client_for(colleague).get(url).content.decode().count("LF3201000001") == 2
    assert "张伟" not in client_for(outsider).get(url).content.decode()
    assert client_for(vol_user).get(url).status_code == 404


def test_staff_asks_on_a_volunteers_behalf(ledger, colleague, outsider, client_for, tree):
    data = {
        "volunteer_number": "LF3201000001",
        "org": tree.st_a1.pk,
        "period_from": "2026-01-01",
        "period_to": "2026-06-30",
    }
    response = client_for(outsider).post(reverse("hours:certificate_queue"), {**data, "org": tree.st_b1.pk})
    assert "没有这个志愿者编号" in response.content.decode()
    response = client_for(colleague).post(reverse("hours:certificate_queue"), data)
    cert = Certificate.objects.get()
    assert response.status_code == 302 and response.url == reverse("hours:certificate_detail", args=[cert.pk])


def test_issue_refuse_and_revoke_from_the_page(ledger, vol_user, owner, colleague, outsider, client_for, tree):
    cert = svc.ask(vol_user, tree.st_a1)
    detail = reverse("hours:certificate_detail", args=[cert.pk])
    assert client_for(outsider).get(detail).status_code == 404
    assert client_for(outsider).post(reverse("hours:certificate_issue", args=[cert.pk])).status_code == 404
    page = client_for(colleague).get(detail).content.decode()
    assert "出具证明" in page and "学雷锋日清扫街道" in page  # the hours it would cover
    assert "出具证明</button>" not in client_for(vol_user).get(detail).content.decode()

    response = client_for(colleague).post(
        reverse("hours:certificate_issue", args=[cert.pk]),
        {"person_in_charge": "李站长", "contact_phone": "0531-1234567"},
        follow=True,
    )
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.ISSUED and cert.number in response.content.decode()

    other = svc.ask(vol_user, tree.st_a2)  # 西街 organized it: 东关's colleague sees it but may not decide
    assert (
        client_for(colleague).post(reverse("hours:certificate_refuse", args=[other.pk]), {"reason": "x"}).status_code
        == 403
    )
    response = client_for(owner).post(reverse("hours:certificate_revoke", args=[cert.pk]), {"reason": ""})
    assert response.status_code == 200 and "这个字段是必填项" in response.content.decode()
    client_for(owner).post(reverse("hours:certificate_revoke", args=[cert.pk]), {"reason": "重复出具"})
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED


def test_pdf_download_for_the_volunteer_and_staff_only(issued, vol_user, colleague, outsider, client_for):
    url = reverse("hours:certificate_pdf", args=[issued.pk])
    response = client_for(vol_user).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and issued.number in response["Content-Disposition"]
    assert client_for(colleague).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="certificate.download").count() == 2


def test_public_verification_page(issued, owner, tree):
    anonymous = Client()
    url = reverse("hours:certificate_verify", args=[issued.verification_code])
    page = anonymous.get(url).content.decode()
    assert "证明真实有效" in page and issued.number in page and "张伟" in page and "东关社区站" in page
    assert issued.content["id_masked"] in page and "6.17" in page and "事后补录" in page
    assert issued.volunteer.phone not in page  # nothing beyond the certificate's own content
    certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="重复出具")
    page = anonymous.get(url).content.decode()
    assert "此证明已撤销" in page and "证明真实有效" not in page
    response = anonymous.get(reverse("hours:certificate_verify", args=["made-up-code"]))
    assert response.status_code == 404 and "查无此证明" in response.content.decode()


def test_request_code_does_not_verify(ledger, vol_user, tree):
    cert = svc.ask(vol_user, tree.st_a1)
    assert Client().get(reverse("hours:certificate_verify", args=[cert.verification_code])).status_code == 404


def test_queue_filters_by_status_with_an_htmx_partial(issued, vol_user, owner, client_for, tree):
    waiting = svc.ask(vol_user, tree.st_a1, period_to=date(2026, 3, 31))
    client = client_for(owner)
    page = client.get(reverse("hours:certificate_queue")).content.decode()  # default: still to issue
    assert reverse("hours:certificate_detail", args=[waiting.pk]) in page and issued.number not in page
    response = client.get(reverse("hours:certificate_queue"), {"status": "issued"}, HTTP_HX_REQUEST="true")
    partial = response.content.decode()
    assert "<html" not in partial and 'id="results"' in partial
    assert issued.number in partial and reverse("hours:certificate_detail", args=[waiting.pk]) not in partial
