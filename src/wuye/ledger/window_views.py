"""The fee window (收银台) and receipts."""

urlpatterns: list = []
