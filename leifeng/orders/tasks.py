"""Background work of orders (django.tasks): reminders, escalation and auto-close, run periodically
(`manage.py escalate_orders` from cron or a systemd timer enqueues nothing: it runs the same service inline)."""

from django.tasks import task

from leifeng.orders import services


@task()
def escalate_overdue_orders() -> dict[str, int]:
    """Remind at half time, escalate one level up per missed deadline, close unrated orders."""
    return services.orders_escalate_overdue()
