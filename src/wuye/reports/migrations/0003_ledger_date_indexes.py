"""Indexes on the ledger's effective dates for the reports' live queries (entries dated after a day:
the part of a month the summary tables do not split). Plain SQL so that the ledger and billing apps'
own migrations stay theirs; ``IF NOT EXISTS`` works on SQLite and PostgreSQL alike."""

from django.db import migrations

INDEXES = {
    "report_allocation_date_idx": "ledger_allocation",
    "report_adjustment_date_idx": "billing_billadjustment",
}


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_summary_tables"),
        ("ledger", "0001_initial"),
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} (effective_date)",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, table in INDEXES.items()
    ]
