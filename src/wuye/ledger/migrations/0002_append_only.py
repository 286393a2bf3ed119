"""The database itself keeps the ledger append-only (SPEC §4): bills, reductions, waivers, payments,
their lines and allocations, prepaid movements, reversals, refunds, receipt prints and closings are
never rewritten — a correction is a new row. UPDATE is refused on both databases; DELETE on
PostgreSQL too (SQLite keeps DELETE because the test runner empties tables with it; TRUNCATE, used by
``flush`` and ``demo_data --reset``, fires no row triggers)."""

from django.db import migrations

TABLES = [
    "billing_bill",
    "billing_billadjustment",
    "billing_latefeewaiver",
    "ledger_payment",
    "ledger_paymentline",
    "ledger_allocation",
    "ledger_prepaidmovement",
    "ledger_paymentreversal",
    "ledger_refund",
    "ledger_receiptprint",
    "ledger_cashierclosing",
]


def _sqlite_up(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {table}'); END;"
    )


PG_FUNCTION = """
CREATE OR REPLACE FUNCTION wuye_ledger_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'ledger is append-only: %', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;
"""


def _pg_up(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION wuye_ledger_append_only();"
    )


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(_sqlite_up(table))
    elif vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(_pg_up(table))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
    elif vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS wuye_ledger_append_only();")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial"), ("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
