"""/api/v1/notifications/: own inbox only, relays scoped, calendar links; three personas."""

import pytest

from leifeng import testing
from leifeng.notifications import services
from leifeng.notifications.models import Delivery, DeliveryStatus, Notification, Relay

API = "/api/v1/notifications/"


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def inbox_for(user, n=1):
    return [
        services.notify(recipients=[user], kind="test", title=f"通知{i}", body="内容", channels=[])[0] for i in range(n)
    ]


class TestInbox:
    def test_list_unread_and_mark(self, client_for, owner, colleague):
        a, b, c = inbox_for(owner, 3)
        inbox_for(colleague)
        client = client_for(owner)
        body = client.get(API).json()
        assert body["count"] == 3 and [i["title"] for i in body["items"]] == ["通知2", "通知1", "通知0"]
        assert client.get(API + "unread-count").json() == {"unread": 3}
        r = post(client, f"{API}{a.pk}/read")
        assert r.status_code == 200 and r.json()["read_at"] is not None
        assert client.get(API, {"unread": "true"}).json()["count"] == 2
        assert post(client, API + "read-all").json() == {"marked": 2}
        assert client.get(API + "unread-count").json() == {"unread": 0}

    @pytest.mark.parametrize("persona", ["colleague", "outsider"])
    def test_someone_elses_notification_is_404(self, request, client_for, owner, persona):
        (n,) = inbox_for(owner)
        client = client_for(request.getfixturevalue(persona))
        for r in (client.get(f"{API}{n.pk}"), post(client, f"{API}{n.pk}/read")):
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert client.get(API).json()["count"] == 0

    def test_anonymous_is_401(self, client, db):
        assert client.get(API).status_code == 401

    @pytest.mark.parametrize("count", [2, 25])
    def test_list_query_count(self, count, client_for, owner, django_assert_num_queries):
        inbox_for(owner, count)
        client = client_for(owner)
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 COUNT of the inbox, 3 the page
        with django_assert_num_queries(3):
            client.get(API, {"page_size": 10})


class TestRelays:
    def test_owner_relays_and_follows_delivery(self, client_for, tree, owner, colleague, outsider):
        client = client_for(owner)
        r = post(client, API + "relays/", {"org_id": tree.st_a1.pk, "title": "防汛通知", "body": "今晚到岗"})
        assert r.status_code == 201, r.json()
        relay = r.json()
        assert relay["recipient_count"] == 2 and relay["waiting_count"] == 2  # tests configure the console channel only
        rows = client.get(f"{API}relays/{relay['id']}/recipients").json()
        assert rows["count"] == 2
        assert {row["name"] for row in rows["items"]} == {"站长", "专管员"}
        assert all(d["status"] == "pending" for row in rows["items"] for d in row["deliveries"])
        for d in Delivery.objects.all():
            services.send_delivery(d.pk)
        assert client.get(f"{API}relays/{relay['id']}").json()["sent_count"] == 2
        assert client_for(colleague).get(API + "relays/").json()["count"] == 1

    def test_outsider_cannot_relay_into_another_subtree_or_see_it(self, client_for, tree, owner, outsider):
        r = post(client_for(outsider), API + "relays/", {"org_id": tree.st_a1.pk, "title": "t", "body": "b"})
        assert r.status_code == 404 and not Relay.objects.exists()
        relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b")
        client = client_for(outsider)
        assert client.get(API + "relays/").json()["count"] == 0
        assert client.get(f"{API}relays/{relay.pk}").status_code == 404
        assert client.get(f"{API}relays/{relay.pk}/recipients").status_code == 404
        assert post(client, f"{API}relays/{relay.pk}/retry").status_code == 404
        assert post(client, f"{API}deliveries/{Delivery.objects.first().pk}/retry").status_code == 404

    def test_assessor_sees_but_cannot_relay(self, client_for, tree, owner, assessor):
        services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b")
        client = client_for(assessor)
        assert client.get(API + "relays/").json()["count"] == 1
        r = post(client, API + "relays/", {"org_id": tree.st_a1.pk, "title": "t", "body": "b"})
        assert r.status_code == 403

    def test_invalid_relay(self, client_for, tree, owner):
        client = client_for(owner)
        r = post(client, API + "relays/", {"org_id": tree.st_a1.pk, "title": " ", "body": "b"})
        assert r.status_code == 400 and r.json()["error"]["fields"] == {"title": ["短信接力需要填写标题和内容。"]}
        r = post(client, API + "relays/", {"org_id": tree.st_a1.pk, "title": "t", "body": "b", "roles": ["nope"]})
        assert r.status_code == 422

    def test_retry_failed_delivery(self, client_for, settings, tree, owner):
        settings.SMS_GATEWAY_URL = ""
        owner.phone = "13900000009"
        owner.save()
        relay = services.relay_send(
            actor=owner, org=tree.st_a1, title="t", body="b", roles=["org_admin"], channels=["sms"]
        )
        d = Delivery.objects.get(notification__relay=relay)
        services.send_delivery(d.pk)
        client = client_for(owner)
        assert client.get(f"{API}relays/{relay.pk}").json()["failed_count"] == 1
        r = post(client, f"{API}deliveries/{d.pk}/retry")
        assert r.status_code == 200 and r.json()["status"] == DeliveryStatus.PENDING
        r = post(client, f"{API}deliveries/{d.pk}/retry")
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_failed"

    @pytest.mark.parametrize("count", [1, 5])
    def test_recipients_query_count(self, count, client_for, tree, owner, django_assert_num_queries):
        for i in range(count):
            testing.make_user(f"staff{i}", role="org_staff", org=tree.st_a1)
        relay = services.relay_send(actor=owner, org=tree.st_a1, title="t", body="b", channels=["console", "sms"])
        client = client_for(owner)
        # 1 session with its account, roles and volunteer flag (accounts.middleware), 2 the relay,
        # 3 COUNT of recipients, 4 the page with accounts, 5 their deliveries
        with django_assert_num_queries(5):
            assert client.get(f"{API}relays/{relay.pk}/recipients").json()["count"] == count + 1


def test_calendar_links_and_reset(client_for, tree):
    vol = testing.make_volunteer_user("vol", org=tree.st_a1)
    client = client_for(vol)
    links = client.get(API + "calendar").json()
    assert links["my_shifts"].startswith("http://testserver/activities/feeds/mine/")
    assert links["nodes"] == [f"http://testserver/activities/feeds/node/{tree.st_a1.pk}.ics"]
    new = post(client, API + "calendar/reset").json()
    assert new["my_shifts"] != links["my_shifts"]
    assert client.get(links["my_shifts"].removeprefix("http://testserver")).status_code == 404
    assert Notification.objects.count() == 0
