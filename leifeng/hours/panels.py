"""Parts other apps add to the hours pages, so hours needs not import them (it sits below them in LAYERS).

Attendance adds its forgotten check-outs and no-shows to an activity's hours review: it registers a panel in
its AppConfig.ready(); the review page renders every panel's template with the context its function returns.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    template: str  # rendered with `panel` = the dict the function returns
    context: Callable[..., dict]  # (request, activity) → the panel's context


REVIEW_PANELS: list[Panel] = []


def add_review_panel(template: str, context: Callable[..., dict]) -> None:
    """Show `template` on the hours review of an activity (once per template, however often ready() runs)."""
    if all(p.template != template for p in REVIEW_PANELS):
        REVIEW_PANELS.append(Panel(template, context))


def review_panels(request: HttpRequest, activity) -> list[dict]:
    return [{"template": p.template, **p.context(request, activity)} for p in REVIEW_PANELS]
