"""manage.py escalate_orders [--now ISO] [--enqueue]: reminders, escalation and auto-close of orders.

Run it every 10–15 minutes (cron or a systemd timer). `--now` replays a given moment (for drills and tests);
`--enqueue` hands the work to the django.tasks worker instead of doing it here.
"""

from leifeng.core.management.clock import ClockCommand
from leifeng.orders import services


class Command(ClockCommand):
    help = "Remind, escalate overdue orders one level up, and close completed orders left unrated."
    task = "leifeng.orders.tasks:escalate_overdue_orders"

    def run(self, now):
        counts = services.orders_escalate_overdue(now=now)
        return "reminded {reminded}, escalated {escalated}, closed {closed}".format(**counts)
