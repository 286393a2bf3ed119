"""WeChat Pay's two ways of checking the platform's signatures, chosen by settings only: the 微信支付公钥
(public key + PUB_KEY_ID) and the 平台证书 (certificates downloaded from /v3/certificates into a
directory). The fake signs in either; in both a callback signed by the wrong key or serial is refused."""

import time

import pytest

from tests.payments.helpers import order_for, post_wechat, wechat_paid
from wuye.ledger.models import Payment
from wuye.payments.channels.base import ChannelError, channel_for
from wuye.payments.channels.wechat import WechatChannel
from wuye.payments.enums import OrderStatus
from wuye.payments.fake.keys import KeyPair
from wuye.payments.models import Notification


@pytest.fixture
def cert_mode(payments_fake, settings, tmp_path):
    """The merchant set to 平台证书: WUYE_WECHATPAY_VERIFY_MODE=platform_cert, a certificate dir."""
    payments_fake.wechat.mode = "platform_cert"
    settings.WUYE_PAYMENTS = {
        **settings.WUYE_PAYMENTS,
        "wechat": {**payments_fake.config()["wechat"], "cert_dir": str(tmp_path / "certs")},
    }
    yield payments_fake
    payments_fake.wechat.mode = "public_key"


def resign(headers: dict, body: bytes, key: KeyPair, serial: str) -> dict:
    stamp, nonce = headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"]
    return {
        **headers,
        "Wechatpay-Signature": key.sign(f"{stamp}\n{nonce}\n{body.decode()}\n"),
        "Wechatpay-Serial": serial,
    }


def refused(response) -> bool:
    return response.status_code == 400 and not Payment.objects.exists()


def test_platform_cert_mode_downloads_the_certificate_and_accepts_its_callbacks(
    cert_mode, household, tmp_path
):
    channel = channel_for("wechat")
    assert channel.verify_mode == "platform_cert"
    assert (tmp_path / "certs" / f"{cert_mode.wechat.cert_serial}.pem").exists()
    order = order_for(household)  # the gateway's answers are checked with the certificate too
    headers, body = wechat_paid(cert_mode, order)
    assert headers["Wechatpay-Serial"] == cert_mode.wechat.cert_serial
    assert post_wechat(headers, body).status_code == 204
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and Payment.objects.count() == 1


def test_platform_cert_mode_refuses_another_key_under_the_certificates_serial(cert_mode, household):
    order = order_for(household)
    headers, body = wechat_paid(cert_mode, order)
    forged = resign(headers, body, KeyPair(), cert_mode.wechat.cert_serial)
    assert refused(post_wechat(forged, body))
    assert not Notification.objects.get().verified


def test_platform_cert_mode_refuses_an_unknown_serial(cert_mode, household):
    order = order_for(household)
    headers, body = wechat_paid(cert_mode, order)
    assert refused(
        post_wechat(resign(headers, body, KeyPair(), "5157F09EFDC096DE15EBE81A47057A72"), body)
    )


def test_platform_cert_mode_refuses_the_public_key_it_was_not_set_to_use(cert_mode, household):
    order = order_for(household)
    headers, body = wechat_paid(cert_mode, order)
    wx = cert_mode.wechat
    assert refused(post_wechat(resign(headers, body, wx.platform, wx.public_key_id), body))


def test_public_key_mode_refuses_another_key_under_its_id(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    assert headers["Wechatpay-Serial"] == payments_fake.wechat.public_key_id
    assert channel_for("wechat").verify_mode == "public_key"
    forged = resign(headers, body, KeyPair(), payments_fake.wechat.public_key_id)
    assert refused(post_wechat(forged, body))


def test_public_key_mode_refuses_an_unknown_serial(payments_fake, household):
    order = order_for(household)
    headers, body = wechat_paid(payments_fake, order)
    forged = resign(headers, body, KeyPair(), "PUB_KEY_ID_0000000000000000")
    assert refused(post_wechat(forged, body))
    assert post_wechat(headers, body).status_code == 204  # the genuine one still posts
    assert Payment.objects.count() == 1


def test_each_mode_needs_its_own_settings(payments_fake):
    config = payments_fake.config()["wechat"]
    with pytest.raises(ChannelError, match="WUYE_WECHATPAY_PUBLIC_KEY_ID"):
        WechatChannel({**config, "public_key_id": ""})
    with pytest.raises(ChannelError, match="验签模式"):
        WechatChannel({**config, "verify_mode": "md5"})


def test_the_fake_signs_in_the_mode_it_was_started_with():
    from wuye.payments.fake.wechat import FakeWechat

    wx = FakeWechat("platform_cert")
    headers = wx.signed_headers("{}")
    text = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{{}}\n"
    assert headers["Wechatpay-Serial"] == wx.cert_serial
    assert wx.cert_key.verify(text, headers["Wechatpay-Signature"])
    assert abs(int(headers["Wechatpay-Timestamp"]) - time.time()) < 5
