"""A statement line as the parsers hand it over, and its identity within the receiving account."""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from wuye.banking.enums import Direction


@dataclass
class ParsedLine:
    row_no: int  # where it stood in the file (for messages)
    direction: str  # Direction
    txn_date: datetime.date
    amount: Decimal  # positive; the direction says which way
    txn_time: datetime.time | None = None
    serial: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    summary: str = ""
    remark: str = ""
    balance: Decimal | None = None

    @property
    def incoming(self) -> bool:
        return self.direction == Direction.IN


def fingerprint(line: ParsedLine) -> str:
    text = "|".join(
        [
            line.txn_date.isoformat(),
            line.txn_time.isoformat() if line.txn_time else "",
            line.direction,
            str(line.amount),
            line.counterparty_name,
            line.counterparty_account,
            line.summary,
            line.remark,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def dedupe_keys(lines: list[ParsedLine]) -> list[str]:
    """``S:<serial>`` where the bank gives a serial; else ``F:<fingerprint>:<n>`` where ``n`` counts
    identical lines before it in the same file — two equal transfers on one day stay two lines, and
    an overlapping export (which holds both) adds neither again."""
    seen: Counter[str] = Counter()
    keys = []
    for line in lines:
        if line.serial:
            keys.append(f"S:{line.serial}")
            continue
        fp = fingerprint(line)
        seen[fp] += 1
        keys.append(f"F:{fp}:{seen[fp]}")
    return keys
