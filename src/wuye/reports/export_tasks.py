"""Background exports of large reports (django-tasks; the ORM queue by default).

The task re-reads the filters exactly as the page would, with the rights of the user who asked (their
projects and role today), so a queued export can never see more than its page.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task(queue_name="long")
def report_export(job_id: str) -> dict:
    """Computes one queued export and writes its workbook; progress lives in the job file. Its reads
    go to the read replica when there is one (docs/operations/replica.md)."""
    from wuye.core.db_router import reads_from_replica

    with reads_from_replica():
        return _report_export(job_id)


def _report_export(job_id: str) -> dict:
    from wuye.core.models import User
    from wuye.reports import exporting, forms
    from wuye.reports.access import report_access

    job = exporting.job_read(job_id)
    if job is None:
        return {"job": job_id, "status": "missing"}
    exporting.job_update(job_id, status="running", done=0)
    try:
        user = User.objects.get(pk=job["user_id"], is_active=True)
        access = report_access(user)
        form_class = forms.DebtorsForm if job["kind"] == "debtors" else forms.HouseholdsForm
        if job["kind"] not in ("debtors", "households"):
            form_class = forms.RatesForm
        form = form_class(job["params"], projects=access.projects, today=timezone.localdate())
        if not form.is_valid():
            raise ValueError(forms.first_error(form))
        sheet = exporting.build_sheet(job["kind"], user, access, form.cleaned_data)
        if sheet.row_count is not None:  # the estimate was an upper bound: show the real count
            exporting.job_update(job_id, total=sheet.row_count)
        content = exporting.workbook_bytes(
            sheet, progress=lambda done: exporting.job_update(job_id, done=done)
        )
        exporting.job_save_file(job_id, content)
    except Exception as exc:
        # Recorded on the job so the page can say what went wrong instead of spinning forever.
        exporting.job_update(job_id, status="failed", error=str(exc) or exc.__class__.__name__)
        raise
    job = exporting.job_update(
        job_id, status="done", filename=exporting.filename(sheet), done=sheet.row_count or 0
    )
    return {"job": job_id, "status": "done", "rows": job["done"]}
