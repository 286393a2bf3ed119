"""The append-only audit trail: every service write calls ``audit_record`` inside its transaction."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.db import models

from wuye.core.models import AuditEntry, Project, User


def _jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of ``obj`` (foreign keys as ids) for a before/after comparison."""
    result: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        result[field.name] = _jsonable(getattr(obj, field.attname))
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if before.get(key) != value and key not in {"updated_at"}
    }


def audit_record(
    *,
    user: User | None,
    action: str,
    obj: models.Model | None = None,
    project: Project | int | None = None,
    changes: dict[str, Any] | None = None,
    model: str = "",
) -> AuditEntry:
    entry = audit_entry(
        user=user, action=action, obj=obj, project=project, changes=changes, model=model
    )
    entry.save(force_insert=True)
    return entry


def audit_entry(
    *,
    user: User | None,
    action: str,
    obj: models.Model | None = None,
    project: Project | int | None = None,
    changes: dict[str, Any] | None = None,
    model: str = "",
) -> AuditEntry:
    """The entry ``audit_record`` writes, unsaved: a batch writes many with one ``bulk_create``."""
    user_obj = user if user is not None and getattr(user, "is_authenticated", False) else None
    project_id = project.pk if isinstance(project, Project) else project
    return AuditEntry(
        user=user_obj,
        project_id=project_id,
        action=action,
        model=model or (obj._meta.label if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=_jsonable(changes or {}),
    )
