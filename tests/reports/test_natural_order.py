"""Buildings in the rates and aging reports, on the page's rows and in their exports, come in natural
order: 1栋 < 2栋 < 10栋 (not 1栋, 10栋, 2栋 as text sorts them)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.reports.builders import D, account, bill, fee_item, month, scope
from wuye.reports import exporting, selectors

pytestmark = pytest.mark.django_db

AS_OF = D(2025, 6, 30)


@pytest.fixture
def three_buildings(project):
    item = fee_item(project)
    for code in ("10-1-101", "2-1-101", "1-1-101"):  # created out of order on purpose
        bill(account(project, code), item, "100.00", D(2025, 1, 1))
    return project


def _order(labels):
    """The buildings' numbers in the order the labels come ('锦绣花园 10栋' → 10)."""
    numbers = []
    for label in labels:
        digits = "".join(ch for ch in str(label).split()[-1] if ch.isdigit())
        if digits:
            numbers.append(int(digits))
    return numbers


def test_rates_by_building_list_1_2_10(three_buildings):
    rows = selectors.collection_rates(
        scope(three_buildings), month(2025, 1), AS_OF, "building", live=True
    )
    assert _order(r.label for r in rows) == [1, 2, 10]


def test_aging_by_building_lists_1_2_10(three_buildings):
    rows = selectors.aging(scope(three_buildings), AS_OF, "building", live=True)
    assert _order(r.label for r in rows) == [1, 2, 10]


@pytest.mark.parametrize("page", ["reports:rates", "reports:aging"])
def test_the_exports_list_buildings_1_2_10(
    client, manager, three_buildings, settings, tmp_path, page
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(manager)
    response = client.get(
        reverse(page),
        {"as_of": "2025-06-30", "window": "year", "group": "building", "format": "xlsx"},
    )
    assert response["Content-Type"] == exporting.XLSX
    content = b"".join(response.streaming_content) if response.streaming else response.content
    ws = load_workbook(io.BytesIO(content)).active
    firsts = [row[0] for row in ws.iter_rows(values_only=True) if row and row[0]]
    assert _order(f for f in firsts if "栋" in str(f)) == [1, 2, 10]
