"""Billing pages: fee items and standards, meter readings, billing runs, late fees, reductions."""

app_name = "billing"

urlpatterns: list = []
