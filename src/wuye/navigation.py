"""The top menu: which pages each role reaches, in one table instead of template conditions.

Each entry names the URL and the roles that may open the page — the same role sets the views check,
so the menu never offers a page that would answer 403. Groups with one visible link show as a plain
link; larger groups fold into a menu.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse

from wuye.core import roles
from wuye.core.roles import AUDIT_ROLES, OWNER_INVOICE_LIST_ROLES, Role
from wuye.core.scope import role_in
from wuye.registry.views import home as project_overview

ANY = None  # every member of the project


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    roles: Collection[str] | None = ANY
    pinned: bool = False  # a page someone works in all day: always one click away


NAV: list[tuple[str, list[Entry]]] = [
    (
        "住户",
        [
            Entry("楼栋", "registry:buildings"),
            Entry("导入导出", "registry:import_upload"),
        ],
    ),
    (
        "收费",
        [
            Entry("收银台", "ledger:window", roles.COLLECTOR_ROLES, pinned=True),
            Entry("日结", "ledger:closing", roles.COLLECTOR_ROLES),
            Entry("银行流水", "banking:imports", roles.BANK_FINANCE_ROLES),
            Entry("待认领款", "banking:queue", roles.BANK_QUEUE_ROLES),
            Entry("银行代扣", "banking:withholding", roles.BANK_FINANCE_ROLES),
            Entry("线上缴费", "payments:orders", roles.COLLECTOR_ROLES),
            Entry("线上对账", "payments:reconciliation", roles.RECONCILE_ROLES),
            Entry("缴费通知单", "ledger:notices", roles.COLLECTOR_ROLES),
            Entry("业主开票申请", "owner:invoices", OWNER_INVOICE_LIST_ROLES),
            Entry("抄表", "billing:readings", roles.METER_READING_ROLES),
            Entry("计费", "billing:runs", roles.BILLING_RUN_ROLES),
            Entry("收费项目", "billing:fee_items", roles.BILLING_RUN_ROLES),
        ],
    ),
    (
        "催缴",
        [
            Entry("今日催缴", "dunning:today", roles.OWN_CASES_ONLY_ROLES, pinned=True),
            Entry("催缴案件", "dunning:cases", roles.CASE_OVERSEER_ROLES),
            Entry("短信发件箱", "messaging:outbox", roles.CASE_SUPERVISOR_ROLES),
            Entry("时效预警", "dunning:limitation", roles.CASE_OVERSEER_ROLES),
            Entry("预警", "alerts:warnings", roles.CASE_OVERSEER_ROLES),
            Entry("经验库", "alerts:stories", roles.CASE_WORKER_ROLES),
            Entry("客户分群", "credit:segments", roles.CASE_OVERSEER_ROLES),
            Entry("清欠任务单", "dunning:recovery", roles.CASE_OVERSEER_ROLES),
            Entry("催缴日报", "dunning:report", roles.CASE_OVERSEER_ROLES),
            Entry("优先级模型", "scoring:model", roles.CASE_SUPERVISOR_ROLES),
        ],
    ),
    (
        "报表",
        [
            Entry("经营看板", "reports:dashboard", roles.DASHBOARD_ROLES),
            Entry("收缴率", "reports:rates", roles.DASHBOARD_ROLES),
            Entry("账龄", "reports:aging", roles.DASHBOARD_ROLES),
            Entry("欠费大户", "reports:debtors", roles.DASHBOARD_ROLES),
            Entry("收费计划", "reports:plans", roles.REPORT_ROLES),
        ],
    ),
    ("日志", [Entry("操作日志", "audit_log", AUDIT_ROLES)]),
    ("系统", [Entry("系统任务", "ops:jobs", roles.OPS_ROLES)]),
]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def menu_for(role: str | None) -> list[tuple[str, list[Link]]]:
    """The groups and links ``role`` may open in the current project (empty without a role). Pinned
    pages come first, each as a group of its own."""
    if role is None:
        return []
    pinned: list[tuple[str, list[Link]]] = []
    groups: list[tuple[str, list[Link]]] = []
    for title, entries in NAV:
        links = []
        for entry in entries:
            if entry.roles is not ANY and role not in entry.roles:
                continue
            link = Link(entry.label, reverse(entry.url_name))
            if entry.pinned:
                pinned.append((entry.label, [link]))
            else:
                links.append(link)
        if links:
            groups.append((title, links))
    return pinned + groups


# The header's search box asks this page (as you type): the site's layout (base.html) sits below every
# app and names none of them.
SEARCH_URL_NAME = "registry:search"


def menu(request) -> dict:
    """Context processor: the top menu of the user's role in the current project (``nav_groups``)
    and the address of the header's search (``search_url``).

    Here, above every app, because the menu names pages of every app; ``core`` stays below them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    project = getattr(request, "project", None)
    return {
        "nav_groups": menu_for(role_in(user, project) if project else None),
        "search_url": reverse(SEARCH_URL_NAME),
    }


# Where a role starts its day (the site's root, and so the page after login): a steward works
# today's cases on a phone, not the project's statistics (issue 17 item 5). Others see the overview.
START_PAGES = {Role.STEWARD: "dunning:today", Role.OTHER_STAFF: "dunning:today"}


@login_required
def start(request):
    """The root page: the role's start page, else the current project's overview."""
    project = getattr(request, "project", None)
    target = START_PAGES.get(role_in(request.user, project)) if project else None
    if target:
        return redirect(target)
    return project_overview(request)
