"""``python -m wuye dunning_run`` and the background task."""

import pytest
from django.core.management import call_command

from tests.dunning import factories
from wuye.dunning.models import ArrearsCase, DunningRun
from wuye.dunning.tasks import dunning_run_all, dunning_run_project

pytestmark = pytest.mark.django_db


def test_the_command_previews_without_writing_and_reports_progress(project, debtor, capsys):
    call_command("dunning_run", "--project", project.code, "--preview")

    out = capsys.readouterr().out
    assert "预览" in out
    assert "新立案 1" in out
    assert not ArrearsCase.objects.exists()


def test_the_command_runs_for_a_date(project, debtor, today, capsys):
    call_command("dunning_run", "--project", project.code, "--date", today.isoformat())

    assert ArrearsCase.objects.count() == 1
    run = DunningRun.objects.get()
    assert (run.run_on, run.opened, run.status) == (today, 1, "done")


def test_the_task_runs_every_active_project(project, debtor):
    dunning_run_all.enqueue()

    assert factories.case_of(debtor) is not None


def test_the_project_task_returns_its_figures(project, debtor):
    result = dunning_run_project.enqueue(project.pk)

    assert result.return_value["opened"] == 1
