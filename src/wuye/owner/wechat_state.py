"""The ``state`` of the WeChat OAuth step (JSAPI inside WeChat): bound to the household's link and the
owner's choice (bills, months ahead), single-use, short-lived.

WeChat passes ``state`` back untouched but allows only ``[a-zA-Z0-9]`` and 128 bytes, so the choice
itself stays in the owner's session under a random nonce, and the state is that nonce followed by an
HMAC (SECRET_KEY, salt ``wuye.owner.wechat_state``) over the link, the nonce and the choice. Coming
back, the state must match an entry of this session for this link, within ``STATE_SECONDS``, with the
same HMAC; it is used up either way. A state altered, replayed, carried to another household's link
or another browser is refused.
"""

from __future__ import annotations

import json
import secrets
import time

from django.utils.crypto import constant_time_compare, salted_hmac

from wuye.core.errors import ValidationFailed
from wuye.owner.models import OwnerLink

SESSION_KEY = "owner_wechat_states"
STATE_SECONDS = 600
SALT = "wuye.owner.wechat_state"
KEEP = 5  # states one session keeps (a few taps on 微信支付)


def _mac(link: OwnerLink, nonce: str, choice: dict) -> str:
    text = f"{link.pk}|{nonce}|{json.dumps(choice, sort_keys=True, separators=(',', ':'))}"
    return salted_hmac(SALT, text, algorithm="sha256").hexdigest()[:32]


def state_make(session, link: OwnerLink, choice: dict, *, now: float | None = None) -> str:
    """A new state for ``choice`` (``{"bills": [...], "ahead": n}``), remembered in ``session``."""
    nonce = secrets.token_hex(8)
    states = dict(session.get(SESSION_KEY) or {})
    states[nonce] = {"link": link.pk, "choice": choice, "at": int(now or time.time())}
    if len(states) > KEEP:
        for old in sorted(states, key=lambda k: states[k]["at"])[: len(states) - KEEP]:
            states.pop(old)
    session[SESSION_KEY] = states
    return nonce + _mac(link, nonce, choice)


def state_check(session, link: OwnerLink, state: str, *, now: float | None = None) -> dict:
    """The choice the state stands for; ``ValidationFailed`` when it was altered, used, expired, or
    belongs to another link or session."""
    refused = ValidationFailed("微信授权已失效或信息不符，请返回重新点击“微信支付”", field="state")
    state = state or ""
    if len(state) != 48 or not state.isalnum():
        raise refused
    nonce, mac = state[:16], state[16:]
    states = dict(session.get(SESSION_KEY) or {})
    entry = states.pop(nonce, None)
    session[SESSION_KEY] = states
    if entry is None or entry.get("link") != link.pk:
        raise refused
    if int(now or time.time()) - int(entry.get("at", 0)) > STATE_SECONDS:
        raise refused
    if not constant_time_compare(mac, _mac(link, nonce, entry["choice"])):
        raise refused
    return entry["choice"]
