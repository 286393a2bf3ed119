"""Form widgets shared by every app."""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """``<input type="date">`` with its value as ``YYYY-MM-DD``: the only format browsers accept in a
    date input. (zh-hans's first input format is ``2026/12/04``, which a browser discards, leaving
    the field empty.)"""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    """``<input type="datetime-local">`` with its value as ``YYYY-MM-DDTHH:MM``."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")
