"""Channels a notification goes out through. Each is a small adapter: `send(delivery)` returns the address it
sent to, raises `Skip` when this person cannot be reached on it (no e-mail, no phone) and any other exception
on failure (the delivery is then `failed` and may be retried).

`settings.NOTIFICATION_CHANNELS` lists them by name (console, email, sms, wechat) or by dotted class path.
SMS and WeChat post JSON to a gateway the installation runs (`SMS_GATEWAY_URL`, `WECHAT_GATEWAY_URL`, optional
`SMS_GATEWAY_TOKEN` / `WECHAT_GATEWAY_TOKEN` sent as a bearer token); the gateway talks to the operator's SMS
provider or the WeChat official account, so no provider SDK lives here.
"""

import contextlib
import json
import logging
import threading
import urllib.request
from functools import cache

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger("leifeng.notifications")


class Skip(Exception):
    """This recipient cannot be reached on this channel (the reason is kept on the delivery)."""


class ChannelError(Exception):
    """The channel refused or failed to take the message."""


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL.rstrip("/") + link


def phone_of(user) -> str:
    """The account's phone, else the volunteer record's phone."""
    if getattr(user, "phone", None):
        return user.phone
    volunteer = getattr(user, "volunteer", None)
    return getattr(volunteer, "phone", "") or ""


class Channel:
    name = ""

    def send(self, delivery) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def batch(self):
        """Context around sending many deliveries at once (e.g. one SMTP connection); nothing by default."""
        return contextlib.nullcontext()


class ConsoleChannel(Channel):
    """Logs the message (development, tests, and a trail in the server log)."""

    name = "console"

    def send(self, delivery) -> str:
        n = delivery.notification
        logger.info("notify %s → user %s: %s | %s %s", n.kind, n.recipient_id, n.title, n.body, absolute(n.link))
        return f"user:{n.recipient_id}"


class EmailChannel(Channel):
    """Django mail (the default mailer of settings.MAILERS) to the account's e-mail address."""

    name = "email"

    def __init__(self):
        self._local = threading.local()

    @contextlib.contextmanager
    def batch(self):
        """One mail connection for the whole batch instead of one per message."""
        from django.core.mail import mailers

        with mailers.default as connection:
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None

    def send(self, delivery) -> str:
        n = delivery.notification
        to = (n.recipient.email or "").strip()
        if not to:
            raise Skip("no e-mail address")
        body = n.body
        if n.link:
            body = f"{body}\n\n{absolute(n.link)}"
        message = EmailMessage(subject=n.title, body=body, to=[to])
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.send_messages([message])
        else:
            message.send()
        return to


class HttpGatewayChannel(Channel):
    """Posts one JSON message to a gateway URL; any answer other than 2xx is a failure."""

    url_setting = ""
    token_setting = ""
    timeout = 10

    def url(self) -> str:
        url = getattr(settings, self.url_setting, "") or ""
        if not url:
            raise ChannelError(f"{self.url_setting} is not set")
        return url

    def payload(self, delivery) -> tuple[str, dict]:
        raise NotImplementedError

    def send(self, delivery) -> str:
        address, payload = self.payload(delivery)
        req = urllib.request.Request(
            self.url(),
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        token = getattr(settings, self.token_setting, "") if self.token_setting else ""
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ChannelError(f"gateway unreachable: {exc}") from exc
        return address


class SmsChannel(HttpGatewayChannel):
    """Text message: {"id", "phone", "text"}; the text is short (title, body, link)."""

    name = "sms"
    url_setting = "SMS_GATEWAY_URL"
    token_setting = "SMS_GATEWAY_TOKEN"

    def payload(self, delivery) -> tuple[str, dict]:
        n = delivery.notification
        phone = phone_of(n.recipient)
        if not phone:
            raise Skip("no mobile phone")
        text = f"【{n.title}】{n.body}"
        if n.link:
            text = f"{text} {absolute(n.link)}"
        return phone, {"id": delivery.pk, "phone": phone, "text": text, "kind": n.kind}


class WechatChannel(HttpGatewayChannel):
    """WeChat template message through the official account's gateway, which maps the account to an openid."""

    name = "wechat"
    url_setting = "WECHAT_GATEWAY_URL"
    token_setting = "WECHAT_GATEWAY_TOKEN"

    def payload(self, delivery) -> tuple[str, dict]:
        n = delivery.notification
        phone = phone_of(n.recipient)
        return f"user:{n.recipient_id}", {
            "id": delivery.pk,
            "user_id": n.recipient_id,
            "username": n.recipient.username,
            "phone": phone,
            "title": n.title,
            "body": n.body,
            "url": absolute(n.link),
            "kind": n.kind,
        }


BUILTIN: dict[str, type[Channel]] = {c.name: c for c in (ConsoleChannel, EmailChannel, SmsChannel, WechatChannel)}


@cache
def _load(name: str) -> Channel:
    if name in BUILTIN:
        return BUILTIN[name]()
    cls = import_string(name)
    return cls()


def get(name: str) -> Channel:
    """The channel called `name` (a built-in name or a dotted path)."""
    return _load(name)


def configured() -> list[str]:
    return list(settings.NOTIFICATION_CHANNELS)
