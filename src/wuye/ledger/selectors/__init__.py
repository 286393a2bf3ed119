"""Every read of the ledger, one module per job a user knows by its Chinese name (docs/user):

=====================  ==========================================================================
``outstanding``        what a bill still asks for on any date (the one expression every app uses)
``late_fees``          滞纳金 as of a date, capped (计费-滞纳金与优惠.md)
``window``             收银台: a household's unpaid bills and position on a date (收银台.md)
``prepaid``            预存款 balance and what may be drawn on a day
``payments``           payments of a scope, one payment's detail, method totals
``receipts``           what a receipt prints (收银台.md, “收据与发票”)
``statement``          对账单 (对账单.md)
``closing``            日结 figures, closings, unclosed days (日结.md)
``notices``            缴费通知单 (缴费通知单.md)
=====================  ==========================================================================

Balances are sums, never stored fields (ARCHITECTURE.md "the ledger is append-only"):

    outstanding(bill, as of D) = amount − Σ adjustments − Σ allocations        (each dated ≤ D)
    prepaid balance(account, as of D) = Σ prepaid movements                     (dated ≤ D)

Every figure is a SQL aggregate with a fixed number of queries, whatever the number of bills.
"""
