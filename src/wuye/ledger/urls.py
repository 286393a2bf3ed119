"""Ledger pages: the fee window and receipts (window_views), and the back office — reversals,
refunds, daily closing, payment notices, statements (office_views)."""

from wuye.ledger.office_views import urlpatterns as office_urlpatterns
from wuye.ledger.window_views import urlpatterns as window_urlpatterns

app_name = "ledger"

urlpatterns = [*window_urlpatterns, *office_urlpatterns]
