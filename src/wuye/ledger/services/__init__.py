"""Every write of the ledger, one module per job a user knows by its Chinese name (docs/user):

=====================  ==========================================================================
``payments``           收款 at the fee window, the API and bank posting (收银台.md): allocation order,
                       late-fee bills, prepaid deposit, receipt numbers, idempotency, after-payment hooks
``reversals``          冲红 of a payment and 退款 of prepaid balance (冲红与退款.md)
``prepaid``            预存款抵扣: paying bills out of the prepaid balance, after a billing run too
``receipts``           打印/补打收据 and 开票申请 (收银台.md, “收据与发票”)
``closing``            日结 of a cashier's day (日结.md)
``checks``             what every write checks: roles, amounts, dates, methods, the closed day
=====================  ==========================================================================

Nothing here updates or deletes a ledger row. A payment is undone by a reversal (冲红) that adds
negative allocations and prepaid movements; balances are sums (see ``wuye.ledger.selectors``).
"""
