"""Contact windows as a project writes them (``"09:00-12:00,15:00-20:00"``), and the legal limits on
them (LAW.md §8) as patterns the database checks too (``DunningSettings``' constraints)."""

from __future__ import annotations

import datetime


def parse_windows(text: str) -> list[tuple[datetime.time, datetime.time]]:
    """``"09:00-12:00,15:00-20:00"`` → [(09:00, 12:00), (15:00, 20:00)]; ``ValueError`` if malformed."""
    windows = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        start, end = (datetime.time.fromisoformat(x.strip()) for x in part.split("-"))
        if end <= start:
            raise ValueError(part)
        windows.append((start, end))
    if not windows:
        raise ValueError(text)
    return windows


# LAW.md §8, as patterns the database checks too: calls and visits never 22:00–08:00, messages only
# 08:00–21:00. A project may narrow its windows inside these, never widen them.
def _windows_pattern(last_hour: int) -> str:
    hours = "|".join(f"{h:02d}" for h in range(8, last_hour))
    t = rf"(({hours}):[0-5][0-9]|{last_hour:02d}:00)"
    one = rf"\s*{t}\s*-\s*{t}\s*"
    return rf"^{one}([,，]{one})*$"


VOICE_WINDOWS_PATTERN = _windows_pattern(22)
MESSAGE_WINDOWS_PATTERN = _windows_pattern(21)
