"""Background work of banking: matching and posting a large statement after its lines are stored."""

from __future__ import annotations

from django_tasks import task

from wuye.banking import statement_imports
from wuye.banking.models import StatementImport
from wuye.core.models import User


@task(queue_name="long")
def statement_match_task(batch_id: int, user_id: int) -> dict:
    batch = StatementImport.objects.select_related("bank_account", "project").get(pk=batch_id)
    result = statement_imports.statement_match(user=User.objects.get(pk=user_id), batch=batch)
    return {"auto": result.count("auto"), "review": result.count("review")}
