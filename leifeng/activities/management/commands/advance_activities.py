"""manage.py advance_activities [--now ISO] [--enqueue]: start and finish activities by the clock.

Published → in progress once the first post has started; in progress → finished once the last post has ended.
Run it every 5 minutes (cron or a systemd timer); it is idempotent. `--now` replays a given moment (for drills and
tests); `--enqueue` hands the work to the django.tasks worker instead of doing it here.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from leifeng.activities import services


class Command(BaseCommand):
    help = "Start published activities whose first post has begun and finish those whose last post has ended."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="the moment to act as, ISO 8601 with a time zone")
        parser.add_argument("--enqueue", action="store_true", help="run through the task worker")

    def handle(self, *args, now=None, enqueue=False, **options):
        if enqueue:
            from leifeng.activities.tasks import advance_activities

            result = advance_activities.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None or moment.tzinfo is None:
                raise CommandError(
                    "--now must be an ISO 8601 date and time with a time zone, e.g. 2026-11-22T09:00+08:00"
                )
        done = services.activities_advance(now=moment)
        if options["verbosity"]:
            self.stdout.write("started {started}, finished {finished}".format(**done))
