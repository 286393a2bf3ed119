"""The WeChat official account's web OAuth (网页授权, ``snsapi_base``): the payer's openid, which a
JSAPI order needs. Inside WeChat's browser the owner page sends the payer to ``authorize_url``; WeChat
comes back silently to our ``redirect_uri`` with a one-time ``code`` and our ``state``; ``openid_for``
exchanges the code (sns/oauth2/access_token with the AppID and AppSecret) for the openid.

AppID, AppSecret and the two addresses come from settings (``WUYE_PAYMENTS['wechat']``, filled from the
environment), or, with no merchant configured, from the local fake (which serves both on 127.0.0.1).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

from wuye.payments.channels.base import ChannelError, channel_config, read_secret


def _config() -> dict:
    config = channel_config("wechat")
    secret = read_secret(config.get("app_secret", ""), config.get("app_secret_file", ""))
    return {**config, "app_secret": secret.strip()}


def oauth_ready() -> bool:
    """Whether JSAPI can be used: an official account AppID and AppSecret are configured."""
    try:
        config = _config()
    except ChannelError:
        return False
    return bool(config.get("app_id") and config.get("app_secret") and config.get("oauth_url"))


def uses_fake() -> bool:
    try:
        return bool(channel_config("wechat").get("fake"))
    except ChannelError:
        return False


def fake_base_url() -> str:
    return channel_config("wechat")["base_url"].rstrip("/") if uses_fake() else ""


def authorize_url(*, redirect_uri: str, state: str) -> str:
    """Where the payer goes for the openid (silent with snsapi_base). WeChat wants the parameters in
    this order and the ``#wechat_redirect`` fragment."""
    config = _config()
    query = urlencode(
        [
            ("appid", config["app_id"]),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "snsapi_base"),
            ("state", state),
        ]
    )
    return f"{config['oauth_url']}?{query}#wechat_redirect"


def openid_for(code: str) -> str:
    """The payer's openid for the one-time ``code``; ``ChannelError`` (Chinese) when WeChat refuses."""
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise ChannelError("微信授权失败：缺少授权码")
    config = _config()
    query = urlencode(
        {
            "appid": config["app_id"],
            "secret": config["app_secret"],
            "code": code,
            "grant_type": "authorization_code",
        }
    )
    url = f"{config['sns_url']}?{query}"
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ChannelError("微信授权地址须为 HTTPS")
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - checked above
            data = json.loads(answer.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChannelError(f"微信授权失败：{exc}") from exc
    openid = data.get("openid") if isinstance(data, dict) else None
    if not openid:
        raise ChannelError(
            f"微信授权失败：{data.get('errcode', '')} {data.get('errmsg', '')}".strip()
            if isinstance(data, dict)
            else "微信授权失败"
        )
    return str(openid)[:128]
