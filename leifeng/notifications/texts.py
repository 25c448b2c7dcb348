"""Texts of reminders and calendar entries, kept here so they live in this app's catalog (zh_Hans)
while `activities/tasks.py` and `activities/feeds.py` use them."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

REMINDER_TITLE = {
    "day_before": _("Tomorrow: %(activity)s"),
    "start": _("Starting now: %(activity)s"),
}
POST = _("Post: %(post)s")
TIME = _("Time: %(when)s")
PLACE = _("Place: %(address)s")
GROUP = _("Group: %(group)s")
CONTACT = _("Contact: %(contact)s")
BRING = _("Bring: %(items)s")
SAFETY = _("Safety: %(notes)s")
ORGANIZER = _("Organizer: %(org)s")
CANCELLED = _("Cancelled: %(reason)s")
NODE_CALENDAR = _("%(node)s · volunteer activities")
MY_CALENDAR = _("My volunteer shifts")
TOKEN_RESET = _("A new personal calendar link was made; the old one no longer works.")
CHANNEL_LABELS = {
    "console": pgettext_lazy("channel", "Server log"),
    "email": pgettext_lazy("channel", "E-mail"),
    "sms": pgettext_lazy("channel", "SMS"),
    "wechat": pgettext_lazy("channel", "WeChat"),
}
