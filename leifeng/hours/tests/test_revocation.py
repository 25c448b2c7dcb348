"""A certificate's revocation is a column (revoked_at, revoked_by), set by the revocation service and read from
there by the detail page, the API and the public check; the migration copied it out of the audit trail."""

import importlib
from datetime import datetime

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from leifeng.core.errors import Conflict
from leifeng.core.models import AuditEvent
from leifeng.hours import certificates as certs
from leifeng.hours.models import Certificate, CertificateStatus
from leifeng.hours.tests import test_certificate_services as svc

vol_user = svc.vol_user
volunteer = svc.volunteer
ledger = svc.ledger

REVOKED = datetime.fromisoformat("2026-11-25T09:30:00+08:00")


@pytest.fixture
def issued(ledger, vol_user, owner, tree):
    cert = svc.ask(vol_user, tree.st_a1)
    return certs.certificate_issue(
        actor=owner, certificate_id=cert.pk, person_in_charge="李站长", contact_phone="0531-1234567", now=svc.NOW
    )


def test_revoking_sets_the_columns_and_the_reason(issued, owner):
    assert (issued.revoked_at, issued.revoked_by) == (None, None)
    cert = certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="重复出具", now=REVOKED)
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED
    assert (cert.revoked_at, cert.revoked_by, cert.decision_note) == (REVOKED, owner, "重复出具")
    assert certs.revoked_at(cert) == REVOKED
    event = AuditEvent.objects.get(action="certificate.revoke", object_id=str(cert.pk))
    assert event.changes["status"] == ["issued", "revoked"] and event.changes["revoked_by"] == [None, owner.pk]


def test_the_time_is_read_from_the_column_not_the_audit_trail(issued, owner):
    certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="重复出具", now=REVOKED)
    AuditEvent.objects.filter(action="certificate.revoke").delete()  # the trail says nothing any more
    found = certs.certificate_verify(code=issued.verification_code)
    assert certs.revoked_at(found) == REVOKED


def test_a_refused_or_issued_certificate_has_no_revocation(issued, ledger, vol_user, owner, tree):
    assert certs.revoked_at(issued) is None
    refused = certs.certificate_refuse(actor=owner, certificate_id=svc.ask(vol_user, tree.st_a1).pk, reason="时段有误")
    assert refused.revoked_at is None and certs.revoked_at(refused) is None


def test_a_second_revocation_is_refused_and_keeps_the_first_time(issued, owner):
    certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="重复出具", now=REVOKED)
    with pytest.raises(Conflict) as exc:
        certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="再次", now=svc.NOW)
    assert exc.value.code == "bad_status"
    issued.refresh_from_db()
    assert issued.revoked_at == REVOKED and issued.decision_note == "重复出具"


def test_pages_and_api_show_the_revocation(issued, owner, vol_user, client_for):
    certs.certificate_revoke(actor=owner, certificate_id=issued.pk, reason="重复出具", now=REVOKED)
    detail = client_for(vol_user).get(reverse("hours:certificate_detail", args=[issued.pk])).content.decode()
    assert 'id="revoked-at">2026-11-25 09:30 · 站长<' in detail and "撤销时间" in detail
    verify = Client().get(reverse("hours:certificate_verify", args=[issued.verification_code])).content.decode()
    assert "东关社区站已于 2026-11-25 撤销此证明" in verify
    body = client_for(owner).get(f"/api/v1/hours/certificates/{issued.pk}").json()
    assert datetime.fromisoformat(body["revoked_at"]) == REVOKED
    check = Client().get(f"/api/v1/hours/certificates/verify/{issued.verification_code}").json()
    assert datetime.fromisoformat(check["revoked_at"]) == REVOKED


def test_an_issued_certificate_shows_no_revocation(issued, vol_user, client_for):
    detail = client_for(vol_user).get(reverse("hours:certificate_detail", args=[issued.pk])).content.decode()
    assert 'id="revoked-at"' not in detail
    assert client_for(vol_user).get(f"/api/v1/hours/certificates/{issued.pk}").json()["revoked_at"] is None


def test_the_migration_copies_the_latest_revocation_out_of_the_audit_trail(issued, owner, colleague):
    """A certificate revoked before the columns existed: its time and actor come from its latest revoke event."""
    migration = importlib.import_module("leifeng.hours.migrations.0003_certificate_revoked")
    Certificate.objects.filter(pk=issued.pk).update(status=CertificateStatus.REVOKED, decision_note="重复出具")
    first = AuditEvent.objects.create(
        actor=colleague, action="certificate.revoke", object_type="hours.certificate", object_id=str(issued.pk)
    )
    last = AuditEvent.objects.create(
        actor=owner, action="certificate.revoke", object_type="hours.certificate", object_id=str(issued.pk)
    )
    AuditEvent.objects.filter(pk=first.pk).update(created_at=datetime.fromisoformat("2026-11-23T08:00:00+08:00"))
    AuditEvent.objects.filter(pk=last.pk).update(created_at=REVOKED)
    AuditEvent.objects.create(  # another certificate's event changes nothing here
        actor=colleague, action="certificate.revoke", object_type="hours.certificate", object_id="999999"
    )

    migration.copy_from_audit(apps, None)

    issued.refresh_from_db()
    assert (issued.revoked_at, issued.revoked_by) == (REVOKED, owner)
    assert certs.revoked_at(issued) == REVOKED
