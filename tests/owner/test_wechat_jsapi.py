"""WeChat Pay inside WeChat: the official account's OAuth step (snsapi_base) gives the payer's openid,
the JSAPI order is made with it, and the page calls getBrandWCPayRequest with parameters signed as
WeChat Pay v3 requires — all against the local fake."""

import base64
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.payments.helpers import post_wechat
from wuye.ledger.selectors.window import unpaid_bills
from wuye.owner import links, wechat_state
from wuye.payments.channels import wechat_oauth
from wuye.payments.channels.base import ChannelError
from wuye.payments.enums import OrderStatus
from wuye.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db
IN_WECHAT = {
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800322d) NetType/WIFI Language/zh_CN"
}
PHONE = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def authorize(url: str) -> str:
    """Opens the authorize URL on the fake as WeChat's browser would; returns where it redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url.split("#")[0], timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("no redirect")


def start(client, token) -> str:
    """The owner taps 微信支付 in WeChat: the page sends them to the OAuth step."""
    answer = client.post(f"/o/{token}/pay/", {"channel": "wechat"}, headers=IN_WECHAT)
    assert answer.status_code == 200
    assert not PaymentOrder.objects.exists()  # no order before the openid is known
    url = answer.context["url"]
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["snsapi_base"] and query["response_type"] == ["code"]
    assert query["redirect_uri"][0].endswith(f"/o/{token}/wechat/")
    assert url.endswith("#wechat_redirect")
    return url


def back_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def test_openid_exchange(payments_fake):
    code = payments_fake.wechat.oauth_code("o-payer-1")
    assert wechat_oauth.openid_for(code) == "o-payer-1"
    with pytest.raises(ChannelError) as err:  # a code is good once
        wechat_oauth.openid_for(code)
    assert "40029" in str(err.value)


def test_openid_exchange_needs_the_app_secret(payments_fake, settings):
    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "wechat": {**settings.WUYE_PAYMENTS["wechat"], "app_secret": "wrong"},
    }
    with pytest.raises(ChannelError) as err:
        wechat_oauth.openid_for(payments_fake.wechat.oauth_code("o-payer-1"))
    assert "40125" in str(err.value)


def test_the_whole_flow_in_wechat_pays_with_jsapi(client, token, acct, payments_fake):
    location = authorize(start(client, token))
    answer = client.get(back_path(location), headers=IN_WECHAT)
    assert answer.status_code == 302
    order = PaymentOrder.objects.get()
    assert (order.scene, order.openid) == ("jsapi", payments_fake.payer_openid)
    assert payments_fake.wechat.trades[order.out_trade_no]["openid"] == order.openid
    page = client.get(answer["Location"], headers=IN_WECHAT)
    shown = page.content.decode()
    assert 'id="jsapi-pay"' in shown and 'id="jsapi-params"' in shown
    assert f"{payments_fake.base_url}/jsbridge.js" in shown
    assert payments_fake.base_url in page["Content-Security-Policy"]
    # What WeChat's bridge does with getBrandWCPayRequest: checks paySign, pays, calls back.
    err_msg, no = payments_fake.wechat.jsapi_pay(order.pay_params["jsapi"])
    assert (err_msg, no) == ("get_brand_wcpay_request:ok", order.out_trade_no)
    assert post_wechat(*payments_fake.wechat.pay_notification(no)).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert unpaid_bills(acct) == []


def test_jsapi_pay_sign_verifies_with_the_merchant_public_key(client, token, payments_fake):
    client.get(back_path(authorize(start(client, token))), headers=IN_WECHAT)
    params = PaymentOrder.objects.get().pay_params["jsapi"]
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=wx")
    assert params["appId"] == payments_fake.wechat.appid
    assert params["timeStamp"].isdigit() and len(params["nonceStr"]) == 32
    public = serialization.load_pem_public_key(payments_fake.wechat.merchant.public_pem.encode())
    text = "".join(f"{params[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    public.verify(
        base64.b64decode(params["paySign"]), text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    forged = {**params, "package": "prepay_id=wx0000"}
    assert payments_fake.wechat.jsapi_pay(forged)[0] == "get_brand_wcpay_request:fail"


def test_an_altered_state_is_refused(client, token, payments_fake):
    location = authorize(start(client, token))
    state = parse_qs(urlsplit(location).query)["state"][0]
    flipped = state[:-1] + ("0" if state[-1] != "0" else "1")
    answer = client.get(back_path(location.replace(state, flipped)), headers=IN_WECHAT)
    assert answer.status_code == 302 and answer["Location"].endswith(f"/o/{token}/#pay")
    assert not PaymentOrder.objects.exists()
    shown = client.get(answer["Location"]).content.decode()
    assert "微信授权已失效或信息不符" in shown


def test_a_state_is_good_once_and_only_for_its_own_link(
    client, token, acct, other_acct, payments_fake
):
    location = authorize(start(client, token))
    other = links.token_for(links.link_for(other_acct))
    moved = back_path(location).replace(f"/o/{token}/", f"/o/{other}/")
    client.get(moved, headers=IN_WECHAT)  # carried to another household's link: refused
    assert not PaymentOrder.objects.exists()
    again = back_path(authorize(start(client, token)))
    assert client.get(again, headers=IN_WECHAT).status_code == 302
    assert PaymentOrder.objects.count() == 1
    client.get(again, headers=IN_WECHAT)  # replayed
    assert PaymentOrder.objects.count() == 1


def test_a_state_from_another_browser_or_too_old_is_refused(link):
    session: dict = {}
    state = wechat_state.state_make(session, link, {"bills": [1], "ahead": "0"})
    with pytest.raises(Exception, match="微信授权"):
        wechat_state.state_check({}, link, state)  # another session
    state = wechat_state.state_make(session, link, {"bills": [1], "ahead": "0"})
    with pytest.raises(Exception, match="微信授权"):
        wechat_state.state_check(session, link, state, now=time.time() + 601)
    state = wechat_state.state_make(session, link, {"bills": [1], "ahead": "0"})
    assert wechat_state.state_check(session, link, state) == {"bills": [1], "ahead": "0"}


def test_outside_wechat_h5_is_kept(client, token, payments_fake):
    client.post(f"/o/{token}/pay/", {"channel": "wechat"}, headers=PHONE)
    assert PaymentOrder.objects.get().scene == "h5"


def test_without_an_app_secret_wechat_falls_back_to_h5(client, token, payments_fake, settings):
    config = payments_fake.config()["wechat"]
    settings.WUYE_PAYMENTS = {**settings.WUYE_PAYMENTS, "wechat": {**config, "app_secret": ""}}
    client.post(f"/o/{token}/pay/", {"channel": "wechat"}, headers=IN_WECHAT)
    assert PaymentOrder.objects.get().scene == "h5"
