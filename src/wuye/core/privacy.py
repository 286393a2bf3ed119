"""Lists that name debtors (欠费大户, the households behind a figure): they are for internal use only.

Posting names and amounts publicly is refused by the project (《个人信息保护法》第二十五条: personal
information is not made public without the person's separate consent). Every page, print and workbook
that lists named debtors carries ``NAMED_LIST_MARK`` and writes an audit entry (``named_list_audit``).
"""

from __future__ import annotations

from typing import Any

from wuye.core.audit import audit_record
from wuye.core.models import User

NAMED_LIST_MARK = "内部资料，请勿公开张贴（《个人信息保护法》第二十五条）"


def named_list_audit(
    *,
    user: User,
    what: str,
    how: str,
    rows: int | None,
    params: dict[str, Any],
    project: int | None = None,
) -> None:
    """Records who viewed, printed or exported a list of named debtors, how many and with what filters.

    ``how``: ``页面`` (viewed; a print is made from the page), ``Excel`` or ``Excel（后台）``.
    """
    audit_record(
        user=user,
        action=f"欠费名单：{what}（{how}）",
        project=project,
        model="named_list",
        changes={
            "list": what,
            "how": how,
            "rows": rows,
            "params": {k: v for k, v in params.items() if k not in ("csrfmiddlewaretoken",)},
        },
    )
