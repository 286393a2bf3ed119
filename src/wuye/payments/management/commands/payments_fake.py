"""python -m wuye payments_fake: the local fake of WeChat Pay and Alipay on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand

from wuye.payments.fake.server import FakePlatforms


class Command(BaseCommand):
    help = "启动本地模拟支付平台（微信支付 / 支付宝），供演示和测试使用"

    def add_arguments(self, parser):
        address = urlsplit(settings.WUYE_PAYMENTS["fake_url"])
        parser.add_argument("--port", type=int, default=address.port or 8765)

    def handle(self, *args, port: int, **options):
        # The fake signs in the mode the channels are set to check (微信支付公钥 or 平台证书).
        mode = settings.WUYE_PAYMENTS["wechat"].get("verify_mode") or "public_key"
        fake = FakePlatforms("127.0.0.1", port, wechat_mode=mode)
        fake.write_config(settings.WUYE_PAYMENTS["fake_config_file"])
        self.stdout.write(
            f"模拟支付平台已启动：{fake.base_url}（测试密钥写入 "
            f"{settings.WUYE_PAYMENTS['fake_config_file']}）"
        )
        try:
            fake.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server.server_close()
