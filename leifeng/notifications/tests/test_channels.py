"""SMS and WeChat adapters against a real HTTP server on localhost (no mocks): what they post, and failures."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leifeng import testing
from leifeng.notifications import services
from leifeng.notifications.models import Delivery, DeliveryStatus


class Gateway:
    """A tiny gateway: records every JSON body and answers with `status`."""

    def __init__(self):
        self.received: list[dict] = []
        self.headers: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                gateway.received.append(json.loads(self.rfile.read(length).decode("utf-8")))
                gateway.headers.append(dict(self.headers))
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    with Gateway() as g:
        yield g


@pytest.fixture
def zhang(db):
    return testing.make_user("zhang", phone="13900001111", display_name="张伟")


def send(user, channel, **kw):
    (n,) = services.notify(
        recipients=[user],
        kind="test",
        title="明天集合",
        body="7:30，东关路口",
        link="/activities/1/",
        channels=[channel],
    )
    d = n.deliveries.get()
    services.send_delivery(d.pk)
    d.refresh_from_db()
    return d


def test_sms_posts_phone_and_text(settings, gateway, zhang):
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_TOKEN = "s3cret"
    settings.SITE_URL = "https://lf.example.cn"
    d = send(zhang, "sms")
    assert d.status == DeliveryStatus.SENT and d.address == "13900001111" and d.attempts == 1
    (body,) = gateway.received
    assert body == {
        "id": d.pk,
        "phone": "13900001111",
        "text": "【明天集合】7:30，东关路口 https://lf.example.cn/activities/1/",
        "kind": "test",
    }
    assert gateway.headers[0]["Authorization"] == "Bearer s3cret"


def test_sms_uses_the_volunteer_phone_and_skips_without_one(settings, gateway, tree):
    settings.SMS_GATEWAY_URL = gateway.url
    vol = testing.make_volunteer_user("vol", org=tree.st_a1, phone="13700002222")
    assert send(vol, "sms").address == "13700002222"
    nobody = testing.make_user("nophone")
    d = send(nobody, "sms")
    assert d.status == DeliveryStatus.SKIPPED and d.error == "no mobile phone"
    assert len(gateway.received) == 1


def test_wechat_posts_the_message(settings, gateway, zhang):
    settings.WECHAT_GATEWAY_URL = gateway.url
    d = send(zhang, "wechat")
    assert d.status == DeliveryStatus.SENT
    (body,) = gateway.received
    assert (body["user_id"], body["phone"], body["title"], body["body"]) == (
        zhang.pk,
        "13900001111",
        "明天集合",
        "7:30，东关路口",
    )
    assert body["url"].endswith("/activities/1/")


def test_gateway_error_fails_the_delivery_then_a_retry_succeeds(settings, gateway, zhang):
    settings.SMS_GATEWAY_URL = gateway.url
    gateway.status = 503
    d = send(zhang, "sms")
    assert d.status == DeliveryStatus.FAILED and d.error == "ChannelError: gateway answered 503" and d.attempts == 1
    # The gateway is back; the retry goes through, and the message was not lost meanwhile.
    gateway.status = 200
    Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.PENDING)
    assert services.send_delivery(d.pk) == DeliveryStatus.SENT
    d.refresh_from_db()
    assert d.attempts == 2 and d.error == ""
    assert len(gateway.received) == 2


def test_unreachable_gateway_fails(settings, zhang):
    with Gateway() as g:
        url = g.url
    settings.SMS_GATEWAY_URL = url  # the server is gone: connection refused
    d = send(zhang, "sms")
    assert d.status == DeliveryStatus.FAILED and "gateway unreachable" in d.error


def test_channel_by_dotted_path(zhang, settings):
    d = send(zhang, "leifeng.notifications.channels.ConsoleChannel")
    assert d.status == DeliveryStatus.SENT and d.address == f"user:{zhang.pk}"
