"""Pages: inbox (own messages only), relays (staff, scoped), three personas."""

import pytest
from django.urls import reverse

from leifeng import testing
from leifeng.notifications import services
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification, Relay


def inbox_for(user, n=1):
    return [
        services.notify(recipients=[user], kind="test", title=f"通知{i}", body="内容", link="/teams/", channels=[])[0]
        for i in range(n)
    ]


class TestInbox:
    def test_shows_own_messages_and_unread_count(self, client_for, owner, colleague):
        inbox_for(owner, 2)
        inbox_for(colleague)
        r = client_for(owner).get(reverse("notifications:inbox"))
        body = r.content.decode()
        assert r.status_code == 200
        assert "通知0" in body and "通知1" in body and "2 条未读" in body

    def test_mark_read_htmx_and_all_read(self, client_for, owner):
        a, b = inbox_for(owner, 2)
        c = client_for(owner)
        r = c.post(reverse("notifications:mark_read", args=[a.pk]), HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and f'id="n-{a.pk}"' in r.content.decode() and "标为已读" not in r.content.decode()
        r = c.post(reverse("notifications:mark_read", args=[b.pk]), {"next": "link"})
        assert r.status_code == 302 and r["Location"] == "/teams/"
        inbox_for(owner, 3)
        c.post(reverse("notifications:mark_all_read"))
        assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()

    @pytest.mark.parametrize("persona", ["colleague", "outsider"])
    def test_others_cannot_touch_my_messages(self, request, client_for, owner, persona):
        (n,) = inbox_for(owner)
        c = client_for(request.getfixturevalue(persona))
        assert c.post(reverse("notifications:mark_read", args=[n.pk])).status_code == 404
        assert "通知0" not in c.get(reverse("notifications:inbox")).content.decode()
        n.refresh_from_db()
        assert n.read_at is None

    def test_login_required(self, client, tree):
        assert client.get(reverse("notifications:inbox")).status_code == 302

    @pytest.mark.parametrize("count", [2, 20])
    def test_query_count_does_not_grow(self, count, client_for, owner, django_assert_num_queries):
        inbox_for(owner, count)
        c = client_for(owner)
        # 1 session with its account, roles (scope: may relay?) and volunteer flag (accounts.middleware),
        # 2 COUNT of the inbox (pager), 3 unread count, 4 the page of messages
        with django_assert_num_queries(4):
            c.get(reverse("notifications:inbox"))


class TestRelayPages:
    @pytest.fixture
    def relay(self, owner, colleague):
        return services.relay_send(
            actor=owner, org=owner.roles.get().org, title="防汛通知", body="今晚8点到岗", channels=["console"]
        )

    def test_owner_composes_a_relay(self, client_for, tree, owner, colleague):
        c = client_for(owner)
        assert c.get(reverse("notifications:relay_create")).status_code == 200
        r = c.post(
            reverse("notifications:relay_create"),
            {"org": tree.st_a1.pk, "roles": ["org_admin", "org_staff"], "title": "防汛通知", "body": "今晚8点到岗"},
        )
        relay = Relay.objects.get()
        assert r.status_code == 302 and r["Location"] == reverse("notifications:relay_detail", args=[relay.pk])
        assert relay.recipient_count == 2
        assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"owner", "colleague"}

    @pytest.mark.parametrize("persona", ["owner", "colleague"])
    def test_detail_shows_who_got_it(self, request, client_for, relay, persona, django_capture_on_commit_callbacks):
        body = client_for(request.getfixturevalue(persona)).get(reverse("notifications:relay_detail", args=[relay.pk]))
        text = body.content.decode()
        assert body.status_code == 200 and "防汛通知" in text and "专管员" in text and "待发送" in text
        services.retry_due()  # nothing failed
        for d in Delivery.objects.all():
            services.send_delivery(d.pk)
        text = client_for(request.getfixturevalue(persona)).get(reverse("notifications:relay_detail", args=[relay.pk]))
        assert "已送达" in text.content.decode()

    def test_outsider_gets_404_and_cannot_send_into_the_subtree(self, client_for, tree, relay, outsider):
        c = client_for(outsider)
        assert c.get(reverse("notifications:relay_detail", args=[relay.pk])).status_code == 404
        assert c.post(reverse("notifications:relay_retry", args=[relay.pk])).status_code == 404
        d = Delivery.objects.first()
        assert c.post(reverse("notifications:delivery_retry", args=[d.pk])).status_code == 404
        assert "防汛通知" not in c.get(reverse("notifications:relay_list")).content.decode()
        r = c.post(
            reverse("notifications:relay_create"),
            {"org": tree.st_a1.pk, "roles": ["org_admin"], "title": "t", "body": "b"},
        )
        assert r.status_code == 200 and Relay.objects.count() == 1

    def test_failed_delivery_retry_by_owner(self, client_for, settings, tree, owner, colleague):
        settings.SMS_GATEWAY_URL = ""
        relay = services.relay_send(
            actor=owner, org=tree.st_a1, title="t", body="b", channels=["sms"], roles=["org_admin"]
        )
        d = Delivery.objects.get()
        owner.phone = "13900000009"
        owner.save()
        services.send_delivery(d.pk)
        d.refresh_from_db()
        assert d.status == DeliveryStatus.FAILED
        c = client_for(owner)
        assert "SMS_GATEWAY_URL" in c.get(reverse("notifications:relay_detail", args=[relay.pk])).content.decode()
        assert c.post(reverse("notifications:relay_retry", args=[relay.pk])).status_code == 302
        d.refresh_from_db()
        assert d.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)

    def test_volunteer_has_no_relay_pages(self, client_for, tree):
        vol = testing.make_volunteer_user("vol", org=tree.st_a1)
        c = client_for(vol)
        assert c.get(reverse("notifications:relay_list")).status_code == 404
        assert c.get(reverse("notifications:relay_create")).status_code == 404

    @pytest.mark.parametrize("count", [1, 6])
    def test_relay_list_query_count(self, count, client_for, tree, owner, django_assert_num_queries):
        for i in range(count):
            services.relay_send(actor=owner, org=tree.st_a1, title=f"r{i}", body="b", channels=["console"])
        c = client_for(owner)
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT of relays in scope,
        # 3 the page of relays with their org, sender and delivery figures
        with django_assert_num_queries(3):
            c.get(reverse("notifications:relay_list"))


@pytest.mark.parametrize("count", [1, 8])
def test_relay_detail_query_count_does_not_grow(count, client_for, tree, owner, django_assert_num_queries):
    for i in range(count):
        testing.make_user(f"staff{i}", role="org_staff", org=tree.st_a1)
    relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b", channels=["console", "sms"])
    c = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 the relay with its node and sender,
    # 3 recipients with their accounts, 4 their deliveries
    with django_assert_num_queries(4):
        r = c.get(reverse("notifications:relay_detail", args=[relay.pk]))
    assert r.content.decode().count("服务器日志") == count + 1


def test_unread_badge_for_the_menu(client, client_for, owner, colleague, django_assert_num_queries):
    inbox_for(owner, 3)
    assert client.get(reverse("notifications:unread_badge")).content.strip() == b""  # anonymous: nothing
    c = client_for(owner)
    # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 unread count
    with django_assert_num_queries(2):
        assert ">3</span>" in c.get(reverse("notifications:unread_badge")).content.decode()
    assert client_for(colleague).get(reverse("notifications:unread_badge")).content.strip() == b""
