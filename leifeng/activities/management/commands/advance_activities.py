"""manage.py advance_activities [--now ISO] [--enqueue]: start and finish activities by the clock.

Published → in progress once the first post has started; in progress → finished once the last post has ended.
Run it every 5 minutes (cron or a systemd timer); it is idempotent. `--now` replays a given moment (for drills and
tests); `--enqueue` hands the work to the django.tasks worker instead of doing it here.
"""

from leifeng.activities import services
from leifeng.core.management.clock import ClockCommand


class Command(ClockCommand):
    help = "Start published activities whose first post has begun and finish those whose last post has ended."
    task = "leifeng.activities.tasks:advance_activities"

    def run(self, now):
        return "started {started}, finished {finished}".format(**services.activities_advance(now=now))
