"""People hear about what happens to their sign-ups: a cancelled activity, a place freed from the waitlist."""

from django.urls import reverse

from leifeng.activities import services
from leifeng.activities.tests.conftest import NOW, sign
from leifeng.notifications.models import Notification


def test_cancelling_tells_everyone_signed_up_once(owner, make_volunteer, post):
    people = [make_volunteer() for _ in range(4)]  # 3 confirmed, 1 waitlisted
    for v in people:
        sign(v, post)
    bystander = make_volunteer()
    services.activity_cancel(actor=owner, activity_id=post.activity_id, reason="暴雨预警")
    got = Notification.objects.filter(kind="activity.cancelled")
    assert sorted(got.values_list("recipient_id", flat=True)) == sorted(v.user_id for v in people)
    n = got.first()
    assert "暴雨预警" in n.body and post.activity.title in n.title
    assert n.link == reverse("activities:activity_detail", args=[post.activity_id])
    assert not Notification.objects.filter(recipient=bystander.user).exists()


def test_promotion_from_the_waitlist_tells_the_person_promoted(make_volunteer, post):
    people = [make_volunteer() for _ in range(5)]
    signups = [sign(v, post) for v in people]
    services.signup_withdraw(actor=people[0].user, signup_id=signups[0].pk, now=NOW)
    promoted = Notification.objects.filter(kind="signup.promoted")
    assert list(promoted.values_list("recipient_id", flat=True)) == [people[3].user_id]
    assert post.title in promoted.get().body
