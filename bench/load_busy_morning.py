#!/usr/bin/env python
"""A busy morning under load (issue 14 item 5, docs/operations/load-test.md): locust, as a library,
against gunicorn on PostgreSQL with the demo data, on 127.0.0.1 only, bounded in users and time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_load \\
      .venv/bin/python bench/load_busy_morning.py [--rooms 500] [--users 20] [--seconds 60] [--keep]

The full run of the issue: ``--rooms 100000 --users 570 --seconds 600``.

It makes its own database (dropped and created again: its name must contain "bench"), runs ``migrate``
and ``demo_data --rooms N`` (with ``--months`` of history: above 10,000 rooms the demo makes none by
itself), starts the local fake payment platforms (``payments_fake``) and gunicorn (``--workers``, 4
threads each) with a trivial view added at ``/bench/ping`` as the yardstick, then runs, in proportion
50 : 200 : 20 : 300 (as in the issue):

* cashiers (收银台): open a room at the fee window and take a 1.00 cash payment on its oldest bill;
* stewards (今日催缴): open today's list and record a contact (无人接听) on the next case of their
  login's queue — every case once before any case twice, so the contacts spread over all the cases;
  a refusal the law or the company's rules give (call caps, 误催, contact hours, written contact only)
  is counted apart from errors;
* managers: the dashboard (经营看板) and the 收缴率 / 账龄 reports;
* owners (业主自助缴费): open their household's signed link (each owner a household of its own), pay
  everything owed with WeChat Pay on the fake platform (which posts the signed callback to wuye), and
  look at the order;
* the yardstick: one user asking ``GET /bench/ping`` (Django, no database) twice a second, whatever
  ``--users`` is; before the run the same view alone, 400 requests 8 at a time, gives the server's
  rate for nothing.

It prints requests/s, p50/p95/p99, lawful refusals and errors per kind of request, the time the server
itself took per kind (gunicorn's access log), the ratios to the trivial view, the load average before,
during and after, and then checks that nothing was lost or doubled: ``check_ledger`` passes, every
payment the window confirmed is in the ledger exactly once, receipt numbers have no gaps in any
project, every contact the steward page confirmed is recorded exactly once, and every order the fake
platform took is posted exactly once (a lost callback is posted by the order sweep, as the scheduler
would). Exit status 1 when a target is missed (p95 < 500 ms for the window and today's list, < 2 s for
the dashboard, 0 errors, 0 ledger problems).
"""

from __future__ import annotations

import gevent.monkey  # noqa: I001 — locust patches the standard library first

gevent.monkey.patch_all()

import argparse  # noqa: E402
import collections  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import _benchdb  # noqa: E402
import gevent  # noqa: E402
import gevent.pool  # noqa: E402
from locust import HttpUser, between, constant_throughput, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGETS_MS = {"window room": 500.0, "window pay": 500.0, "today's list": 500.0, "dashboard": 2000.0}
PASSWORD = "wuye-demo-2026"  # noqa: S105 — the demo logins' documented password (demo.company)

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"  # a phone browser outside WeChat: H5 pay
# A contact the law or the company's rules refuse (dunning.contacts), by the words of its message:
# the system doing its job, counted apart from errors.
LAWFUL_REFUSALS = (
    ("上限", "call cap (《民法典》第一千零三十三条)"),
    ("误催", "误催: nothing overdue any more"),
    ("不在可联系时段", "outside the contact hours"),
    ("书面方式", "written contact only"),
    ("银行扣款结果回来之前", "bank withholding in flight"),
)
# Where a path's server time goes in the printout (gunicorn's access log), first match wins.
KINDS = (
    (r"^/bench/ping$", "trivial view"),
    (r"^/ledger/window/rooms/\d+/pay/$", "window pay"),
    (r"^/ledger/window/rooms/\d+/$", "window room"),
    (r"^/dunning/today/$", "today's list"),
    (r"^/dunning/cases/\d+/contact/$", "record contact"),
    (r"^/reports/$", "dashboard"),
    (r"^/reports/rates/$", "rates report"),
    (r"^/reports/aging/$", "aging report"),
    (r"^/o/[^/]+/$", "owner page"),
    (r"^/o/[^/]+/pay/$", "owner pay"),
    (r"^/o/[^/]+/orders/[^/]+/$", "owner order"),
    (r"^/payments/notify/", "payment callback"),
    (r"^/login/$", "login"),
)

# How long people take between two steps, in seconds (drawn evenly between the two figures), by
# pacing (``--pace``). "work" (the default) is people at work on a busy morning; "stress" is the
# earlier user model, 1–3 s between any two steps of anyone, kept to push the server to saturation.
PACES: dict[str, dict[str, tuple[float, float]]] = {
    "work": {
        "cashier_ask": (
            10,
            25,
        ),  # room open at the window → pay: asks what to pay, counts the money
        "cashier_next": (15, 35),  # receipt printed and handed over, the next in line steps up
        "steward_call": (60, 240),  # today's list open → outcome recorded: the call, 1–4 minutes
        "steward_next": (10, 30),  # notes, then back to the list for the next case
        "manager": (60, 120),  # the dashboard (or a report) again every minute or two
        "owner_read": (10, 30),  # reads what is owed on the page before paying
        "owner_confirm": (5, 15),  # WeChat Pay's page: checks the amount, password or fingerprint
        "owner_look": (3, 8),  # the result on the platform, then back to the order
        "owner_next": (5, 15),  # the next owner opens the link of the payment notice
    },
    "stress": {
        "cashier_ask": (0, 0),
        "cashier_next": (1, 3),
        "steward_call": (1, 3),  # between the steps of the 3 : 1 list/contact mix (see Steward)
        "steward_next": (1, 3),
        "manager": (1, 3),
        "owner_read": (1, 3),
        "owner_confirm": (1, 3),
        "owner_look": (1, 2),
        "owner_next": (1, 3),
    },
}
PACE_TEXT = {
    "work": "people at work — a cashier serves a household in 25–60 s (10–25 s to ask and count,"
    " 15–35 s to the next in line), a steward opens today's list, calls for 1–4 min and records the"
    " outcome (10–30 s to the next case), a manager looks at the dashboard or a report every 1–2 min,"
    " an owner reads the page 10–30 s before paying, 5–15 s on WeChat Pay's page, 3–8 s on the"
    " result, then the next owner 5–15 s later",
    "stress": "stress — 1–3 s between any two steps of anyone (stewards' list and contact 3 : 1 at"
    " random), the user model of the first runs: far more than people do, it saturates the server",
}
PACE: dict[str, tuple[float, float]] = dict(PACES["work"])


def pause(step: str) -> None:
    low, high = PACE[step]
    if high > 0:
        gevent.sleep(random.uniform(low, high))  # noqa: S311


def set_pace(name: str) -> None:
    """The pacing of every user class (``PACES``), before the run."""
    PACE.clear()
    PACE.update(PACES[name])
    Cashier.wait_time = between(*PACE["cashier_next"])
    Steward.wait_time = between(*PACE["steward_next"])
    Manager.wait_time = between(*PACE["manager"])
    Owner.wait_time = between(*PACE["owner_next"])
    Steward.stress = name == "stress"


# Filled before the run (from the database) and during it (what the server confirmed).
WORK: dict = {"bills": [], "cases": {}, "owners": [], "paid": [], "fake": ""}
CONFIRMED: dict[str, list] = {"payments": [], "contacts": [], "orders": []}
REFUSED: collections.Counter = collections.Counter()


class CaseQueue:
    """A steward login's open cases, each handed out once before any is handed out again; a case's
    n-th contact of the run is dated n days before yesterday (recorded afterwards, 补登), so no one
    is called twice on one day by this test."""

    def __init__(self, cases: list[int]):
        self.cases = cases
        self.next = 0

    def take(self) -> tuple[int, int] | None:
        if not self.cases:
            return None
        n, self.next = self.next, self.next + 1
        return self.cases[n % len(self.cases)], n // len(self.cases)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rooms", type=int, default=500, help="demo size (default 500; full: 100000)")
    p.add_argument(
        "--months",
        type=int,
        default=None,
        help="months of bills and payments in the demo (default: the demo's 36; 6 above 10,000 rooms,"
        " where the demo makes none by itself)",
    )
    p.add_argument(
        "--users",
        type=int,
        default=20,
        help="simulated users at once, cashiers : stewards : managers : owners = 50 : 200 : 20 : 300"
        " (default 20; the issue's 570 gives exactly that), plus the one yardstick user",
    )
    p.add_argument("--seconds", type=int, default=60, help="length of the run (default 60)")
    p.add_argument(
        "--pace",
        choices=sorted(PACES),
        default="work",
        help="time between a user's steps: 'work' (default) as people at work (a cashier serves a"
        " household in 25–60 s, a steward calls 1–4 min between list and outcome, a manager looks"
        " every 1–2 min, an owner reads 10–30 s before paying); 'stress': 1–3 s between any two"
        " steps of anyone, the first runs' model, which saturates the server",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    p.add_argument("--port", type=int, default=8077)
    p.add_argument("--fake-port", type=int, default=8078, help="the fake payment platforms' port")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument(
        "--no-bank-demo",
        action="store_true",
        help="make the demo without its bank statements and withholding month",
    )
    p.add_argument(
        "--reuse", action="store_true", help="use the database a --keep run left (no new demo)"
    )
    return p.parse_args()


# --- the users -----------------------------------------------------------------------------------


class Staff(HttpUser):
    abstract = True
    username = ""
    wait_time = between(1, 3)
    logged_in = 0

    def on_start(self) -> None:
        self.client.get("/login/", name="login page")
        self.client.post(
            "/login/",
            {"username": self.username, "password": PASSWORD},
            headers=self._csrf(),
            name="login post",
        )
        Staff.logged_in += 1

    def _csrf(self) -> dict:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}


class Cashier(Staff):
    weight = 50
    username = "cashier"

    @task
    def take_a_payment(self) -> None:
        if not WORK["bills"]:
            return
        # Round the households: a bill paid 1.00 still owes, the next cashier may take 1.00 again.
        WORK["next_bill"] = (WORK.get("next_bill", -1) + 1) % len(WORK["bills"])
        room_id, account_id, bill_id = WORK["bills"][WORK["next_bill"]]
        self.client.get(f"/ledger/window/rooms/{room_id}/", name="window room")
        pause("cashier_ask")
        key = f"load-{uuid.uuid4().hex}"
        with self.client.post(
            f"/ledger/window/rooms/{room_id}/pay/",
            {
                "account": account_id,
                "bill": [bill_id],
                "method": ["cash"],
                "amount": ["1.00"],
                "reference": [""],
                "idempotency_key": key,
                "business_date": time.strftime("%Y-%m-%d"),
            },
            headers=self._csrf(),
            allow_redirects=False,
            name="window pay",
            catch_response=True,
        ) as response:
            if response.status_code == 302 and "/login/" not in response.headers.get(
                "Location", ""
            ):
                CONFIRMED["payments"].append(key)  # taken: the window moves on to the receipt
                response.success()
            elif response.status_code == 200 and "confirm_surplus" in response.text:
                response.success()  # the bill owed less than 1.00: the window asks first
            else:
                response.failure(f"{response.status_code}: {_said(response.text)}")


class Steward(Staff):
    weight = 200
    username = "steward1"
    started = 0
    stress = False  # set_pace: the 3 : 1 list/contact mix at random instead of list, call, outcome

    def on_start(self) -> None:
        logins = sorted(WORK["cases"]) or ["steward1"]
        Steward.started += 1  # the logins in turn: each gets its share of the 200
        self.username = logins[Steward.started % len(logins)]
        super().on_start()

    @task
    def work_a_case(self) -> None:
        if self.stress and random.random() < 0.75:  # noqa: S311 — 3 : 1 as the first runs
            self.open_todays_list()
        elif self.stress:
            self.record_a_contact()
        else:  # the list, a call of 1–4 minutes, its outcome
            self.open_todays_list()
            pause("steward_call")
            self.record_a_contact()

    def open_todays_list(self) -> None:
        self.client.get("/dunning/today/", name="today's list")

    def record_a_contact(self) -> None:
        queue = WORK["cases"].get(self.username)
        taken = queue.take() if queue else None
        if taken is None:
            return
        case_id, days_back = taken
        marker = f"load-{uuid.uuid4().hex}"
        # recorded afterwards (补登) at 10:00 of yesterday (or earlier, see CaseQueue): the contact
        # hours (《民法典》第一千零三十三条) refuse a call "now" when the run happens at night
        at = time.localtime(time.time() - 86400 * (1 + days_back))
        with self.client.post(
            f"/dunning/cases/{case_id}/contact/",
            {
                "outcome": "no_answer",
                "channel": "phone",
                "owner_said": marker,
                "at": time.strftime("%Y-%m-%dT10:00", at),
                "from": "today",
            },
            headers={**self._csrf(), "HX-Request": "true"},  # as the phone page sends it
            allow_redirects=False,
            name="record contact",
            catch_response=True,
        ) as response:
            text = response.text or ""
            refused = "refusal-box" in text or "errorlist" in text
            if response.status_code in (200, 302) and not refused:
                CONFIRMED["contacts"].append(marker)
                response.success()
                return
            said = _refusal(text) or _said(text)
            rule = next((why for words, why in LAWFUL_REFUSALS if words in said), None)
            if response.status_code == 200 and rule:
                REFUSED[("record contact", rule)] += 1  # the law said no: not an error
                response.success()
            else:
                response.failure(f"{response.status_code}: {said}")


class Manager(Staff):
    weight = 20
    username = "manager"

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/reports/", name="dashboard")

    @task(1)
    def rates(self) -> None:
        self.client.get("/reports/rates/", name="rates report")

    @task(1)
    def aging(self) -> None:
        self.client.get("/reports/aging/", name="aging report")


class Owner(HttpUser):
    """An owner with the payment notice's link: opens the page, pays everything owed with WeChat Pay
    (the fake platform's pay page, whose confirm posts the signed callback to wuye), looks at the
    order. Each task is another household (``WORK["owners"]``)."""

    weight = 300
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.headers["User-Agent"] = PHONE_UA  # a phone: WeChat Pay's H5 page

    @task
    def pay_online(self) -> None:
        if not WORK["owners"]:
            # Every household of the run has paid: owners come back to look at their receipt.
            if WORK["paid"]:
                token = random.choice(WORK["paid"])  # noqa: S311
                self.client.get(f"/o/{token}/", name="owner page (paid, again)")
            return
        token = WORK["owners"].pop()
        page = f"/o/{token}/"
        if self.client.get(page, name="owner page").status_code != 200:
            return
        pause("owner_read")
        with self.client.post(
            f"{page}pay/",
            {"channel": "wechat"},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            allow_redirects=False,
            name="owner pay",
            catch_response=True,
        ) as response:
            where = response.headers.get("Location", "")
            if response.status_code != 302 or "/orders/" not in where:
                response.failure(
                    f"{response.status_code}: no order ({where or _said(response.text)})"
                )
                return
            response.success()
        order_no = where.rstrip("/").rsplit("/", 1)[1]
        self.client.get(where, name="owner order")
        pause("owner_confirm")
        with self.client.post(
            f"{WORK['fake']}/pay/wechat/{order_no}",
            {"return": ""},
            name="platform pay (fake, with callback)",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and "支付成功" in response.text:
                CONFIRMED["orders"].append(order_no)
                WORK["paid"].append(token)
                response.success()
            else:
                response.failure(f"{response.status_code}: {_said(response.text)}")
                return
        pause("owner_look")
        self.client.get(where, name="owner order")


class Yardstick(HttpUser):
    """One user, twice a second, whatever the number of users: the same small amount of work in
    every run, so its latency is the server's queueing and nothing else."""

    fixed_count = 1
    wait_time = constant_throughput(2)

    @task
    def ping(self) -> None:
        self.client.get("/bench/ping", name="trivial view")


def _refusal(text: str) -> str:
    """The message of a refused contact (dunning/_refusal.html), without tags."""
    found = re.search(r'class="refusal-message">(.*?)</p>', text or "", re.S)
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()[:300] if found else ""


def _said(text: str) -> str:
    found = re.search(r'class="[^"]*(?:error|refus)[^"]*"[^>]*>(.{1,400}?)</', text or "", re.S)
    raw = found.group(1) if found else (text or "")[:160]
    return re.sub(r"<[^>]+>|\s+", " ", raw).strip()[:200]


# --- set-up, run, checks -------------------------------------------------------------------------


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 — our own interpreter and command
        [PYTHON, "-m", "wuye", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0 and args[0] == "demo_data" and "[" in done.stdout:
        # A late step of the demo failed after the rooms, bills, payments and cases were made:
        # say so and go on (the load test needs those, not the last step).
        print(f"WARNING: demo_data stopped early: {done.stderr.strip().splitlines()[-1][:200]}")
    elif done.returncode != 0 and args[0] != "check_ledger":
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr + f"\n(exit {done.returncode})"


def load_work() -> None:
    """The open bills the cashiers pay (one each, oldest first per room), each steward's cases (in
    a random order) and the owners' households (signed links; none with an open case, none of the
    cashiers', each paid by one owner)."""
    from wuye.billing.models import Account, Bill
    from wuye.dunning.models import ArrearsCase
    from wuye.owner import links

    rng = random.Random(14)
    cases: dict[str, list[int]] = {}
    in_case = set()
    for case in ArrearsCase.objects.filter(closed_on__isnull=True).values(
        "id", "account_id", "room__building__steward__username"
    ):
        in_case.add(case["account_id"])
        name = case["room__building__steward__username"]
        if name:
            cases.setdefault(name, []).append(case["id"])
    for name, ids in cases.items():
        rng.shuffle(ids)
        WORK["cases"][name] = CaseQueue(ids)
    first_bill = {}
    bills = (
        Bill.objects.filter(allocations__isnull=True, account__room__isnull=False)
        .order_by("account_id", "period_start")
        .values_list("account_id", "account__room_id", "id")
    )
    for account_id, room_id, bill_id in list(
        bills
    ):  # nothing paid on it yet (no server-side cursor: its plan took minutes at 100,000 rooms)
        first_bill.setdefault(account_id, (room_id, account_id, bill_id))
    free = [a for a in first_bill if a not in in_case]
    rng.shuffle(free)
    owners = set(free[: max(len(free) // 2, 0)][:40_000])
    WORK["bills"] = [b for a, b in first_bill.items() if a not in owners]
    rng.shuffle(WORK["bills"])
    accounts = Account.objects.filter(pk__in=owners).select_related("project")
    WORK["owners"] = [links.token_for(link) for link in links.links_for(accounts).values()]
    rng.shuffle(WORK["owners"])
    sizes = sorted(len(q.cases) for q in WORK["cases"].values()) or [0]
    print(
        f"work: {len(WORK['bills'])} bills for the window, {len(WORK['cases'])} steward logins with"
        f" {sum(sizes)} open cases (per login min {sizes[0]}, median {sizes[len(sizes) // 2]},"
        f" max {sizes[-1]}), {len(WORK['owners'])} owners' households"
    )


def settle_lost_callbacks() -> dict:
    """What the scheduler's order sweep does every five minutes: the stored callbacks not yet
    posted are posted, then an open order the platform says is paid (its callback was lost) is."""
    import datetime

    from django.utils import timezone

    from wuye.payments.notices import notices_post
    from wuye.payments.services import orders_sweep

    later = timezone.now() + datetime.timedelta(minutes=2)  # every order of the run is "old"
    totals: collections.Counter = collections.Counter(
        {f"notices {k}": v for k, v in notices_post().items()}
    )
    while True:
        counts = orders_sweep(now=later)
        totals.update(counts)
        if counts["checked"] < 500:
            return dict(totals)


def check_after(env: dict, started: float) -> list[str]:
    from django.db import connection
    from django.db.models import Count

    from wuye.dunning.models import ContactRecord
    from wuye.ledger.models import Payment
    from wuye.payments.models import PaymentOrder

    connection.close()
    problems = []
    paid_before = PaymentOrder.objects.filter(out_trade_no__in=CONFIRMED["orders"], status="paid")
    by_callback = paid_before.count()
    sweep = settle_lost_callbacks()  # before the checks: the scheduler would have done it
    out = manage(env, "check_ledger")
    if not out.rstrip().endswith("(exit 0)"):
        problems.append("check_ledger: " + out.strip().splitlines()[-2][:200])
    keys = CONFIRMED["payments"]
    found = Payment.objects.filter(idempotency_key__in=keys).count()
    if found != len(keys):
        problems.append(f"payments confirmed {len(keys)}, in the ledger {found}")
    for project_id in Payment.objects.order_by().values_list("project_id", flat=True).distinct():
        numbers = list(
            Payment.objects.filter(project_id=project_id).values_list("receipt_no", flat=True)
        )
        if numbers and max(numbers) - min(numbers) + 1 != len(set(numbers)):
            problems.append(f"receipt numbers of project {project_id} have gaps or repeats")
    markers = CONFIRMED["contacts"]
    recorded = ContactRecord.objects.filter(owner_said__in=markers).count()
    if recorded != len(markers):
        problems.append(f"contacts confirmed {len(markers)}, recorded {recorded}")
    spread = ContactRecord.objects.filter(owner_said__in=markers).values("case_id")
    cases_touched = spread.distinct().count()
    most = spread.annotate(n=Count("id")).order_by("-n").values_list("n", flat=True).first() or 0
    orders = PaymentOrder.objects.filter(out_trade_no__in=CONFIRMED["orders"])
    posted = orders.filter(status="paid", payment__isnull=False).count()
    if posted != len(CONFIRMED["orders"]):
        problems.append(f"orders paid on the platform {len(CONFIRMED['orders'])}, posted {posted}")
    keys = [f"wechat-{t}" for t in orders.values_list("transaction_id", flat=True)]
    doubled = (
        Payment.objects.filter(idempotency_key__in=keys)
        .values("idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    wrong = orders.filter(payment__isnull=False).select_related("payment")
    wrong = [o for o in wrong if o.payment.amount != (o.paid_amount or o.amount)]
    if doubled or wrong:
        problems.append(f"orders posted twice {doubled}, posted with another amount {len(wrong)}")
    print(
        f"checks: check_ledger, {len(CONFIRMED['payments'])} window payments, receipt numbers,"
        f" {len(markers)} contacts on {cases_touched} cases (at most {most} on one),"
        f" {len(CONFIRMED['orders'])} online orders ({by_callback} posted by their callback,"
        f" then the order sweep: {sweep}) ({time.monotonic() - started:.0f} s after the run)"
    )
    return problems


def start_fake(env: dict, port: int) -> subprocess.Popen:
    """The fake WeChat Pay / Alipay on 127.0.0.1 (keys written to the config file gunicorn reads)."""
    config = Path(env["WUYE_PAYMENTS_FAKE_CONFIG"])
    config.unlink(missing_ok=True)
    log = open(config.with_name("fake.log"), "w")  # noqa: SIM115 — the process keeps it
    fake = subprocess.Popen(  # noqa: S603
        [PYTHON, "-m", "wuye", "payments_fake", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,  # a payer who left mid-answer: BrokenPipe tracebacks
    )
    for _ in range(100):
        if config.exists():
            return fake
        time.sleep(0.2)
    fake.terminate()
    sys.exit("the fake payment platform did not start")


def serve(env: dict, args, access_log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603
        [
            PYTHON,
            "-m",
            "gunicorn",
            "load_busy_morning_wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
            "--keep-alive",
            "300",  # longer than any pause of a user (a steward's call: 4 min), so no idle
            # connection is closed under a request the client sends on it (it reuses them)
        ],  # fmt: skip
        env=env,
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/bench/ping", timeout=2)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer on /bench/ping")


def trivial_alone(port: int, requests: int = 400, together: int = 8) -> float:
    """Requests/s of the trivial view alone (a fixed amount of work: ``requests``, ``together`` at a
    time), before the run: what the server does for nothing."""

    def one(_):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/ping", timeout=10).read()  # noqa: S310

    started = time.monotonic()
    gevent.pool.Pool(together).map(one, range(requests))
    return requests / (time.monotonic() - started)


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Milliseconds gunicorn spent on each request (from taking it to answering: no queueing
    before a thread is free), by kind."""
    patterns = [(re.compile(p), name) for p, name in KINDS]
    times: dict[str, list[float]] = collections.defaultdict(list)
    for row in access_log.read_text(errors="replace").splitlines():
        parts = row.split()
        if len(parts) != 3 or not parts[2].isdigit():
            continue
        name = next((n for p, n in patterns if p.match(parts[0])), "other")
        times[name].append(int(parts[2]) / 1000)
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def print_stats(stats, seconds: float, alone_rps: float, served: dict) -> list[str]:
    missed = []
    refused = collections.Counter()
    for (name, _), n in REFUSED.items():
        refused[name] += n
    print(
        f"{'request':<36}{'count':>7}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'refused':>8}{'errors':>7}{'server p50/p95 ms':>19}"
    )
    rows = sorted(stats.entries.values(), key=lambda e: e.name)
    ping = next((e for e in rows if e.name == "trivial view"), None)
    for e in rows:
        p50, p95, p99 = (e.get_response_time_percentile(q) for q in (0.5, 0.95, 0.99))
        own = served.get(e.name, [])
        server = f"{_pct(own, 0.5):.0f}/{_pct(own, 0.95):.0f}" if own else "—"
        print(
            f"{e.name:<36}{e.num_requests:>7}{e.num_requests / seconds:>7.1f}"
            f"{p50:>8.0f}{p95:>8.0f}{p99:>8.0f}{refused[e.name]:>8}{e.num_failures:>7}{server:>19}"
        )
        target = TARGETS_MS.get(e.name)
        if target is not None and p95 >= target:
            missed.append(f"{e.name}: p95 {p95:.0f} ms ≥ {target:.0f} ms")
    if served.get("payment callback"):
        own = served["payment callback"]
        print(
            f"{'(payment callback, fake → wuye)':<36}{len(own):>7}{len(own) / seconds:>7.1f}"
            f"{'':>40}{_pct(own, 0.5):>9.0f}/{_pct(own, 0.95):.0f}"
        )
    total = stats.total
    print(
        f"{'all':<36}{total.num_requests:>7}{total.num_requests / seconds:>7.1f}"
        f"{total.get_response_time_percentile(0.5):>8.0f}"
        f"{total.get_response_time_percentile(0.95):>8.0f}"
        f"{total.get_response_time_percentile(0.99):>8.0f}{sum(refused.values()):>8}"
        f"{total.num_failures:>7}"
    )
    for (name, why), n in sorted(REFUSED.items()):
        print(f"  refused (lawful) ×{n} {name}: {why}")
    for err in list(stats.errors.values())[:10]:
        print(f"  error ×{err.occurrences} {err.name}: {str(err.error)[:200]}")
    if ping is not None and ping.num_requests:
        base = ping.get_response_time_percentile(0.5) or 1
        ratios = ", ".join(
            f"{e.name} {e.get_response_time_percentile(0.5) / base:.0f}×"
            for e in rows
            if e.num_requests and e.name != "trivial view"
        )
        print(
            f"trivial view: alone before the run {alone_rps:.0f} req/s; during the run p50 "
            f"{ping.get_response_time_percentile(0.5):.0f} ms, p95 "
            f"{ping.get_response_time_percentile(0.95):.0f} ms (its queueing under this load)"
        )
        print(
            f"the mix reached {total.num_requests / seconds:.1f} req/s = "
            f"{100 * total.num_requests / seconds / alone_rps:.1f} % of the trivial view's rate alone;"
            f" p50 as a multiple of the trivial view's p50 in the run: {ratios}"
        )
    if total.num_failures:
        missed.append(f"{total.num_failures} errors")
    return missed


def main() -> int:
    args = parse_args()
    set_pace(args.pace)
    if _benchdb.postgres_url() is None:
        sys.exit(
            "DATABASE_URL=postgres://…/wuye_bench_load is needed (PostgreSQL, a name with 'bench')"
        )
    var = Path(tempfile.mkdtemp(prefix="wuye-load-"))
    fake_url = f"http://127.0.0.1:{args.fake_port}"
    # Before Django starts (settings read them): the fake platform and where its callbacks go.
    os.environ.update(
        {
            "WUYE_PAYMENTS_FAKE_URL": fake_url,
            "WUYE_PAYMENTS_FAKE_CONFIG": str(var / "payments_fake.json"),
            "WUYE_PAYMENT_NOTIFY_BASE_URL": f"http://127.0.0.1:{args.port}",
            "WUYE_SITE_URL": f"http://127.0.0.1:{args.port}",
        }
    )
    bench = _benchdb.setup(
        "load", keep=args.keep, tasks=None, reuse=args.reuse, temporary_dir=False
    )
    url, name = bench.pg_url, bench.pg_name
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT / "src")]),
        "WUYE_PAYMENTS_FAKE": "0",
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
    }
    WORK["fake"] = fake_url
    months = args.months if args.months is not None else (6 if args.rooms > 10_000 else None)
    demo = ["demo_data", "--rooms", str(args.rooms)]
    if months is not None:
        demo += ["--months", str(months)]
    server = fake = worker = None
    try:
        t = time.monotonic()
        # A kept database is brought to the code's schema too (nothing to do when it is current).
        manage(env, "migrate", "--noinput", "-v0")
        if not args.reuse:
            if args.no_bank_demo:  # the demo command with its bank step left out
                code = (
                    "import django; django.setup();"
                    "from wuye.demo import generator;"
                    "generator._Generator.bank_money = lambda *a, **k: None;"
                    "from django.core.management import call_command;"
                    f"call_command('demo_data', rooms={args.rooms}, months={months!r})"
                )
                subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, check=True)  # noqa: S603
            else:
                manage(env, *demo)
        print(f"database {name}: demo with {args.rooms} rooms in {time.monotonic() - t:.0f} s")
        load_work()
        fake = start_fake(env, args.fake_port)
        access_log = var / "access.log"
        server = serve(env, args, access_log)
        # As scripts/run: one task worker beside the web server posts the stored payment callbacks
        # (the quick queue), the thank-yous and the credit refreshes while the run goes on.
        worker = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "wuye", "db_worker", "--queue-name", "*"],
            env=env,
            cwd=ROOT,
            stdout=(var / "worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        print(
            f"gunicorn on 127.0.0.1:{args.port}, {args.workers} workers × 4 threads; one task"
            f" worker (db_worker, every queue); fake payment platforms on {fake_url}"
        )
        alone = trivial_alone(args.port)
        print(f"pacing {args.pace}: {PACE_TEXT[args.pace]}")
        print("load before:", os.popen("uptime").read().strip())  # noqa: S605, S607
        environment = Environment(
            user_classes=[Cashier, Steward, Manager, Owner, Yardstick],
            host=f"http://127.0.0.1:{args.port}",
        )
        runner = environment.create_local_runner()
        # Staff arrive over a minute or so (ten a second) and log in; the measured period starts
        # when everyone has logged in (the login storm is printed apart).
        ramp = time.monotonic()
        runner.start(args.users + 1, spawn_rate=10)  # + the yardstick

        def staff() -> int:
            counts = runner.user_classes_count
            return sum(counts.get(c.__name__, 0) for c in (Cashier, Steward, Manager))

        while time.monotonic() - ramp < 300 and (
            runner.user_count < args.users + 1 or Staff.logged_in < staff()
        ):
            gevent.sleep(1)
        _print_ramp(environment.stats, time.monotonic() - ramp, runner)
        environment.stats.reset_all()
        access_log.write_text("")  # the measured period's requests only
        start = time.monotonic()
        loads: list[float] = []

        def sample_load() -> None:
            while True:
                loads.append(os.getloadavg()[0])
                gevent.sleep(15)

        sampler = gevent.spawn(sample_load)
        gevent.spawn_later(args.seconds, runner.quit)
        runner.greenlet.join()
        sampler.kill()
        elapsed = time.monotonic() - start
        print("load after: ", os.popen("uptime").read().strip())  # noqa: S605, S607
        if loads:
            print(
                f"load average (1 min) during the run: min {min(loads):.2f}, mean"
                f" {statistics.mean(loads):.2f}, max {max(loads):.2f} ({os.cpu_count()} CPUs)"
            )
        print(
            f"{args.users} users (+1 yardstick) for {elapsed:.0f} s, {args.rooms} rooms,"
            f" pacing {args.pace}"
        )
        missed = print_stats(environment.stats, elapsed, alone, server_times(access_log))
        server.terminate()  # it finishes the requests it holds (gunicorn's graceful 30 s) …
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:  # … or is stopped: the checks need it gone
            server.kill()
            server.wait(10)
        server = None
        worker.terminate()  # the checks post what it had not yet (settle_lost_callbacks)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:  # a long task still running: its transaction rolls back
            worker.kill()
            worker.wait(10)
        worker = None
        problems = check_after(env, time.monotonic())
        for p in problems:
            print("PROBLEM:", p)
        for m in missed:
            print("TARGET MISSED:", m)
        return 1 if problems or missed else 0
    finally:
        for process in (server, worker, fake):
            if process is not None:
                process.terminate()
        bench.finish()


def _print_ramp(stats, seconds: float, runner) -> None:
    counts = getattr(runner, "user_classes_count", {}) or {}
    print("users:", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), flush=True)
    login = stats.entries.get(("login post", "POST"))
    if login is not None and login.num_requests:
        print(
            f"ramp-up: {Staff.logged_in} staff logged in within {seconds:.0f} s (login post p50"
            f" {login.get_response_time_percentile(0.5):.0f} ms, p95"
            f" {login.get_response_time_percentile(0.95):.0f} ms, {login.num_failures} errors);"
            " the figures below are of the run after it",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
