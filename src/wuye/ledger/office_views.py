"""Back-office ledger pages: reversals, refunds, daily closing, notices, statements."""

urlpatterns: list = []
