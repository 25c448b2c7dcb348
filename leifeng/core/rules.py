"""Regional rules (DESIGN §4): a default per installation, overridable per node for its subtree.

A node's `Org.rules` JSON may set any key below; the nearest ancestor that sets it wins, e.g. a city
following Beijing's star thresholds sets `{"star_thresholds_h": [100, 200, 500, 800, 1000]}` on its node.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "star_thresholds_h": [100, 300, 600, 1000, 1500],  # rule 12: 一星 … 五星 by verified hours
    "daily_hours_cap": 12,  # rule 9: at most this many hours per person per day
    "notice_days": 7,  # rule 15: public notice period of award rounds
    "order_accept_hours": 24,  # orders: a team must accept within this many hours
    "order_autoclose_days": 7,  # orders: unrated completed orders close after this many days
    "min_volunteer_age": 14,  # rule 4
}


def default(name: str) -> Any:
    """The installation's default: settings.LEIFENG_RULES overrides the built-in one."""
    return getattr(settings, "LEIFENG_RULES", {}).get(name, DEFAULTS[name])


def rule(org, name: str) -> Any:
    """The value of rule `name` at `org`: nearest node (itself, then ancestors) that sets it, else the default."""
    if name not in DEFAULTS:
        raise KeyError(name)
    if org is not None:
        if name in (org.rules or {}):
            return org.rules[name]
        prefixes = [org.path[:i] for i in range(org.steplen, len(org.path), org.steplen)]
        for _path, rules in sorted(
            type(org)._default_manager.filter(path__in=prefixes).values_list("path", "rules"), key=lambda x: -len(x[0])
        ):
            if rules and name in rules:
                return rules[name]
    return default(name)
