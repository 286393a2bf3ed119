"""Default wording of the courtesy messages, written for this system: polite, no threat, nothing a
neighbour could read about the debt (LAW.md §2), and the placeholders of ``messaging.rendering``.

A segment's strategy may name a ``messaging.MessageTemplate`` row instead (credit.Segment
``reminder_template`` / ``thank_template``); it is checked and rendered by the same code.
"""

from __future__ import annotations

from wuye.alerts import CourtesyKind

TEMPLATES: dict[str, tuple[str, str]] = {
    CourtesyKind.PRE_DUE: (
        "预交提醒",
        "【{项目名称}】{户名}您好，您的房屋{房号}本期物业服务费{欠费金额}元将于{期限}到期，"
        "可{缴费方式}。如已缴纳或已预存，请忽略本短信。感谢您的支持！咨询：{联系电话}",
    ),
    CourtesyKind.THANKS: (
        "感谢缴费",
        "【{项目名称}】{户名}您好，已收到您房屋{房号}的物业服务费，感谢您一直以来的理解和支持！"
        "如需发票或对服务有任何意见，欢迎联系：{联系电话}",
    ),
}
