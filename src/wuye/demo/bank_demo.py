"""The demo's bank money: two months of the project's receiving-account statements imported and matched
(most lines posted by themselves, the rest left in 待认领款), and a withholding month end to end —
authorisations with scanned agreements, this month's batch for one bank answered by its return file with
a few failures (余额不足, 账户冻结, 户名不符, 账户已销户) that land on the households' arrears cases, and
another bank's batch still with the bank (its households show "银行代扣处理中" on today's list).

Everything goes through the banking services, as finance would do it on the pages.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wuye.banking import (
    statement_imports,
    statements,
    withholding_authorizations,
    withholding_batches,
    withholding_returns,
)
from wuye.banking.models import WithholdingLine
from wuye.billing.models import Account
from wuye.core import xlsx
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.demo.bank_statements import ACCOUNT_NUMBER, statement_xlsx
from wuye.dunning.enums import CaseClass, CaseState
from wuye.dunning.models import ArrearsCase
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import PaymentLine

LINES_PER_MONTH = 120
MAIN_BANK, OTHER_BANK = "工商银行", "建设银行"
FAILURES = ("余额不足", "账户冻结", "户名不符", "账户已销户", "余额不足")
# A one-page PDF standing in for the scanned agreement (授权书扫描件).
AGREEMENT = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class BankDemo:
    def __init__(
        self,
        *,
        users: dict[str, User],
        seed: int,
        log: Callable[[str], None],
        count: Callable[[str, int], None],
    ):
        self.finance = users["finance"]
        self.rng = random.Random(seed + 11)
        self.log = log
        self.count = count

    def run(self, project: Project) -> None:
        self.statements(project)
        self.withholding(project)

    # --- statements --------------------------------------------------------------------------------

    def statements(self, project: Project) -> None:
        today = timezone.localdate()
        yesterday = today - datetime.timedelta(days=1)
        this_month = today.replace(day=1)
        last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
        if yesterday < this_month:  # the 1st: the two months before this one
            months = [
                ((last_month - datetime.timedelta(days=1)).replace(day=1), None),
                (last_month, None),
            ]
        else:
            months = [(last_month, None), (this_month, yesterday)]
        account = statement_imports.bank_account_for(
            user=self.finance,
            project=project,
            number=ACCOUNT_NUMBER,
            name=f"{project.name}物业服务中心",
            bank="中国工商银行深圳分行",
        )
        # 120 lines a month for the demo's 2,000 rooms, fewer for a small demo (tests), so that the
        # bank does not pay off most of a small demo's debtors.
        households = Account.objects.filter(project=project).count()
        lines = min(LINES_PER_MONTH, max(6, households // 12))
        for month, last_day in months:
            content = statement_xlsx(
                project, month, lines, seed=self.rng.randrange(10**6), last_day=last_day
            )
            parsed = statements.parse_statement(content)
            result = statement_imports.statement_import(
                user=self.finance,
                account=account,
                filename=f"工行流水{month:%Y%m}.xlsx",
                lines=parsed.lines,
            )
            auto, review = result.count("auto"), result.count("review")
            self.count("银行流水", len(parsed.lines))
            self.count("自动入账", auto)
            self.log(
                f"{project.name}：{month:%Y-%m} 银行流水 {len(parsed.lines)} 笔，"
                f"自动入账 {auto} 笔，待认领 {review} 笔"
            )

    # --- withholding -------------------------------------------------------------------------------

    def withholding(self, project: Project) -> None:
        today = timezone.localdate()
        rng = self.rng
        paying = list(
            PaymentLine.objects.filter(
                method=PaymentMethod.WITHHOLDING, payment__account__project=project
            )
            .values_list("payment__account_id", flat=True)
            .distinct()[:40]
        )
        open_cases = list(
            ArrearsCase.objects.filter(project=project, state=CaseState.OPEN)
            .exclude(case_class=CaseClass.C)  # nobody reaches them to sign an authorisation
            .order_by("-overdue_amount")
            .values_list("account_id", flat=True)[:200]
        )
        # A fifth of the open cases at most: the rest keep the demo's every class and stage.
        debtors = rng.sample(open_cases, min(len(open_cases) // 5, 24))
        chosen = list(dict.fromkeys([*paying, *debtors]))
        accounts = Account.objects.select_related("room", "payer").in_bulk(chosen)
        added = 0
        for n, account_id in enumerate(chosen):
            account = accounts[account_id]
            bank = OTHER_BANK if n % 6 == 5 else MAIN_BANK
            prefix = "6222" if bank == MAIN_BANK else "6217"
            try:
                withholding_authorizations.authorization_add(
                    user=self.finance,
                    account=account,
                    bank=bank,
                    account_number=f"{prefix}{rng.randrange(10**14, 10**15)}",
                    holder=account.payer.name,
                    signed_on=today - datetime.timedelta(days=rng.randrange(30, 900)),
                    agreement=SimpleUploadedFile("代扣授权书.pdf", AGREEMENT)
                    if rng.random() < 0.8
                    else None,
                )
            except ValidationFailed:
                continue
            added += 1
        self.count("代扣授权", added)
        batches = []
        for bank in (MAIN_BANK, OTHER_BANK):
            try:
                batches.append(
                    withholding_batches.batch_create(
                        user=self.finance, project=project, bank=bank, month=today
                    )
                )
            except ValidationFailed as exc:
                self.log(f"{project.name}：{bank} 未生成代扣批次（{exc.message}）")
        if not batches:
            return
        main = batches[0]
        debtor_set = set(debtors)
        lines = list(main.lines.select_related("authorization").order_by("seq"))
        # A few failures, on households with an open case first (the steward sees the reason).
        failing = [x for x in lines if x.account_id in debtor_set]
        others = [x for x in lines if x.account_id not in debtor_set]
        rng.shuffle(failing)
        rng.shuffle(others)
        wanted = min(len(FAILURES), max(1, len(lines) // 5)) if len(lines) > 1 else 0
        reasons = {x.pk: FAILURES[i] for i, x in enumerate((failing + others)[:wanted])}
        content = return_file(main, lines, reasons, today)
        ret = withholding_returns.return_upload(
            user=self.finance,
            project=project,
            filename=f"{main.bank}回盘{main.number}.xlsx",
            content=content,
        )
        ret = withholding_returns.return_commit(user=self.finance, ret=ret)
        self.log(
            f"{project.name}：代扣授权 {added} 户；{main.bank} 代扣批次 {main.number} "
            f"{main.line_count} 笔 {main.total_amount} 元，回盘成功 {ret.success_count} 笔、"
            f"失败 {ret.failure_count} 笔"
            + (
                f"；{batches[1].bank} 批次 {batches[1].number} {batches[1].line_count} 笔银行处理中"
                if len(batches) > 1
                else ""
            )
        )
        self.count("代扣批次", len(batches))


def return_file(batch, lines: list[WithholdingLine], reasons: dict[int, str], day) -> bytes:
    """The bank's return file (回盘) as a bank's system writes it: a title, the batch's control row,
    its own column names, one row per line."""
    book = xlsx.workbook()
    sheet = book.create_sheet("回盘明细")
    sheet.append([f"{batch.bank} 批量代扣回盘文件"])
    sheet.append([f"批次号：{batch.number}", None, f"总笔数：{batch.line_count}"])
    sheet.append([])
    sheet.append(
        ["客户参考号", "付款账号", "账户名称", "交易金额", "交易状态", "返回信息", "清算日期"]
    )
    for line in lines:
        reason = reasons.get(line.pk)
        number = line.authorization.account_number
        sheet.append(
            [
                line.reference,
                number,
                line.authorization.holder,
                f"{line.amount:.2f}",
                "失败" if reason else "成功",
                reason or "交易成功",
                f"{day:%Y%m%d}",
            ]
        )
    return xlsx.save(book)
