"""Background work of attendance (django.tasks; run `manage.py db_worker` beside the app server)."""

from django.tasks import task


@task
def close_attendance_task() -> dict[str, int]:
    """Close presences left open after their post ended (flagged) and mark no-shows. Schedule it every few minutes."""
    from leifeng.attendance.services import close_attendance

    return close_attendance()
