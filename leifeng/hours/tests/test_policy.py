"""hours.policy (who sees and decides what), the status tables refusing moves through the services, the codes."""

import pytest
from django.urls import reverse
from django.utils import translation

from leifeng.core.errors import Conflict, NotFound, PermissionDenied
from leifeng.core.models import AuditEvent
from leifeng.core.transitions import Transitions
from leifeng.hours import certificates as certs
from leifeng.hours import selectors, services
from leifeng.hours.codes import AuditAction, ErrorCode
from leifeng.hours.models import (
    CERTIFICATE_TRANSITIONS,
    CLAIM_TRANSITIONS,
    CORRECTION_TRANSITIONS,
    CertificateStatus,
    ClaimStatus,
    CorrectionStatus,
    HoursClaim,
    ServiceRecord,
)
from leifeng.hours.policy import certificate_policy, claim_policy, may_review, record_policy
from leifeng.hours.tests import test_certificate_services as svc
from leifeng.testing import make_user

pytestmark = pytest.mark.django_db

vol_user = svc.vol_user
volunteer = svc.volunteer
ledger = svc.ledger


@pytest.fixture
def served(activity, post, vol, owner):
    return services.service_record_add(
        actor=owner,
        volunteer=vol,
        org=activity.org,
        kind="verified",
        source="attendance",
        source_id="1",
        minutes=60,
        service_date=post.starts_at.date(),
        content="劝导",
    )


@pytest.fixture
def claim(post, vol, owner):
    return services.claim_create(
        actor=owner, post_id=post.pk, volunteer_id=vol.pk, started_at=post.starts_at, ended_at=post.ends_at
    )


# ---------------------------------------------------------------- the status tables


def test_every_table_is_a_transitions_table_keeping_its_code():
    assert all(isinstance(t, Transitions) for t in (CLAIM_TRANSITIONS, CORRECTION_TRANSITIONS, CERTIFICATE_TRANSITIONS))
    assert (CLAIM_TRANSITIONS.code, CORRECTION_TRANSITIONS.code, CERTIFICATE_TRANSITIONS.code) == (
        "already_decided",
        "already_answered",
        "bad_status",
    )
    assert CERTIFICATE_TRANSITIONS.sources(CertificateStatus.REVOKED) == {CertificateStatus.ISSUED}
    assert CLAIM_TRANSITIONS[ClaimStatus.APPROVED] == frozenset()


def test_a_decided_claim_is_refused_through_the_service(claim, colleague):
    services.claim_decide(actor=colleague, claim_id=claim.pk, approve=False, note="时间不对")
    with pytest.raises(Conflict) as exc, translation.override("en"):
        services.claim_decide(actor=colleague, claim_id=claim.pk, approve=True)
    assert exc.value.code == ErrorCode.ALREADY_DECIDED == "already_decided"
    assert exc.value.message == "This claim has already been decided."
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED and claim.record_id is None
    assert not ServiceRecord.objects.exists()
    assert list(
        AuditEvent.objects.filter(object_type="hours.hoursclaim").order_by("id").values_list("action", flat=True)
    ) == [
        "hours_claim.create",
        "hours_claim.rejected",
    ]


def test_an_answered_correction_request_is_refused_through_the_service(served, vol, owner):
    req = services.correction_request(actor=vol.user, record_id=served.pk, minutes=30, reason="提前离开")
    services.correction_answer(actor=owner, request_id=req.pk, accept=False, answer="签到表显示全程在岗")
    with pytest.raises(Conflict) as exc, translation.override("en"):
        services.correction_answer(actor=owner, request_id=req.pk, accept=True, minutes=30)
    assert exc.value.code == "already_answered" and exc.value.message == "This request has already been answered."
    req.refresh_from_db()
    assert req.status == CorrectionStatus.REJECTED
    assert ServiceRecord.objects.count() == 1  # no reversal was written
    event = AuditEvent.objects.get(action="correction.rejected")
    assert event.changes == {"status": ["open", "rejected"]}


def test_a_certificate_move_the_table_does_not_allow_keeps_its_code_and_words(ledger, vol_user, owner, tree):
    cert = svc.ask(vol_user, tree.st_a1)
    with pytest.raises(Conflict) as exc, translation.override("en"):
        certs.certificate_revoke(actor=owner, certificate_id=cert.pk, reason="重复出具")
    assert exc.value.code == "bad_status"
    assert exc.value.message == "This certificate is Requested; it cannot become Revoked."
    with pytest.raises(Conflict) as exc, translation.override("zh-hans"):
        certs.certificate_revoke(actor=owner, certificate_id=cert.pk, reason="重复出具")
    assert exc.value.message == "该证明当前为“申请中”，不能改为“已撤销”。"
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REQUESTED and cert.revoked_at is None


# ---------------------------------------------------------------- codes


def test_the_dynamic_audit_actions_are_members():
    for status in (CorrectionStatus.ACCEPTED, CorrectionStatus.REJECTED):
        assert AuditAction(f"correction.{status}") in AuditAction
    for status in (ClaimStatus.APPROVED, ClaimStatus.REJECTED):
        assert AuditAction(f"hours_claim.{status}") in AuditAction
    with pytest.raises(ValueError):
        AuditAction("correction.open")  # not a move anyone makes


# ---------------------------------------------------------------- visibility and deciding


def test_a_record_is_seen_by_its_volunteer_and_staff_above_its_node(served, vol, owner, colleague, outsider):
    for actor in (vol.user, owner, colleague):
        assert list(record_policy.seen(actor)) == [served] and record_policy.may_see(actor, served)
    assert not record_policy.seen(outsider).exists() and not record_policy.may_see(outsider, served)
    assert list(selectors.record_list(actor=vol.user)) == [served]
    with pytest.raises(NotFound):
        selectors.record_get(actor=outsider, record_id=served.pk)


def test_only_the_organizer_corrects_and_never_their_own_hours(served, vol, owner, outsider):
    record_policy.check_organizer(owner, served)
    with pytest.raises(PermissionDenied):
        record_policy.check_organizer(vol.user, served)
    with pytest.raises(NotFound):  # the service answers an outsider as if the record did not exist
        services.record_correct(actor=outsider, record_id=served.pk, minutes=30, reason="x")


def test_claims_need_four_eyes(claim, vol, owner, colleague, outsider):
    claim = HoursClaim.objects.select_related("volunteer", "post__activity__org").get(pk=claim.pk)
    with pytest.raises(PermissionDenied) as exc:
        claim_policy.check_decider(owner, claim)  # entered it
    assert exc.value.code == "four_eyes"
    with pytest.raises(PermissionDenied) as exc:
        claim_policy.check_decider(vol.user, claim)
    assert exc.value.code == "own_hours"
    with pytest.raises(NotFound):
        claim_policy.check_decider(outsider, claim)
    claim_policy.check_decider(colleague, claim)
    assert claim_policy.may_decide(colleague, claim) and not claim_policy.may_decide(vol.user, claim)


def test_a_certificate_is_decided_by_the_issuing_node_never_by_its_volunteer(ledger, vol_user, owner, tree):
    mine = svc.ask(vol_user, tree.st_a1)
    elsewhere = svc.ask(vol_user, tree.st_a2)
    assert certificate_policy.may_decide(owner, mine) and not certificate_policy.may_decide(owner, elsewhere)
    assert certificate_policy.may_see(owner, elsewhere)  # the volunteer's station sees it, but does not issue it
    assert not certificate_policy.may_decide(vol_user, mine)
    assert set(certificate_policy.to_decide(owner)) == {mine}
    assert set(certificate_policy.own(vol_user)) == {mine, elsewhere}


def test_who_may_review_an_activitys_hours(activity, owner, colleague, outsider, tree):
    leader = make_user("duizhang2", role="team_leader", org=tree.st_a1)
    stranger = make_user("stranger2")
    assert all(may_review(u, activity.org) for u in (owner, colleague, leader))
    assert not may_review(outsider, activity.org) and not may_review(stranger, activity.org)
    assert selectors.activity_for_review(actor=leader, activity_id=activity.pk) == activity
    with pytest.raises(NotFound):
        selectors.activity_for_review(actor=outsider, activity_id=activity.pk)


def test_the_review_page_offers_a_decision_only_to_whoever_may_make_it(claim, activity, owner, colleague, client_for):
    """The owner entered the claim: the page says someone else decides instead of offering buttons that fail."""
    url = reverse("hours:review", args=[activity.pk])
    decide = reverse("hours:claim_decide", args=[claim.pk])
    body = client_for(owner).get(url).content.decode()
    assert f'id="refusal-{claim.pk}"' in body and "补录须由录入人以外的人审核。" in body
    assert f'action="{decide}"' not in body
    body = client_for(colleague).get(url).content.decode()
    assert f'id="refusal-{claim.pk}"' not in body and f'action="{decide}"' in body
    assert client_for(owner).post(decide, {"decision": "approve"}).status_code == 403  # seen, not allowed
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PENDING
