"""`manage.py close_attendance`: close forgotten check-outs at their post's end and mark no-shows (cron-friendly)."""

from django.core.management.base import BaseCommand

from leifeng.attendance.services import close_attendance


class Command(BaseCommand):
    help = "Close presences left open after their post ended (flagged for the organizer) and mark no-shows."

    def handle(self, *args, **options):
        done = close_attendance()
        if options["verbosity"]:
            self.stdout.write(
                f"posts closed: {done['posts']}, forgotten check-outs closed: {done['auto_closed']}, "
                f"no-shows: {done['no_shows']}"
            )
