"""manage.py seed_demo [--if-empty]: the demo county (see leifeng/demo/seed.py and content.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from leifeng.demo.seed import AlreadySeeded, seed_demo


class Command(BaseCommand):
    help = "Load demo data drawn from the plans: a county, the 长安街道 sub-center, units, teams, ~300 volunteers."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any organization exists (so `make run` keeps your data).",
        )

    def handle(self, *args, if_empty: bool = False, **options):
        started = time.perf_counter()
        try:
            demo = seed_demo()
        except AlreadySeeded:
            if if_empty:
                self.stdout.write("数据库已有数据,跳过演示数据。 The database already has data; demo not loaded.")
                return
            raise CommandError(
                "The database already has organizations; seed_demo only fills an empty database. "
                "Use --if-empty to skip quietly, or point DATABASE_URL at a new database."
            ) from None
        counts = ", ".join(f"{k} {v}" for k, v in demo.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"演示数据已载入 Demo loaded in {time.perf_counter() - started:.1f} s: {counts}")
        )
