"""python -m wuye bank_import --project P001 FILE [--account NUMBER] [--user USERNAME]

Imports a statement with the detected mapping (or the one confirmed last time for its account), matches
it, posts the automatic matches and prints one JSON object per statement line on standard output; a
summary goes to standard error. A second run with the same file posts nothing (its lines are
``duplicate``). Exit status 1 when the file cannot be read or has errors (nothing is written then).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wuye.banking import statement_imports
from wuye.banking.models import BankAccount
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User


class Command(BaseCommand):
    help = "导入银行流水：自动识别列、匹配住户、明确的款项直接入账，每笔流水输出一行 JSON。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="流水文件（.xlsx / .xls / .csv / MT940）")
        parser.add_argument("--project", required=True, help="项目编号")
        parser.add_argument("--account", help="收款账号（文件中已写明或本项目只有一个时可省略）")
        parser.add_argument(
            "--user", help="以哪位用户的身份入账（默认：系统用户 bank_import，本项目财务）"
        )

    def handle(self, *args, **options):
        project = Project.objects.filter(code=options["project"]).select_related("company").first()
        if project is None:
            raise CommandError(f"找不到项目：{options['project']}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"找不到用户：{options['user']}")
        else:
            user = statement_imports.import_user_for(project)
        started = time.perf_counter()
        try:
            account = None
            if options["account"]:
                number = statement_imports.clean_number(options["account"])
                account = BankAccount.objects.filter(project=project, number=number).first()
                if account is None:
                    account = statement_imports.bank_account_for(
                        user=user, project=project, number=number
                    )
            batch = statement_imports.statement_upload(
                user=user,
                project=project,
                filename=path.name,
                content=path.read_bytes(),
                account=account,
            )
            if batch.report.get("error_count"):
                for error in batch.report["errors"][:50]:
                    sys.stderr.write(f"错误：{error['text']}\n")
                raise CommandError(f"{path.name} 有 {batch.report['error_count']} 处错误，未导入")
            result = statement_imports.statement_commit(
                user=user,
                batch=batch,
                account=account,
                progress=lambda done, total: sys.stderr.write(f"  匹配入账 {done}/{total}\n"),
            )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        if result is None:
            errors = (batch.report or {}).get("errors") or []
            raise CommandError("导入失败：" + "；".join(e["text"] for e in errors[:5]))
        for outcome in result.outcomes:
            line = outcome.line
            self.stdout.write(
                json.dumps(
                    {
                        "serial": line.serial,
                        "date": line.txn_date.isoformat(),
                        "amount": str(line.amount),
                        "direction": line.direction,
                        "counterparty": line.counterparty_name,
                        "status": outcome.status,
                        "rooms": [room for room, _ in outcome.parts],
                        "amounts": {room: str(amount) for room, amount in outcome.parts},
                        "score": line.score,
                        "reasons": line.reasons,
                    },
                    ensure_ascii=False,
                )
            )
        s = result.statement
        sys.stderr.write(
            f"{path.name} → {s.bank_account}：流水 {s.line_count} 笔，新增 {s.new_count}，"
            f"重复 {result.count('duplicate')}，自动入账 {result.count('auto')}，"
            f"待认领 {result.count('review')}，不参与匹配 {result.count('ignored')}；"
            f"用时 {time.perf_counter() - started:.1f}s\n"
        )
