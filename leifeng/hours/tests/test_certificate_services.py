"""Certificates: only the organizer certifies, content frozen right (reversals, back-fills), verification, PDF.

Ledger rows are created directly (this module owns no ledger service), the way the ledger leaves them.
"""

import threading
from datetime import date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from leifeng.accounts.models import Role
from leifeng.core import crypto
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.core.models import AuditEvent
from leifeng.hours import certificates as certs
from leifeng.hours.certificates.pdf import render_document
from leifeng.hours.codes import ErrorCode
from leifeng.hours.models import Certificate, CertificateStatus, RecordKind, RecordSource, ServiceRecord
from leifeng.orgs.models import Position, PositionTitle
from leifeng.testing import VolunteerFactory, build_tree, grant, make_user

TODAY = date(2026, 11, 22)
NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
PERIOD = {"period_from": date(2026, 1, 1), "period_to": date(2026, 11, 20)}


def add_record(
    volunteer, org, day: date, minutes: int, *, kind=RecordKind.VERIFIED, content="社区环境整治", reverses=None
):
    """A ledger row as the hours services leave it (a reversal: negative minutes, `reverses` set)."""
    return ServiceRecord.objects.create(
        volunteer=volunteer,
        org=org,
        kind=kind,
        source=RecordSource.CORRECTION
        if reverses
        else (RecordSource.BACKFILL if kind == RecordKind.BACKFILLED else RecordSource.ATTENDANCE),
        content=content,
        service_date=day,
        minutes=minutes,
        reverses=reverses,
        reason="录错了" if reverses else "",
    )


@pytest.fixture
def vol_user(tree):
    return make_user("vol", role=Role.VOLUNTEER, org=tree.st_a1, display_name="张伟")


@pytest.fixture
def volunteer(vol_user, tree):
    return VolunteerFactory(user=vol_user, org=tree.st_a1, name="张伟", number="LF3201000001")


@pytest.fixture
def ledger(volunteer, tree):
    """东关社区站 recorded 2 h + 1.5 h verified, 1 h back-filled, 2.5 h reversed and re-entered as 100 min;
    西街社区站 (another node) 5 h; the sub-center above 东关 3 h; 东关 also 4 h outside the period."""
    add_record(volunteer, tree.st_a1, date(2026, 3, 5), 120, content="学雷锋日清扫街道")
    add_record(volunteer, tree.st_a1, date(2026, 3, 12), 90, content="敬老院陪护")
    add_record(volunteer, tree.st_a1, date(2026, 4, 2), 60, kind=RecordKind.BACKFILLED, content="文明交通劝导")
    wrong = add_record(volunteer, tree.st_a1, date(2026, 5, 1), 150, content="社区义诊")
    add_record(volunteer, tree.st_a1, date(2026, 5, 1), -150, reverses=wrong, content="社区义诊")
    add_record(volunteer, tree.st_a1, date(2026, 5, 1), 100, content="社区义诊（更正）")
    add_record(volunteer, tree.st_a2, date(2026, 6, 1), 300, content="西街助残")
    add_record(volunteer, tree.sub_a, date(2026, 6, 2), 180, content="街道宣讲")
    add_record(volunteer, tree.st_a1, date(2025, 12, 31), 240, content="去年的服务")
    return volunteer


def ask(actor, org, **kw):
    return certs.certificate_request(actor=actor, org_id=org.pk, today=TODAY, **{**PERIOD, **kw})


def test_issue_freezes_content_net_of_reversals_with_backfills_marked(ledger, vol_user, owner, tree):
    Position.objects.create(
        org=tree.st_a1, title=PositionTitle.STATION_HEAD, person_name="李站长", phone="0531-1234567"
    )
    cert = ask(vol_user, tree.st_a1)
    assert cert.status == CertificateStatus.REQUESTED and cert.number is None

    cert = certs.certificate_issue(actor=owner, certificate_id=cert.pk, now=NOW)

    c = cert.content
    assert cert.status == CertificateStatus.ISSUED
    # only 东关's own rows in the period: 120 + 90 + 60 (back-filled) + 100 (the re-entered correction)
    assert cert.total_minutes == c["total_minutes"] == 370
    assert c["total_hours"] == "6.17"
    assert [(r["date"], r["minutes"], r["kind"]) for r in c["rows"]] == [
        ("2026-03-05", 120, "verified"),
        ("2026-03-12", 90, "verified"),
        ("2026-04-02", 60, "backfilled"),
        ("2026-05-01", 100, "verified"),
    ]
    assert "西街助残" not in str(c) and "街道宣讲" not in str(c) and "去年的服务" not in str(c)
    assert c["name"] == "张伟" and c["volunteer_number"] == "LF3201000001" and c["id_type"] == "ric"
    assert c["id_masked"] == ledger.id_masked and "*" in c["id_masked"]
    assert c["org_name"] == "东关社区站"
    assert c["person_in_charge"] == "李站长" and c["contact_phone"] == "0531-1234567"
    assert c["handler"] == "站长"  # the owner's display name
    assert c["issued_on"] == "2026-11-22"
    assert cert.number == c["number"] == f"ZM2026N{tree.st_a1.pk:06d}000001"
    assert c["verification_url"].endswith(f"/hours/certificates/verify/{cert.verification_code}/")
    assert AuditEvent.objects.filter(action="certificate.issue", object_id=str(cert.pk)).exists()


def test_frozen_content_does_not_move_when_the_ledger_does(ledger, vol_user, owner, tree):
    cert = certs.certificate_issue(
        actor=owner, certificate_id=ask(vol_user, tree.st_a1).pk, person_in_charge="李", contact_phone="1", now=NOW
    )
    add_record(ledger, tree.st_a1, date(2026, 7, 1), 600)
    cert.refresh_from_db()
    assert cert.total_minutes == 370 and len(cert.content["rows"]) == 4


def test_a_reversal_dated_after_the_period_still_nets_out_the_original(ledger, vol_user, owner, tree):
    """Corrected in October, a March record no longer counts for a January–March certificate."""
    march = ServiceRecord.objects.get(content="敬老院陪护")
    add_record(ledger, tree.st_a1, date(2026, 10, 8), -90, reverses=march, content="敬老院陪护")
    cert = ask(vol_user, tree.st_a1, period_to=date(2026, 3, 31))
    cert = certs.certificate_issue(actor=owner, certificate_id=cert.pk, person_in_charge="李", contact_phone="1")
    assert cert.total_minutes == 120 and [r["content"] for r in cert.content["rows"]] == ["学雷锋日清扫街道"]


def test_a_node_cannot_certify_another_nodes_records(ledger, vol_user, owner, colleague, outsider, center_admin, tree):
    cert = ask(vol_user, tree.st_a2)  # 西街社区站 organized that service
    # the owner sees it (the volunteer is from 东关) but did not organize it
    with pytest.raises(PermissionDenied) as exc:
        certs.certificate_issue(actor=owner, certificate_id=cert.pk, person_in_charge="王", contact_phone="1")
    assert exc.value.code == "not_organizer"
    with pytest.raises(PermissionDenied):
        certs.certificate_refuse(actor=colleague, certificate_id=cert.pk, reason="不是我们组织的")
    with pytest.raises(NotFound):
        certs.certificate_issue(actor=outsider, certificate_id=cert.pk)
    # the center, above 西街, may certify for it; the certificate covers 西街's own rows only
    cert = certs.certificate_issue(
        actor=center_admin, certificate_id=cert.pk, person_in_charge="王站长", contact_phone="13900000000", now=NOW
    )
    assert cert.total_minutes == 300 and cert.content["org_name"] == "西街社区站"


def test_a_parent_node_does_not_certify_its_childrens_records(ledger, vol_user, center_admin, tree):
    """Strict 谁组织谁证明: the sub-center certifies only the 3 h it organized, not its stations' hours."""
    cert = certs.certificate_issue(
        actor=center_admin,
        certificate_id=ask(vol_user, tree.sub_a).pk,
        person_in_charge="赵主任",
        contact_phone="0531-7654321",
        now=NOW,
    )
    assert cert.total_minutes == 180


def test_a_volunteer_cannot_issue_their_own(ledger, vol_user, tree):
    cert = ask(vol_user, tree.st_a1)
    with pytest.raises(PermissionDenied) as exc:
        certs.certificate_issue(actor=vol_user, certificate_id=cert.pk, person_in_charge="x", contact_phone="1")
    assert exc.value.code == "own_certificate"
    grant(vol_user, Role.ORG_STAFF, tree.st_a1)  # not even when they are staff of the organizing station
    with pytest.raises(PermissionDenied) as exc:
        certs.certificate_issue(actor=vol_user, certificate_id=cert.pk, person_in_charge="x", contact_phone="1")
    assert exc.value.code == "own_certificate"
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REQUESTED


def test_zero_hours_cannot_be_requested_or_issued(ledger, vol_user, owner, tree):
    with pytest.raises(ValidationError) as exc:
        ask(vol_user, tree.st_a1, period_from=date(2026, 8, 1), period_to=date(2026, 8, 31))
    assert "东关社区站" in str(exc.value)
    with pytest.raises(ValidationError):
        ask(vol_user, tree.st_b1)  # 北村站 never recorded anything for them
    # hours reversed between request and issue: refused with a clear message, nothing issued
    cert = ask(vol_user, tree.st_a1, period_from=date(2026, 3, 1), period_to=date(2026, 3, 6))
    add_record(ledger, tree.st_a1, date(2026, 3, 5), -120, reverses=ServiceRecord.objects.get(minutes=120))
    with pytest.raises(ServiceError) as exc:
        certs.certificate_issue(actor=owner, certificate_id=cert.pk, person_in_charge="x", contact_phone="1")
    assert exc.value.code == "no_hours" and "无可证明" in exc.value.message
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REQUESTED and cert.number is None


def test_request_rules(ledger, vol_user, colleague, outsider, tree):
    with pytest.raises(ValidationError) as exc:
        ask(vol_user, tree.st_a1, period_to=date(2026, 12, 31))
    assert "period_to" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        ask(vol_user, tree.st_a1, period_from=date(2026, 5, 1), period_to=date(2026, 4, 1))
    assert "period_to" in exc.value.error_dict
    ask(vol_user, tree.st_a1)
    with pytest.raises(Conflict) as exc:
        ask(vol_user, tree.st_a1)
    assert exc.value.code == ErrorCode.DUPLICATE
    # staff of the volunteer's station may ask on their behalf; an outsider may not even learn the number exists
    cert = ask(colleague, tree.st_a2, volunteer_number="LF3201000001")
    assert cert.volunteer == ledger and cert.requested_by == colleague
    with pytest.raises(ValidationError) as exc:
        ask(outsider, tree.st_a1, volunteer_number="LF3201000001")
    assert "volunteer_number" in exc.value.error_dict
    with pytest.raises(ServiceError) as exc:
        ask(colleague, tree.st_a1)  # staff without a volunteer profile, asking "for themselves"
    assert exc.value.code == ErrorCode.NOT_VOLUNTEER


def test_refuse_and_revoke_need_a_reason_and_follow_the_transitions(ledger, vol_user, owner, tree):
    cert = ask(vol_user, tree.st_a1)
    with pytest.raises(ValidationError):
        certs.certificate_refuse(actor=owner, certificate_id=cert.pk, reason="  ")
    cert = certs.certificate_refuse(actor=owner, certificate_id=cert.pk, reason="时段有误，请重新申请")
    assert cert.status == CertificateStatus.REFUSED and cert.decision_note == "时段有误，请重新申请"
    with pytest.raises(Conflict) as exc:
        certs.certificate_issue(actor=owner, certificate_id=cert.pk, person_in_charge="x", contact_phone="1")
    assert exc.value.code == ErrorCode.BAD_STATUS

    cert = certs.certificate_issue(
        actor=owner, certificate_id=ask(vol_user, tree.st_a1).pk, person_in_charge="李", contact_phone="1", now=NOW
    )
    with pytest.raises(ValidationError):
        certs.certificate_revoke(actor=owner, certificate_id=cert.pk, reason="")
    certs.certificate_revoke(actor=owner, certificate_id=cert.pk, reason="重复出具")
    assert set(AuditEvent.objects.filter(object_type="hours.certificate").values_list("action", flat=True)) == {
        "certificate.request",
        "certificate.refuse",
        "certificate.issue",
        "certificate.revoke",
    }


def test_person_in_charge_and_contact_fall_back_to_the_node(ledger, vol_user, owner, tree):
    cert = ask(vol_user, tree.st_a1)
    with pytest.raises(ValidationError) as exc:  # no head, no name given, no contact on the node
        certs.certificate_issue(actor=owner, certificate_id=cert.pk)
    assert "person_in_charge" in exc.value.error_dict
    tree.st_a1.contact_name, tree.st_a1.contact_phone = "孙主任", "0531-5550000"
    tree.st_a1.save()
    cert = certs.certificate_issue(actor=owner, certificate_id=cert.pk, now=NOW)
    assert (cert.person_in_charge, cert.contact_phone) == ("孙主任", "0531-5550000")


def test_numbers_use_the_division_code_and_count_up(ledger, vol_user, owner, tree):
    tree.st_a1.division_code = "370102001001"
    tree.st_a1.save()
    numbers = []
    for period_to in (date(2026, 3, 31), date(2026, 4, 30)):
        cert = ask(vol_user, tree.st_a1, period_to=period_to)
        numbers.append(
            certs.certificate_issue(
                actor=owner, certificate_id=cert.pk, person_in_charge="李", contact_phone="1", now=NOW
            ).number
        )
    assert numbers == ["ZM2026370102001001000001", "ZM2026370102001001000002"]


def test_verify_genuine_revoked_and_unknown(ledger, vol_user, owner, tree):
    cert = ask(vol_user, tree.st_a1)
    with pytest.raises(NotFound):  # a request is not a certificate: its code proves nothing
        certs.certificate_verify(code=cert.verification_code)
    certs.certificate_issue(actor=owner, certificate_id=cert.pk, person_in_charge="李", contact_phone="1", now=NOW)
    assert certs.certificate_verify(code=cert.verification_code).status == CertificateStatus.ISSUED
    certs.certificate_revoke(actor=owner, certificate_id=cert.pk, reason="重复出具")
    found = certs.certificate_verify(code=cert.verification_code)
    assert found.status == CertificateStatus.REVOKED and certs.revoked_at(found) is not None
    with pytest.raises(NotFound):
        certs.certificate_verify(code="no-such-code")


def page_text(document) -> str:
    """The text WeasyPrint laid out on the pages (its layout boxes): what the PDF prints."""

    def walk(box):
        if hasattr(box, "text"):
            yield box.text
        for child in getattr(box, "children", None) or ():
            yield from walk(child)

    return "".join(t for page in document.pages for t in walk(page._page_box))


def test_pdf_holds_name_number_rows_and_verification(ledger, vol_user, owner, tree):
    cert = certs.certificate_issue(
        actor=owner, certificate_id=ask(vol_user, tree.st_a1).pk, person_in_charge="李站长", contact_phone="1", now=NOW
    )
    document = render_document(cert)
    text = page_text(document)
    for expected in (
        "志愿服务记录证明",
        "张伟",
        cert.number,
        ledger.id_masked,
        "6.17",
        "事后补录",
        "李站长",
        "东关社区站",
    ):
        assert expected in text, expected
    full_id = crypto.decrypt(ledger.id_number_encrypted)
    assert len(full_id) == 18 and full_id != ledger.id_masked
    assert full_id not in text and full_id not in text.replace(" ", "").replace("\n", "")  # no full ID anywhere
    assert full_id[6:14] not in text  # nor its birth date (the middle the mask hides)
    assert len(document.pages) == 1
    _, pdf = certs.certificate_pdf(actor=vol_user, certificate_id=cert.pk)
    assert pdf.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="certificate.download", actor=vol_user).count() == 1


def test_lists_are_scoped(ledger, vol_user, owner, colleague, outsider, center_admin, assessor, tree):
    own = ask(vol_user, tree.st_a1)
    other = ask(vol_user, tree.st_a2)
    assert set(certs.certificate_list(actor=vol_user)) == {own, other}
    assert set(certs.certificate_list(actor=colleague)) == {own, other}  # the volunteer's station sees both
    assert list(certs.certificate_list(actor=colleague, filters=certs.CertificateFilters(to_decide=True))) == [own]
    assert list(certs.certificate_list(actor=outsider)) == []
    assert set(certs.certificate_list(actor=assessor)) == {own, other}
    assert list(certs.certificate_list(actor=assessor, filters=certs.CertificateFilters(to_decide=True))) == []
    assert set(certs.certificate_list(actor=center_admin, filters=certs.CertificateFilters(to_decide=True))) == {
        own,
        other,
    }
    stranger = VolunteerFactory(user=make_user("stranger"), org=tree.st_b1)
    assert list(certs.certificate_list(actor=stranger.user, filters=certs.CertificateFilters(mine=True))) == []


def _wait_for_thread_sessions_to_end() -> None:
    """A closed connection's server process exits a moment later; the test database is dropped only then."""
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            if cursor.fetchone()[0] <= 1:
                return
            threading.Event().wait(0.05)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_give_one_number_per_certificate_and_no_gaps():
    """8 threads issue 4 certificates of one node at once, each certificate twice: 4 issued, 4 refused as
    already issued, numbers 000001–000004 each used exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks only mean something on PostgreSQL")
    tree = build_tree()
    owner = make_user("owner", role=Role.ORG_ADMIN, org=tree.st_a1, display_name="站长")
    wanted = []
    for i in range(4):
        user = make_user(f"v{i}", role=Role.VOLUNTEER, org=tree.st_a1)
        v = VolunteerFactory(user=user, org=tree.st_a1)
        add_record(v, tree.st_a1, date(2026, 3, 5), 60)
        wanted.append(ask(user, tree.st_a1).pk)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def issue(i: int) -> None:
        from django.db import connection as thread_connection

        try:
            actor = get_user_model().objects.get(pk=owner.pk)
            barrier.wait(timeout=30)
            try:
                certs.certificate_issue(
                    actor=actor, certificate_id=wanted[i % 4], person_in_charge="李", contact_phone="1", now=NOW
                )
                result = "issued"
            except Conflict as exc:
                result = exc.code
            with lock:
                outcomes.append(result)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    _wait_for_thread_sessions_to_end()
    assert sorted(outcomes) == ["bad_status"] * 4 + ["issued"] * 4
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert numbers == [f"ZM2026N{tree.st_a1.pk:06d}{n:06d}" for n in range(1, 5)]
