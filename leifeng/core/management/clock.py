"""The shape of the periodic commands (cron or a systemd timer): `--now ISO` replays a moment (drills, tests),
`--enqueue` hands the work to the django.tasks worker instead of doing it in the command."""

from datetime import datetime
from importlib import import_module

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime


class ClockCommand(BaseCommand):
    """Subclasses set `task` ("module.path:task_name") and implement `run(now) -> str` (the line to print)."""

    task = ""

    def add_arguments(self, parser):
        parser.add_argument("--now", help="the moment to act as, ISO 8601 with a time zone")
        parser.add_argument("--enqueue", action="store_true", help="run through the task worker")

    def run(self, now: datetime | None) -> str:
        raise NotImplementedError

    def handle(self, *args, now=None, enqueue=False, **options):
        if enqueue:
            module, name = self.task.split(":")
            result = getattr(import_module(module), name).enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        moment = None
        if now:
            moment = parse_datetime(now)
            if moment is None or moment.tzinfo is None:
                raise CommandError(
                    "--now must be an ISO 8601 date and time with a time zone, e.g. 2026-11-22T09:00+08:00"
                )
        line = self.run(moment)
        if options["verbosity"]:
            self.stdout.write(line)
