"""Settings hooks: how a lower app calls the apps above it without importing them (decision 0005).
A hook setting is a list of dotted paths; this module is the one place that resolves and runs them.
Panels are the same for pages: a lower app's page shows the templates apps above it list in a
setting, without naming them (decision 0016)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


def hooks(name: str) -> list[Callable[..., Any]]:
    """The callables listed in the setting ``name`` (empty when the setting is absent)."""
    return [import_string(path) for path in getattr(settings, name, [])]


def call_each(name: str, *args: Any, **kwargs: Any) -> list[Any]:
    """Calls every hook of ``name`` now, in order, and returns their answers. For hooks whose answer
    the caller needs (a strategy, a ranking, a report section): an error is the caller's error."""
    return [hook(*args, **kwargs) for hook in hooks(name)]


def after_commit(name: str, **kwargs: Any) -> None:
    """Calls every hook of ``name`` once the current transaction commits (at once outside one). Each
    runs on its own: a failing hook is logged and neither undoes the write nor stops the others."""
    for hook in hooks(name):
        # A closure, not functools.partial: Django logs a failing callback by its __qualname__.
        transaction.on_commit(lambda hook=hook: hook(**kwargs), robust=True)


def panels(name: str) -> list[str]:
    """The templates listed in the setting ``name`` (empty when absent): the cards apps above add to
    a lower app's page, in order. The page includes each with its own context
    (``{% for panel in … %}{% include panel %}{% endfor %}``); a panel gets what it shows from its
    own app (a template tag, an htmx request, a hook such as ``WUYE_CASE_RANKER``)."""
    return list(getattr(settings, name, []))
