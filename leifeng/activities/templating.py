"""Django's Jinja2 backend for the activities pages' hot fragments: the roster's post cards and people, the
activity page's post cards (templates in `activities/jinja2/activities/`).

Why not Django's template engine: a roster of 4 posts × 40 people rendered by it cost ~15 ms of CPU a page
(~0.1 ms a person: a variable node, a filter and an `{% if %}` each cost microseconds) — the page's target
(≥ 116 req/s on 2 cores, docs/roster-performance.md) would not hold. Jinja2 compiles a template to Python
and renders the same roster in ~2 ms, with autoescaping. The pages around the fragments stay Django templates
(`roster.html`, `activity_detail.html`) and include the fragment's (autoescaped) output.

Same HTML as Django's templates: Jinja2 escapes with MarkupSafe (`'` → `&#39;`, `"` → `&#34;`), Django with
`html.escape` (`&#x27;`, `&quot;`). `_finalize` runs on every `{{ value }}` before the autoescape and escapes
text with quotes the Django way (into Markup, which the autoescape then leaves alone), so the pages are the
same byte for byte whichever engine renders them (tests/test_golden_html.py).

Translations are Django's (`gettext`, `ngettext` of the active language, the activities catalog);
dates go through Django's `date_format` in the current time zone, like the `|date` filter.
"""

import html
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path

import jinja2
from django.template.backends.jinja2 import Jinja2
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import formats, timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext, npgettext, pgettext
from jinja2 import pass_context
from markupsafe import Markup


def _finalize(value):
    """Make Jinja2's escaping Django's: MarkupSafe escapes `&<>` as `html.escape` does but quotes differently
    (`&#39;` and `&#34;` against Django's `&#x27;` and `&quot;`). Text with a quote is escaped here, the Django
    way, into Markup (which the autoescape then leaves alone); anything else — most names, numbers and phone
    numbers — goes to MarkupSafe's C escape as it is, the cheap path."""
    if value.__class__ is not str:
        if value.__class__ is int or hasattr(value, "__html__"):
            return value
        value = str(value)
    if "'" in value or '"' in value:
        return Markup(html.escape(value))
    return value


@lru_cache(maxsize=4096)
def _formatted(value, fmt: str, language: str | None, tz) -> str:
    with translation.override(language):
        if isinstance(value, datetime) and timezone.is_aware(value):
            value = timezone.localtime(value, tz)
        return formats.date_format(value, fmt)


@pass_context
def _date(context, value, fmt: str) -> str:
    """Django's `|date` (`formats.date_format`, in the current time zone, month and weekday names in the
    language of the render), remembered per value, format, language and zone: a page shows a few distinct
    times, and Django's formatter cost ~40 µs a date."""
    if value is None:
        return ""
    return _formatted(value, str(fmt), context["LANGUAGE"], timezone.get_current_timezone())


@lru_cache(maxsize=4096)
def _translated(language: str | None, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pass_context
def _gettext(context, message: str) -> str:
    """Django's `gettext` in the language of the render, remembered per language and message (the catalogs do
    not change while the process runs): Django's own call reads the active language from a context-local
    each time (~7 µs, a hundred times a roster)."""
    return _translated(context["LANGUAGE"], message)


def _join_escaped(values, separator: str) -> Markup:
    """Each value escaped (Django's way), joined: for a list placed inside a translated sentence."""
    return Markup(str(separator).join(html.escape(str(v)) for v in values))


_URL_SENTINEL = 2_147_483_647  # a pk reversed once; no URL of these pages has these digits otherwise


@cache
def _pk_url_parts(name: str, prefix: str, urlconf) -> tuple[str, str]:
    head, _sentinel, tail = reverse(name, args=[_URL_SENTINEL], urlconf=urlconf).rpartition(str(_URL_SENTINEL))
    return head, tail


def pk_url(name: str, pk: int) -> str:
    """`reverse(name, args=[pk])` for a URL of one integer argument, reversed once per process, script prefix
    and URLconf: `reverse` three times a post was a tenth of the roster's own CPU (issue #4). An int pk
    converts to its digits, so head + digits + tail is what `reverse` gives."""
    head, tail = _pk_url_parts(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"


@pass_context
def _post_url(context, name: str, pk: int) -> str:
    """`pk_url` with the script prefix and URLconf the render started with (read once, not per link)."""
    head, tail = _pk_url_parts(name, *context["URLS"])
    return f"{head}{int(pk)}{tail}"


@cache
def _plain_url(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)


def plain_url(name: str) -> str:
    """`reverse(name)` of a URL without arguments, once per process, script prefix and URLconf."""
    return _plain_url(name, get_script_prefix(), get_urlconf())


def environment(**options) -> jinja2.Environment:
    env = jinja2.Environment(**options)
    env.install_gettext_callables(_gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.filters["date"] = _date
    env.filters["join_escaped"] = _join_escaped
    env.globals["post_url"] = _post_url
    env.globals["url"] = plain_url
    return env


@cache
def engine() -> Jinja2:
    """The backend, built once; not in settings.TEMPLATES so that `render()`/`get_template()` elsewhere keep
    finding Django templates first (the pages' names are the same)."""
    return Jinja2(
        {
            "NAME": "activities-jinja2",
            "DIRS": [Path(__file__).resolve().parent / "jinja2"],
            "APP_DIRS": False,
            "OPTIONS": {
                "environment": "leifeng.activities.templating.environment",
                "extensions": ["jinja2.ext.i18n"],
                "finalize": _finalize,
                "undefined": jinja2.StrictUndefined,
            },
        }
    )


def render_fragment(name: str, context: dict) -> SafeString:
    """The fragment's HTML (autoescaped by the template), for a Django template's context. The active
    language and the URL prefix are read once here, for the template's `_()`, `|date` and `post_url`."""
    context = {**context, "LANGUAGE": get_language(), "URLS": (get_script_prefix(), get_urlconf())}
    return SafeString(engine().get_template(name).render(context))
