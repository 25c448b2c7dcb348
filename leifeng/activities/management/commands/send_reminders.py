"""Send the reminders that are due and retry failed deliveries. Run it every few minutes (cron), or --loop."""

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leifeng.activities.tasks import send_due_reminders
from leifeng.notifications.services import retry_due


class Command(BaseCommand):
    help = "Send due activity reminders (day before, start) and retry failed notification deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="pretend it is this time (ISO 8601), for testing and catching up")
        parser.add_argument("--loop", type=int, default=0, help="run again every N seconds until stopped")

    def handle(self, *args, now=None, loop=0, **options):
        at: datetime | None = None
        if now:
            at = parse_datetime(now)
            if at is None:
                raise CommandError(f"--now: not a date and time: {now!r}")
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
        while True:
            run = send_due_reminders(now=at)
            retried = retry_due(now=at)
            self.stdout.write(
                f"reminders: day before {run.sent['day_before']}, start {run.sent['start']}, "
                f"already sent {run.already}, no account {run.no_account}; deliveries retried {retried}"
            )
            if not loop:
                return
            time.sleep(loop)
