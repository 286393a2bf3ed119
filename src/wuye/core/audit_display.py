"""操作日志 in words: an audit entry's ``changes`` as "字段：旧 → 新" lines a person can read.

``changes`` holds either ``{field: [old, new]}`` (what changed) or ``{key: value}`` (what was done, e.g.
``{"paper": "a4", "is_reprint": false}``); both kinds may mix. Labels come from the model's own field
names (its ``verbose_name``) when the entry names a model, else from ``KEY_LABELS``; values with choices
show their label; yes/no, empty and dates read as people write them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

# Keys the services write that are not (or not named like) a model field.
KEY_LABELS = {
    "account": "缴费账户",
    "allocations": "核销明细",
    "amount": "金额",
    "annual_rate": "年利率",
    "approved_by": "批准人",
    "assignee": "经办人",
    "business_date": "营业日期",
    "case": "催缴案件",
    "channel": "联系方式",
    "class": "分类",
    "code": "编号",
    "contact": "联系记录",
    "contacts": "联系记录数",
    "count": "数量",
    "counts": "数量",
    "deadline": "期限",
    "effective_from": "生效日期",
    "end_date": "结束日期",
    "file": "文件",
    "files": "文件数",
    "is_reprint": "补打",
    "issue": "遗留问题",
    "kind": "类别",
    "message": "说明",
    "method": "方式",
    "name": "名称",
    "next_action_on": "下一步日期",
    "note": "备注",
    "number": "号码",
    "on_date": "日期",
    "paper": "纸张",
    "person": "客户",
    "phone": "电话",
    "reason": "原因",
    "receipt": "回执",
    "refund_id": "退款单号",
    "refusal_reason": "拒缴原因",
    "role": "角色",
    "room": "房屋",
    "sha256": "文件校验值",
    "stage": "阶段",
    "state": "状态",
    "status": "状态",
    "to": "发送号码",
    "username": "用户名",
    "valid_to": "有效期至",
    "validity": "号码状态",
}
# Keys that name a model field under another name.
FIELD_ALIASES = {"class": "case_class"}
EMPTY = "（空）"


@dataclass(frozen=True)
class ChangeLine:
    label: str
    old: str | None  # None: the key is a value, not a change
    new: str

    def __str__(self) -> str:
        if self.old is None:
            return f"{self.label}：{self.new}"
        return f"{self.label}：{self.old} → {self.new}"


def _model(label: str) -> type[models.Model] | None:
    if not label or "." not in label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(FIELD_ALIASES.get(key, key))
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _text(value: Any, field: models.Field | None = None) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if field is not None and field.choices:
        for choice, label in field.flatchoices:
            if str(choice) == str(value):
                return str(label)
    if isinstance(value, dict):
        return (
            "，".join(f"{KEY_LABELS.get(str(k), k)} {_text(v)}" for k, v in value.items()) or EMPTY
        )
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict | list) for v in value):
            return f"{len(value)} 项"
        return "、".join(_text(v) for v in value) or EMPTY
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _is_change(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and not any(isinstance(v, dict | list | tuple) for v in value)
    )


def change_lines(model_label: str, changes: Any) -> list[ChangeLine]:
    """The lines of one entry, in the order the service wrote them."""
    if not isinstance(changes, dict):
        return [ChangeLine("内容", None, _text(changes))] if changes else []
    model = _model(model_label)
    lines = []
    for key, value in changes.items():
        field = _field(model, str(key))
        label = str(field.verbose_name) if field is not None else KEY_LABELS.get(str(key), str(key))
        if _is_change(value):
            lines.append(ChangeLine(label, _text(value[0], field), _text(value[1], field)))
        else:
            lines.append(ChangeLine(label, None, _text(value, field)))
    return lines
