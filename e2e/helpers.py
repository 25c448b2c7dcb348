"""What several browser tests do the same way: log in through the form, type a time into a datetime-local field."""

import re
from datetime import datetime

from django.utils import timezone
from playwright.sync_api import expect

from leifeng import testing


def login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", testing.PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def local_input(moment: datetime) -> str:
    """What a person types into a datetime-local field (the site's time zone)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")
