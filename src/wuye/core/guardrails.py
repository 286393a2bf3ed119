"""The forbidden-measure guard (LAW.md §1–3): does a text a user writes plan cutting off utilities,
locking an owner out, naming a debtor in public or telling the employer?

The ways of saying it are data (``forbidden_phrases.toml`` beside this file); this module normalises a
text so that spacing, zero-width characters, full-width forms and traditional characters cannot
dodge the list, and tells a plan (下周停止供水) from a report of what happened (业主说楼上停水导致
漏水) by the markers of its clause. It lives in core so that every app, from the registry up, checks
its free-text fields with the same list.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import zhconv

from wuye.core.errors import ValidationFailed

PHRASES_FILE = Path(__file__).with_name("forbidden_phrases.toml")

FORBIDDEN_MESSAGE = (
    "不能计划或记录停水、停电、停暖、停气、停用电梯或门禁等措施，也不能公开欠费人的姓名、房号、"
    "金额或告知其单位、同事等第三方：《民法典》第九百四十四条第三款禁止以停止供电、供水、供热、"
    "供燃气等方式催交物业费；《个人信息保护法》第二十三条、第二十五条禁止未经同意向他人提供或"
    "公开个人信息。如记录的是业主反映的已发生情况，请写成“业主反映……”。"
)

# Zero-width and formatting characters, spaces and the separators people put between characters
# to slip past a word list (停 水, 停·水, 停_水). Clause punctuation stays: it bounds the context.
_INVISIBLE = re.compile(
    r"[\u00ad\u180e\u200b-\u200f\u2028-\u202f\u205f-\u206f\ufeff\s·•・*_~`'\"|/\\^\-—–.]+"
)
_SENTENCE = re.compile(r"[。；;！!？?\n]+")
_CLAUSE = re.compile(r"[，,:：]+")
# Variant forms zhconv does not fold.
_VARIANTS = str.maketrans({"氺": "水", "乑": "众", "黒": "黑", "閘": "闸"})


def normalize(text: str) -> str:
    """The text as the guard reads it: NFKC (full-width → half-width), variants and traditional
    characters → simplified, invisible characters, spaces and separators removed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_VARIANTS)
    text = zhconv.convert(text, "zh-cn")
    return _INVISIBLE.sub("", text)


@dataclass(frozen=True)
class Phrases:
    cutoff: re.Pattern
    naming: re.Pattern
    report: tuple[str, ...]
    event: tuple[str, ...]
    negation: tuple[str, ...]
    plan: tuple[str, ...]
    threat: tuple[str, ...]
    speech_end: tuple[str, ...]


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@functools.cache
def phrases(path: Path = PHRASES_FILE) -> Phrases:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cut = data["cutoff"]
    verbs, objects = _alternation(cut["verbs"]), _alternation(cut["objects"])
    not_after = "".join(re.escape(c) for c in cut.get("object_not_followed_by", []))
    obj = f"(?:{objects})" + (f"(?![{not_after}])" if not_after else "")
    gap = f".{{0,{int(cut['gap'])}}}?"
    cutoff = re.compile(f"(?:{verbs}){gap}{obj}|{obj}{gap}(?:{verbs})")
    naming_parts = [_alternation(data["naming"]["phrases"]), *data["naming"]["patterns"]]
    naming = re.compile("|".join(f"(?:{p})" for p in naming_parts))
    ctx = data["context"]
    return Phrases(
        cutoff=cutoff,
        naming=naming,
        report=tuple(ctx["report"]),
        event=tuple(ctx["event"]),
        negation=tuple(ctx["negation"]),
        plan=tuple(ctx["plan"]),
        threat=tuple(ctx["threat"]),
        speech_end=tuple(ctx["speech_end"]),
    )


def forbidden_measure(text: str | None) -> str | None:
    """The words of ``text`` that plan an unlawful measure (as normalised), or ``None``."""
    if not text:
        return None
    p = phrases()
    reported = False  # the previous clause ended with "业主说" and the like
    for sentence in _SENTENCE.split(normalize(text)):
        event = any(w in sentence for w in p.event)
        for clause in _CLAUSE.split(sentence):
            carried, reported = reported, clause.endswith(p.speech_end)
            hit = p.cutoff.search(clause) or p.naming.search(clause)
            if hit is None:
                continue
            report = event or carried or any(w in clause for w in p.report)
            if any(w in clause for w in p.threat):
                return hit.group(0)
            if any(w in clause for w in p.negation):
                continue
            if any(w in clause for w in p.plan) or not report:
                return hit.group(0)
    return None


def guard_text(text: str | None, *, field: str) -> None:
    """Refuses (``ValidationFailed`` naming ``field``) a free text that plans an unlawful measure."""
    if word := forbidden_measure(text):
        raise ValidationFailed(
            f"“{word}”：{FORBIDDEN_MESSAGE}", code="guard.forbidden_measure", field=field
        )
