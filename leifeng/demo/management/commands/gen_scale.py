"""manage.py gen_scale --volunteers N: a synthetic county or province for benchmarks (see demo/scale.py)."""

from django.core.management.base import BaseCommand, CommandError

from leifeng.core import audit
from leifeng.demo.codes import AuditAction
from leifeng.demo.scale import gen_scale


class Command(BaseCommand):
    help = "Generate a synthetic county or province (nodes, teams, N volunteers) quickly with bulk inserts."

    def add_arguments(self, parser):
        parser.add_argument("--volunteers", type=int, required=True, help="how many volunteers to create")
        parser.add_argument("--stations", type=int, default=180, help="stations in all (default 180)")
        parser.add_argument("--subcenters", type=int, default=12, help="sub-centers (default 12)")
        parser.add_argument(
            "--teams-per-station", type=int, default=3, help="a squadron plus squads under it (default 3)"
        )
        parser.add_argument("--batch", type=int, default=5000, help="rows per INSERT and per transaction")
        parser.add_argument(
            "--no-memberships", action="store_true", help="do not enrol everyone in their station's squadron"
        )

    def handle(self, *args, **o):
        step = max(o["batch"], o["volunteers"] // 20)
        shown = [0]

        def progress(done: int, elapsed: float) -> None:
            if done - shown[0] >= step or done == o["volunteers"]:
                shown[0] = done
                self.stdout.write(f"  {done:>10,} volunteers  {elapsed:7.1f} s  {done / elapsed:9,.0f} rows/s")

        try:
            result = gen_scale(
                volunteers=o["volunteers"],
                stations=o["stations"],
                subcenters=o["subcenters"],
                teams_per_station=o["teams_per_station"],
                batch=o["batch"],
                memberships=not o["no_memberships"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        audit.record(
            actor=None,
            action=AuditAction.DEMO_GEN_SCALE,
            obj=result.center,
            changes={"orgs": result.orgs, "teams": result.teams, "volunteers": result.volunteers},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.center.name}: {result.orgs:,} nodes, {result.teams:,} teams, "
                f"{result.volunteers:,} volunteers, {result.memberships:,} memberships in {result.seconds:.1f} s "
                f"({result.rows_per_second:,.0f} volunteers/s)"
            )
        )
