"""manage.py escalate_orders [--now ISO] [--enqueue]: reminders, escalation and auto-close of orders.

Run it every 10–15 minutes (cron or a systemd timer). `--now` replays a given moment (for drills and tests);
`--enqueue` hands the work to the django.tasks worker instead of doing it here.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from leifeng.orders import services


class Command(BaseCommand):
    help = "Remind, escalate overdue orders one level up, and close completed orders left unrated."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="the moment to act as, ISO 8601 with a time zone")
        parser.add_argument("--enqueue", action="store_true", help="run through the task worker")

    def handle(self, *args, now=None, enqueue=False, **options):
        if enqueue:
            from leifeng.orders.tasks import escalate_overdue_orders

            result = escalate_overdue_orders.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None or moment.tzinfo is None:
                raise CommandError(
                    "--now must be an ISO 8601 date and time with a time zone, e.g. 2026-11-22T09:00+08:00"
                )
        counts = services.orders_escalate_overdue(now=moment)
        self.stdout.write("reminded {reminded}, escalated {escalated}, closed {closed}".format(**counts))
