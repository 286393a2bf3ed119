"""Summary tables for fast reports (filled in by the summary refresh). Until a summary answers a
question exactly, each function returns None and the selectors compute live."""

from __future__ import annotations


def rates(scope, window, as_of, group_by):
    return None


def aging(scope, as_of, group_by, split_developer):
    return None


def debtors(scope, as_of, limit):
    return None
