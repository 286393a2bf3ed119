"""``backup`` / ``restore`` (issue 13 item 10): a backup restored into a fresh database gives the same
books — check_ledger clean, same totals, same receipt sequence — and the same uploaded files; a
tampered backup is refused."""

import hashlib
import io
import json
import stat
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.ledger import factories
from tests.ledger.factories import D
from wuye.core.backup import backup_verify, database_is_empty, table_counts
from wuye.core.roles import Role
from wuye.ledger.backup import figures
from wuye.ledger.invariants import check_all
from wuye.ledger.models import Payment, ReceiptSequence
from wuye.ledger.services.reversals import payment_reverse, prepaid_refund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    evidence = settings.MEDIA_ROOT / "evidence" / "2026" / "notice-photo.jpg"
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(b"\xff\xd8\xff\xe0 door notice photo " * 50)
    return evidence


@pytest.fixture
def books(project, other_project, make_user):
    """A small but real set of books made through the services: bills, payments with change into
    prepaid, a reversal and a refund, in two projects."""
    cashier = make_user("cashier", Role.CASHIER, project, other_project)
    boss = make_user("supervisor", Role.SUPERVISOR, project, other_project)
    for proj, n in ((project, 4), (other_project, 2)):
        item = factories.fee_item(proj)
        for i in range(n):
            acct = factories.account(proj, f"1-1-{101 + i}", owner=f"业主{i}")
            factories.monthly_bills(acct, item, D(2025, 1, 1), 3)
            pay = factories.pay(cashier, acct, "250.00")
            if i == 1:
                payment_reverse(user=cashier, payment=pay, reason="收错", approved_by=boss)
            if i == 2:
                factories.pay(cashier, acct, "80.00")
                prepaid_refund(
                    user=cashier,
                    account=acct,
                    amount="20.00",
                    method="cash",
                    reason="合同结束",
                    approved_by=boss,
                )
    assert check_all() == []
    return figures()


def receipts():
    return sorted(Payment.objects.values_list("project__code", "receipt_no", "amount"))


def backup(tmp_path):
    call_command("backup", dir=str(tmp_path / "backups"), stdout=io.StringIO())
    (path,) = (tmp_path / "backups").glob("wuye-backup-*.tar")
    return path


def test_a_backup_restored_into_a_fresh_database_gives_identical_books(tmp_path, media, books):
    before_receipts = receipts()
    before_sequences = dict(ReceiptSequence.objects.values_list("project__code", "last_no"))
    before_counts = table_counts()
    path = backup(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # A fresh database: every table emptied (as after migrate), the uploaded files gone.
    call_command("flush", interactive=False, verbosity=0)
    media.unlink()
    assert not Payment.objects.exists()

    out = io.StringIO()
    call_command("restore", str(path), stdout=out)
    assert "恢复完成" in out.getvalue()
    assert check_all() == []
    assert figures() == books
    assert receipts() == before_receipts
    assert dict(ReceiptSequence.objects.values_list("project__code", "last_no")) == before_sequences
    assert table_counts() == before_counts
    assert media.read_bytes() == b"\xff\xd8\xff\xe0 door notice photo " * 50
    # The books go on: the next receipt follows the restored sequence.
    acct = Payment.objects.filter(project__code="P001").first().account
    cashier = Payment.objects.first().cashier
    assert factories.pay(cashier, acct, "1.00").receipt_no == before_sequences["P001"] + 1


def test_the_planners_statistics_do_not_make_an_emptied_database_look_in_use(
    tmp_path, media, books
):
    """The demo and the nightly jobs end with ANALYZE; on SQLite its statistics rows outlive a flush
    and are not the books: an emptied database still takes a restore without --replace."""
    path = backup(tmp_path)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    call_command("flush", interactive=False, verbosity=0)
    assert database_is_empty()
    call_command("restore", str(path), stdout=io.StringIO())
    assert figures() == books


def test_the_manifest_has_row_counts_ledger_totals_receipt_sequences_and_checksums(
    tmp_path, media, books
):
    path = backup(tmp_path)
    manifest = backup_verify(path)
    assert manifest["tables"]["ledger_payment"] == Payment.objects.count()
    ledger = manifest["figures"]["wuye.ledger.backup.figures"]
    assert ledger == books
    assert (
        ledger["P001"]["receipt_last_no"]
        == ReceiptSequence.objects.get(project__code="P001").last_no
    )
    assert manifest["files"]["media/evidence/2026/notice-photo.jpg"]["sha256"] == (
        hashlib.sha256(media.read_bytes()).hexdigest()
    )
    checksum = path.with_name(path.name + ".sha256").read_text().split()[0]
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_refuses_a_backup_changed_after_it_was_made(tmp_path, media, books):
    path = backup(tmp_path)
    data = bytearray(path.read_bytes())
    data[2048] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="校验和与校验文件不符"):
        call_command("restore", str(path), "--replace")
    assert figures() == books  # nothing touched


def _rewrite(path, change):
    """A tar rebuilt with ``change(name, bytes) -> bytes`` applied, its checksum file recomputed: what a
    careful forger would do."""
    members = []
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            members.append((m.name, change(m.name, tar.extractfile(m).read())))
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")


def test_restore_refuses_a_changed_file_even_with_a_recomputed_checksum(tmp_path, media, books):
    path = backup(tmp_path)
    _rewrite(path, lambda name, data: data + b"x" if name.startswith("media/") else data)
    with pytest.raises(CommandError, match="与清单的校验和不符"):
        call_command("restore", str(path), "--replace")


def test_restore_refuses_a_file_slipped_into_the_backup(tmp_path, media, books):
    path = backup(tmp_path)
    with tarfile.open(path, "a") as tar:
        info = tarfile.TarInfo("media/../../evil.sh")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"rm "))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    with pytest.raises(CommandError, match="备份内容与清单不符"):
        call_command("restore", str(path), "--replace")


def test_with_a_backup_key_even_a_consistent_forgery_is_refused(
    tmp_path, media, books, monkeypatch
):
    monkeypatch.setenv("WUYE_BACKUP_KEY", "kept-in-the-safe")
    path = backup(tmp_path)

    def forge(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"]["media/evidence/2026/notice-photo.jpg"]["sha256"] = hashlib.sha256(
                b"forged"
            ).hexdigest()
            return json.dumps(manifest).encode()
        return b"forged" if name.startswith("media/") else data

    _rewrite(path, forge)
    with pytest.raises(CommandError, match="签名"):
        call_command("restore", str(path), "--replace")


def test_restore_into_a_database_with_data_needs_replace(tmp_path, media, books):
    path = backup(tmp_path)
    with pytest.raises(CommandError, match="--replace"):
        call_command("restore", str(path))
    call_command("restore", str(path), "--replace", stdout=io.StringIO())
    assert figures() == books


def test_restore_needs_the_checksum_file(tmp_path, media, books):
    path = backup(tmp_path)
    path.with_name(path.name + ".sha256").unlink()
    with pytest.raises(CommandError, match="找不到校验文件"):
        call_command("restore", str(path), "--verify-only")


def test_keep_prunes_old_backups(tmp_path, media, books):
    import datetime

    from wuye.core.backup import backup_create, backup_prune

    directory = tmp_path / "b"
    for day in range(1, 5):
        backup_create(
            directory=directory, now=datetime.datetime(2026, 12, day, 2, 30, tzinfo=datetime.UTC)
        )
    removed = backup_prune(directory=directory, keep=2)
    assert [p.name for p in removed] == [
        "wuye-backup-20261202-103000.tar",
        "wuye-backup-20261201-103000.tar",
    ]
    assert sorted(p.name for p in directory.iterdir()) == [
        "wuye-backup-20261203-103000.tar",
        "wuye-backup-20261203-103000.tar.sha256",
        "wuye-backup-20261204-103000.tar",
        "wuye-backup-20261204-103000.tar.sha256",
    ]
