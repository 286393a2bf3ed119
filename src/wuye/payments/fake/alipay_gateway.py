"""The fake Alipay's gateway (/gateway.do): wap/precreate/pay orders, query, close, refund and the
statement's download address."""

from __future__ import annotations

import json

from wuye.payments.fake.plumbing import BaseHandler, cst_now


class AlipayRoutes(BaseHandler):
    """The Alipay route of the fake's HTTP handler (``server._Handler``)."""

    def _alipay(self, params: dict):
        ali = self.platforms.alipay
        method = params.get("method", "")
        if not ali.check(params):
            error = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
            return self._send(200, ali.response(method, error), "application/json;charset=utf-8")
        biz = json.loads(params.get("biz_content") or "{}")
        ok = {"code": "10000", "msg": "Success"}
        no = biz.get("out_trade_no", "")
        missing = {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}

        def answer(payload):
            return self._send(200, ali.response(method, payload), "application/json;charset=utf-8")

        if method in ("alipay.trade.wap.pay", "alipay.trade.precreate", "alipay.trade.pay"):
            trade = ali.trades.get(no)
            if trade is None:
                trade = ali.trades[no] = {
                    "out_trade_no": no,
                    "total_amount": biz["total_amount"],
                    "subject": biz["subject"],
                    "status": "WAIT_BUYER_PAY",
                    "gmt_create": cst_now().strftime("%Y-%m-%d %H:%M:%S"),
                    "notify_url": params.get("notify_url", ""),
                    "return_url": params.get("return_url", ""),
                    "refunds": [],
                }
            if method == "alipay.trade.wap.pay":
                return self._pay_page("alipay", no)
            if method == "alipay.trade.precreate":
                return answer(
                    {
                        **ok,
                        "out_trade_no": no,
                        "qr_code": f"{self.platforms.base_url}/pay/alipay/{no}",
                    }
                )
            if biz.get("auth_code", "").endswith("0000"):
                return answer({"code": "10003", "msg": "等待用户付款", "out_trade_no": no})
            ali.pay(no)
            return answer(
                {
                    **ok,
                    "trade_no": trade["trade_no"],
                    "out_trade_no": no,
                    "total_amount": trade["paid"],
                    "gmt_payment": trade["gmt_payment"],
                }
            )
        trade = ali.trades.get(no)
        if method == "alipay.trade.query":
            if trade is None:
                return answer(missing)
            payload = {
                **ok,
                "out_trade_no": no,
                "trade_status": trade["status"],
                "total_amount": trade["total_amount"],
            }
            if trade.get("trade_no"):
                payload.update(
                    trade_no=trade["trade_no"],
                    total_amount=trade["paid"],
                    send_pay_date=trade["gmt_payment"],
                )
            return answer(payload)
        if method == "alipay.trade.close":
            if trade is None:
                return answer(missing)
            if trade["status"] != "WAIT_BUYER_PAY":
                return answer(
                    {
                        "code": "40004",
                        "msg": "Business Failed",
                        "sub_code": "ACQ.TRADE_STATUS_ERROR",
                    }
                )
            trade["status"] = "TRADE_CLOSED"
            return answer({**ok, "out_trade_no": no})
        if method == "alipay.trade.refund":
            if trade is None or not trade.get("trade_no"):
                return answer(missing)
            trade["refunds"].append(
                {
                    "no": biz.get("out_request_no", ""),
                    "amount": biz["refund_amount"],
                    "time": cst_now().strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
            return answer(
                {
                    **ok,
                    "trade_no": trade["trade_no"],
                    "out_trade_no": no,
                    "fund_change": "Y",
                    "refund_fee": biz["refund_amount"],
                }
            )
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            day = biz.get("bill_date", "")
            return answer(
                {**ok, "bill_download_url": f"{self.platforms.base_url}/alipay/bill/{day}.zip"}
            )
        return answer(
            {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.METHOD_NOT_FAKED"}
        )
