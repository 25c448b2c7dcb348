"""Background tasks (django.tasks): the database backend in production (`manage.py db_worker`), inline in tests."""

from django.tasks import task

from leifeng.notifications import services


@task()
def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """Send each pending delivery once; returns how many ended in each status (for the worker's log)."""
    return services.send_deliveries(delivery_ids)
