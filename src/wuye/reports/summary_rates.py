# ruff: noqa: S608 — SQL here is assembled from table/column names and %(name)s placeholders only;
# every value is passed as a query parameter.
"""Collection rates and their trend from the summary tables (``BillFact``, ``StewardFact``, ``AccountSpan``,
the open bills and late entries for the household figures); ``None`` when the summaries cannot answer."""

from __future__ import annotations

import datetime
from typing import Any

from wuye.billing.calc import add_months, month_end
from wuye.reports import sql as shared
from wuye.reports.models import (
    SummaryState,
)
from wuye.reports.sql import (
    T_BILL,
    T_BUILDING,
    T_ROOM,
    ReportScope,
    Window,
    _Params,
    scope_sql,
)
from wuye.reports.summary_households import _households
from wuye.reports.summary_read import (
    _add,
    _by_steward,
    _fact_group,
    _facts_from,
    _group_join,
    _month_first,
    _scope,
)
from wuye.reports.summary_refresh import catch_up
from wuye.reports.summary_rollups import _rollup, month_end_sql, owing_rows, span_bills
from wuye.reports.summary_tables import (
    BILLED_STATE,
    MONTHS_STATE,
    SOURCES,
    SPELL_STATE,
    T_IRREG,
    T_IRREG_BILLED,
    T_LATE,
    T_MONTHS,
    T_OPEN,
    T_RANGES,
    T_SPAN,
    T_SPELL,
    _cents,
    _fetch,
    _month,
    _pg,
    summarised,
)

# Groups a building belongs to exactly one of: their sums add up from the building's.
ROLL_UP = ("company", "project", "building", "steward")


def rates(
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    group_by: str,
    *,
    households: bool = True,
) -> dict[Any, dict[str, Any]] | None:
    """The sums behind RateRows (in fen, as ``selectors._rates_live``), from the summaries.

    ``households=False`` leaves the household counts out (n and clear stay 0)."""
    many = rates_many(scope, window, as_of, {group_by: households})
    return None if many is None else many[group_by]


def rates_many(
    scope: ReportScope, window: Window, as_of: datetime.date, wanted: dict[str, bool]
) -> dict[str, dict[Any, dict[str, Any]]] | None:
    """``rates`` for several groups at once (``wanted``: group → with households). Groups of
    ROLL_UP share ONE pass over the facts, added up here per group: over StewardFact grouped by
    project and steward when no building is asked about, else over BillFact grouped by building (a
    building has one project and one steward). Households are counted per group (accounts do not add
    up)."""
    states = catch_up()
    if states is None:
        return None
    rolled = [g for g in wanted if g in ROLL_UP]
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    if len(rolled) > 1:
        if "building" not in rolled and _by_steward(scope, "steward"):
            passed = _fact_sums(scope, window, as_of, "pair", by_steward=True)

            def owner(key, group_by):
                project, steward = key
                return {"company": 0, "project": project, "steward": steward}[group_by]
        else:
            passed = _fact_sums(scope, window, as_of, "building", by_steward=False)
            owners = _building_owners(scope)

            def owner(key, group_by):
                return owners[key][group_by]

        for group_by in rolled:
            target: dict[Any, dict[str, Any]] = {}
            for key, sums in passed.items():
                _add(target, owner(key, group_by), sums)
            _corrections(target, states, scope, window, as_of, group_by)
            out[group_by] = target
    for group_by in wanted:
        if group_by not in out:
            out[group_by] = _money_sums(states, scope, window, as_of, group_by)
    for group_by, households in wanted.items():
        if households:
            _households(out[group_by], states, scope, window, as_of, group_by)
    return {g: out[g] for g in wanted}


def _building_owners(scope: ReportScope) -> dict[int, dict[str, Any]]:
    """Per building of the scope's projects its key in each ROLL_UP group (as GROUP_EXPR gives it)."""
    p = _Params()
    sql = (
        f"SELECT id, project_id, COALESCE(steward_id, 0) FROM {T_BUILDING}"
        f" WHERE project_id IN {p.in_list(scope.project_ids or (0,))}"
    )
    return {
        b: {"company": 0, "project": project, "building": b, "steward": steward}
        for b, project, steward in _fetch(sql, p.values)
    }


def _money_sums(
    states: dict[str, SummaryState],
    scope: ReportScope,
    window: Window,
    as_of: datetime.date,
    group_by: str,
) -> dict[Any, dict[str, Any]]:
    """The money sums of ``rates`` per group (no household counts)."""
    out = _fact_sums(scope, window, as_of, group_by, by_steward=_by_steward(scope, group_by))
    _corrections(out, states, scope, window, as_of, group_by)
    return out


def _corrections(out, states, scope, window, as_of, group_by) -> None:
    _partial_months(out, states, scope, window, as_of, group_by)
    _irregular_opening(out, states, scope, window, group_by)


def _fact_sums(
    scope: ReportScope, window: Window, as_of: datetime.date, group_by: str, *, by_steward: bool
) -> dict[Any, dict[str, Any]]:
    """The sums of the fact rows of ``rates`` per group, before the live corrections. ``group_by``
    "pair" (StewardFact only) keys them by (project, steward)."""
    a_day, ws, we = as_of, window.start, window.end
    o_day = ws - datetime.timedelta(days=1)
    r_day = min(we, a_day)
    with_recovery = r_day >= ws
    p = _Params()
    pa, po, pr = (
        p.add(_month_first(x), n) for x, n in ((a_day, "mA"), (o_day, "mO"), (r_day, "mR"))
    )
    pws, pwe = p.add(ws, "ws"), p.add(we, "we")
    cur = f"(f.period_start >= {pws} AND f.period_start <= {pwe})"
    old = f"f.due_date < {pws}"
    adj_a = f"CASE WHEN f.event_month <= {pa} THEN f.adjusted_fen ELSE 0 END"
    rec_a = f"CASE WHEN f.event_month <= {pa} THEN f.received_fen ELSE 0 END"
    adj_o = f"CASE WHEN f.event_month <= {po} THEN f.adjusted_fen ELSE 0 END"
    rec_o = f"CASE WHEN f.event_month <= {po} THEN f.received_fen ELSE 0 END"
    rec_r = f"CASE WHEN f.event_month <= {pr} THEN f.received_fen ELSE 0 END"
    recovered = f"{rec_r} - ({rec_o})" if with_recovery else "0"
    if group_by == "pair":
        keys, group = "f.project_id, f.steward_id", "f.project_id, f.steward_id"
    else:
        keys = _fact_group(group_by, by_steward)
        # By building: grouped in the order of the facts' unique key (project, building, …) the
        # rows come off that index already in groups, without sorting them first (half the time on
        # SQLite). A building has one project, and rows of one key would add up below anyway.
        group = "f.project_id, f.building_id" if group_by == "building" else "1"
    source, where = _facts_from(scope, "company" if group_by == "pair" else group_by, p, by_steward)
    sql = f"""
      SELECT {keys},
        SUM(CASE WHEN f.kind = 'charge' AND {cur} THEN f.billed_fen - {adj_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {cur} THEN {rec_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {old}
                 THEN f.billed_fen - ({adj_o}) - ({rec_o}) ELSE 0 END),
        SUM(CASE WHEN f.kind = 'charge' AND {old} THEN {recovered} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'late_fee' AND {cur} THEN f.billed_fen - {adj_a} ELSE 0 END),
        SUM(CASE WHEN f.kind = 'late_fee' AND {cur} THEN {rec_a} ELSE 0 END)
      FROM {source}
      WHERE {where} AND ({cur} OR {old})
      GROUP BY {group}
    """
    width = 2 if group_by == "pair" else 1
    out: dict[Any, dict[str, Any]] = {}
    for row in _fetch(sql, p.values):
        g = tuple(row[:width]) if width == 2 else row[0]
        cb, cr, oa, rec, lb, lr = row[width:]
        _add(out, g, {"cb": cb, "cr": cr, "oa": oa, "rec": rec, "lb": lb, "lr": lr})
    return out


def _day(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def trend(
    scope: ReportScope, months: int, as_of: datetime.date, *, households: bool = True
) -> list[tuple[datetime.date, dict[str, Any]]] | None:
    """``rate_trend``'s company sums for each month, in few statements: one pass over BillFact by
    (kind, period month, due month, entry month) — every month's window starts on the 1st and its
    report date is the month's end (or ``as_of``), so month keys are exact — then the irregular-bill
    and partial-month corrections, and (unless ``households=False``) the households of all months
    in two statements."""
    states = catch_up()
    if states is None:
        return None
    firsts = [add_months(as_of, -back) for back in range(months - 1, -1, -1)]
    p = _Params()
    source, where = _facts_from(scope, "company", p, _by_steward(scope, "company"))
    # Grouped by the dates themselves, their months taken here: as many groups (bills fall due on
    # few days), and PostgreSQL's date_trunc on every fact row was most of the statement (at
    # 1,000,000 rooms 67–89 ms of 126,394 StewardFact rows, 24 ms without).
    sql = f"""
      SELECT f.kind, f.period_start, f.due_date, f.event_month,
        SUM(f.billed_fen), SUM(f.adjusted_fen), SUM(f.received_fen)
      FROM {source}
      WHERE {where}
      GROUP BY 1, 2, 3, 4
    """
    cells = [
        (
            kind,
            _day(pm).replace(day=1),
            _day(dm).replace(day=1),
            _day(em),
            int(b or 0),
            int(a or 0),
            int(r or 0),
        )
        for kind, pm, dm, em, b, a, r in _fetch(sql, p.values)
    ]
    opening_fix = _trend_irregular_opening(scope, firsts)
    out: list[tuple[datetime.date, dict[str, Any]]] = []
    for first in firsts:
        prev = add_months(first, -1)
        sums = {"cb": 0, "cr": 0, "oa": 0, "rec": 0, "lb": 0, "lr": 0}
        # A Python pass over a few thousand month cells (not over bills).
        for kind, pm, dm, em, billed, adjusted, received in cells:
            if pm == first:
                to_date = em <= first
                net = billed - (adjusted if to_date else 0)
                got = received if to_date else 0
                if kind == "charge":
                    sums["cb"] += net
                    sums["cr"] += got
                else:
                    sums["lb"] += net
                    sums["lr"] += got
            if kind == "charge" and dm < first:
                before = em <= prev
                sums["oa"] += billed - (adjusted + received if before else 0)
                sums["rec"] += (received if em <= first else 0) - (received if before else 0)
        window = Window(first, month_end(first))
        report_day = min(window.end, as_of)
        by_group = {0: sums}
        _partial_months(by_group, states, scope, window, report_day, "company")
        if opening_fix.get(first):
            _add(by_group, 0, {"oa": opening_fix[first]})
        out.append((first, by_group[0]))
    if households:
        _trend_households(out, states, scope, as_of)
    return out


def _months_cte(p: _Params, columns: tuple[str, ...], rows: list[tuple[datetime.date, ...]]) -> str:
    """``months (columns…) AS (VALUES …)``: one row of dates per month, as parameters."""
    values = ", ".join("(" + ", ".join(p.add(d) for d in row) + ")" for row in rows)
    names = ", ".join(columns)
    if not _pg():
        return f"months ({names}) AS (VALUES {values})"
    # VALUES of parameters: PostgreSQL wants the types.
    aliases = [f"v{i}" for i in range(len(columns))]
    casts = ", ".join(f"CAST(v.{a} AS date)" for a in aliases)
    return f"months ({names}) AS (SELECT {casts} FROM (VALUES {values}) v ({', '.join(aliases)}))"


def _trend_irregular_opening(scope: ReportScope, firsts: list[datetime.date]) -> dict:
    """``_irregular_opening`` of every month of the trend in one statement (the company group):
    month's first day → the negative parts of its irregular bills' outstanding on the day before."""
    p = _Params()
    months = _months_cte(p, ("mf", "md"), [(f, f - datetime.timedelta(days=1)) for f in firsts])
    if _rollup(SPELL_STATE) is not None:
        sql = f"""
          WITH {months}
          SELECT m.mf, SUM(s.owed_fen)
          FROM {T_SPELL} s CROSS JOIN months m CROSS JOIN {T_BILL} b
            JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
          WHERE {_on_day("s", "m.md")} AND b.id = s.bill_id AND b.due_date < m.mf
            AND b.kind = 'charge' AND {scope_sql(scope, p)}
          GROUP BY m.mf
        """
        return {_day(mf): int(fix or 0) for mf, fix in _fetch(sql, p.values)}
    sql = f"""
      WITH {months},
      ib AS (
        SELECT b.id AS bill_id, b.due_date FROM {T_IRREG} i JOIN {T_BILL} b ON b.id = i.bill_id
          JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
        WHERE b.kind = 'charge' AND {scope_sql(scope, p)}
      )
      SELECT mf, SUM(CASE WHEN o < 0 THEN -o ELSE 0 END) FROM (
        SELECT mf, bill_id, SUM(o) AS o FROM (
          SELECT m.mf, ib.bill_id, ob.outstanding_fen AS o
          FROM months m JOIN ib ON ib.due_date < m.mf JOIN {T_OPEN} ob ON ob.bill_id = ib.bill_id
          UNION ALL
          SELECT m.mf, ib.bill_id, le.amount_fen
          FROM months m JOIN ib ON ib.due_date < m.mf
            JOIN {T_LATE} le ON le.bill_id = ib.bill_id AND le.effective_date > m.md
        ) u GROUP BY mf, bill_id
      ) x GROUP BY mf
    """
    return {_day(mf): int(fix or 0) for mf, fix in _fetch(sql, p.values)}


def _trend_households(out, states, scope: ReportScope, as_of: datetime.date) -> None:
    p = _Params()
    months_cte = _months_cte(
        p,
        ("mf", "me", "ma"),
        [(f, month_end(f), min(month_end(f), as_of)) for f, _ in out],
    )
    other = (
        f"EXISTS (SELECT 1 FROM {span_bills()} AND b.period_start >= m.mf"
        f" AND b.period_start <= m.me AND {summarised('b', states['bill'], p)})"
    )
    if scope.fee_item_ids is None and _rollup(BILLED_STATE) is not None:
        # Regular accounts from BilledRange (one row per range), the others from their spans.
        histogram_sql = f"""
          SELECT f.first_period, f.last_period, SUM(f.accounts) FROM {T_RANGES} f
            {_group_join("company", scope)}
          WHERE {_scope(scope, p)}
          GROUP BY 1, 2
        """
        spans = f"{T_SPAN} f JOIN {T_IRREG_BILLED} i ON i.account_id = f.account_id"
        odd_where = "1 = 1"
    else:
        # Accounts with one monthly span (nearly all) are counted from a histogram of (first, last)
        # periods; the others — several fee items, or not monthly — one by one.
        # An anti/outer join, not NOT IN (…): PostgreSQL re-reads a NOT IN list too big for work_mem
        # once per row (55 s at 1,000,000 accounts).
        multi = (
            f" LEFT JOIN (SELECT account_id FROM {T_SPAN} GROUP BY account_id HAVING COUNT(*) > 1)"
            f" mu ON mu.account_id = f.account_id"
        )
        histogram_sql = f"""
          SELECT f.first_period, f.last_period, COUNT(*) FROM {T_SPAN} f{multi}
            {_group_join("company", scope)}
          WHERE f.monthly AND {_scope(scope, p)} AND mu.account_id IS NULL
          GROUP BY 1, 2
        """
        spans = f"{T_SPAN} f{multi}"
        odd_where = "(NOT f.monthly OR mu.account_id IS NOT NULL)"
    histogram = [(_day(a), _day(b), int(n)) for a, b, n in _fetch(histogram_sql, p.values)]
    # The few other spans first, then their months (not every span times every month).
    sql = f"""
      WITH {months_cte},
      odd AS MATERIALIZED (
        SELECT f.account_id, f.fee_item_id, f.building_id, f.first_period, f.last_period,
          f.monthly
        FROM {spans}{_group_join("company", scope)}
        WHERE {_scope(scope, p)} AND {odd_where}
      )
      SELECT m.mf, COUNT(DISTINCT f.account_id)
      FROM odd f JOIN months m ON f.first_period <= m.me AND f.last_period >= m.mf
      WHERE f.monthly OR {other}
      GROUP BY m.mf
    """
    billed = {_day(k): int(n) for k, n in _fetch(sql, p.values)}
    for first, _ in out:  # a pass over the histogram's cells (at most months², not accounts)
        end = month_end(first)
        billed[first] = billed.get(first, 0) + sum(
            n for a, b, n in histogram if a <= end and b >= first
        )
    behind = _trend_behind_from_months(scope, [f for f, _ in out], as_of)
    live_months = [f for f, _ in out if f not in behind]
    if live_months:
        behind.update(_trend_behind_live(scope, live_months, as_of))
    for first, sums in out:
        n = billed.get(first, 0)
        sums["n"], sums["clear"] = n, n - behind.get(first, 0)


def _trend_behind_from_months(
    scope: ReportScope, firsts: list[datetime.date], as_of: datetime.date
) -> dict[datetime.date, int]:
    """Accounts behind at each month's end (the months whose report day is their end), from
    MonthOwing: its per-building counts add up while no account owes in two buildings in a month.
    Nothing (the open bills answer) for a fee-item scope or while it is not built."""
    state = _rollup(MONTHS_STATE)
    if state is None or state.shared_accounts or scope.fee_item_ids is not None:
        return {}
    ends = [f for f in firsts if month_end(f) <= as_of]
    if not ends:
        return {}
    p = _Params()
    sql = f"""
      SELECT f.month, SUM(f.accounts) FROM {T_MONTHS} f{_group_join("company", scope)}
      WHERE {_scope(scope, p)} AND f.month IN {p.in_list(ends)}
      GROUP BY f.month
    """
    counts = {_day(m): int(n) for m, n in _fetch(sql, p.values)}
    return {f: counts.get(f, 0) for f in ends}


def _trend_behind_live(
    scope: ReportScope, firsts: list[datetime.date], as_of: datetime.date
) -> dict[datetime.date, int]:
    """Accounts behind in each of these months (consecutive) on its report day, from the open bills
    and late entries: one statement for all of them."""
    p = _Params()
    projects = p.in_list(scope.project_ids or (0,))
    # Each row's month and report day from its own period (no join: one index range scan).
    last_first = p.add(firsts[-1], "t_last")
    from_, to = p.add(firsts[0], "t_from"), p.add(month_end(firsts[-1]), "t_to")
    mf = _month("x.period_start")
    last_day = p.add(min(as_of, month_end(firsts[-1])), "t_asof")
    if len(firsts) == 1:
        # One month (the current one, beside MonthOwing): its report day is a constant, so the
        # open bills are an index range of (period, due date) — not every bill of the month.
        ma = last_day
    else:
        ma = f"(CASE WHEN {mf} = {last_first} THEN {last_day} ELSE {month_end_sql('x.period_start')} END)"
    where = f"x.period_start >= {from_} AND x.period_start <= {to} AND x.project_id IN {projects}"
    sql = f"""
      SELECT f.mf, COUNT(DISTINCT f.account_id) FROM ({owing_rows(where, ma)}) f
        {_group_join("company", scope)}
      WHERE {_scope(scope, p)}
      GROUP BY f.mf
    """
    return {_day(k): int(n) for k, n in _fetch(sql, p.values)}


def _partial_months(out, states, scope, window, as_of, group_by) -> None:
    """Entries dated after a report date but inside its month are in that month's facts: take them
    back out (live, over the effective-date index; nothing to do for dates at a month's end)."""
    a_day, ws, we = as_of, window.start, window.end
    o_day = ws - datetime.timedelta(days=1)
    r_day = min(we, a_day)
    p = _Params()
    ranges, names = [], {}
    for name, x in (("A", a_day), ("O", o_day), ("R", r_day if r_day >= ws else None)):
        if x is None or x == month_end(x):
            continue
        lo, hi = p.add(x, f"x{name}"), p.add(month_end(x), f"e{name}")
        names[name] = f"(e.eff > {lo} AND e.eff <= {hi})"
        ranges.append(names[name])
    if not ranges:
        return
    pws, pwe = p.add(ws, "ws"), p.add(we, "we")
    events = " UNION ALL ".join(
        f"SELECT '{tag}' AS src, e.bill_id, e.effective_date AS eff, {_cents('e.amount')} AS amt"
        f" FROM {SOURCES[source]} e WHERE {summarised('e', states[source], p)}"
        f" AND ({' OR '.join(r.replace('e.eff', 'e.effective_date') for r in ranges)})"
        for tag, source in (("a", "adjustment"), ("r", "allocation"))
    )

    def in_range(name: str) -> str:
        return names.get(name, "1 = 0")

    cur = f"(b.period_start >= {pws} AND b.period_start <= {pwe})"
    old = f"b.due_date < {pws}"
    sql = f"""
      SELECT {shared.GROUP_EXPR[group_by]} AS g,
        SUM(CASE WHEN e.src = 'a' AND b.kind = 'charge' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN b.kind = 'charge' AND {old} AND {in_range("O")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {old} AND {in_range("O")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'charge' AND {old} AND {in_range("R")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'a' AND b.kind = 'late_fee' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END),
        SUM(CASE WHEN e.src = 'r' AND b.kind = 'late_fee' AND {cur} AND {in_range("A")} THEN e.amt ELSE 0 END)
      FROM ({events}) e JOIN {T_BILL} b ON b.id = e.bill_id JOIN {T_ROOM} r ON r.id = b.room_id
        JOIN {T_BUILDING} bd ON bd.id = r.building_id{shared._group_join(group_by)}
      WHERE {scope_sql(scope, p)} AND ({cur} OR {old})
      GROUP BY 1
    """
    for g, adj_a, rec_a, both_o, rec_o, rec_r, ladj_a, lrec_a in _fetch(sql, p.values):
        if r_day < ws:  # no recovery window yet: nothing recovered to correct
            rec_o = rec_r = 0
        _add(
            out,
            g,
            {
                "cb": adj_a or 0,
                "cr": -(rec_a or 0),
                "oa": both_o or 0,
                "rec": (rec_o or 0) - (rec_r or 0),
                "lb": ladj_a or 0,
                "lr": -(lrec_a or 0),
            },
        )


def _bill_outstanding_on(day_param: str, states, p: _Params, bills_sql: str) -> str:
    """Per bill of ``bills_sql`` (a SELECT of bill ids, each due on or before the day): its
    outstanding on the day = outstanding now + Σ its late entries dated after the day."""
    return f"""
      SELECT u.bill_id, SUM(u.o) AS o FROM (
        SELECT ob.bill_id, ob.outstanding_fen AS o FROM {T_OPEN} ob WHERE ob.bill_id IN ({bills_sql})
        UNION ALL
        SELECT le.bill_id, le.amount_fen FROM {T_LATE} le
        WHERE le.effective_date > {day_param} AND le.bill_id IN ({bills_sql})
      ) u GROUP BY u.bill_id
    """


def _irregular_opening(out, states, scope, window, group_by) -> None:
    """Opening arrears count each bill's positive part only: the signed fact sums are right for every
    bill but the irregular ones, which are corrected here — from their spells below zero when those
    are kept, else one by one."""
    if _rollup(SPELL_STATE) is not None:
        _spell_opening(out, scope, window, group_by)
        return
    p = _Params()
    pws = p.add(window.start, "ws")
    day = p.add(window.start - datetime.timedelta(days=1), "O")
    bills = (
        f"SELECT b.id FROM {T_IRREG} ib JOIN {T_BILL} b ON b.id = ib.bill_id"
        f" WHERE b.kind = 'charge' AND b.due_date < {pws}"
    )
    sql = f"""
      SELECT {shared.GROUP_EXPR[group_by]} AS g, SUM(CASE WHEN x.o < 0 THEN -x.o ELSE 0 END)
      FROM ({_bill_outstanding_on(day, states, p, bills)}) x JOIN {T_BILL} b ON b.id = x.bill_id
        JOIN {T_ROOM} r ON r.id = b.room_id JOIN {T_BUILDING} bd ON bd.id = r.building_id
        {shared._group_join(group_by)}
      WHERE {scope_sql(scope, p)}
      GROUP BY 1
    """
    for g, fix in _fetch(sql, p.values):
        if fix:
            _add(out, g, {"oa": fix})


def _on_day(alias: str, day: str) -> str:
    return f"{alias}.starts <= {day} AND ({alias}.ends IS NULL OR {alias}.ends > {day})"


def _spell_opening(out, scope, window, group_by) -> None:
    # CROSS JOIN: SQLite then reads the few spells first and looks their bills up, instead of
    # scanning the bills (PostgreSQL plans both the same).
    p = _Params()
    pws = p.add(window.start, "ws")
    day = p.add(window.start - datetime.timedelta(days=1), "O")
    sql = f"""
      SELECT {shared.GROUP_EXPR[group_by]} AS g, SUM(s.owed_fen)
      FROM {T_SPELL} s CROSS JOIN {T_BILL} b JOIN {T_ROOM} r ON r.id = b.room_id
        JOIN {T_BUILDING} bd ON bd.id = r.building_id{shared._group_join(group_by)}
      WHERE {_on_day("s", day)} AND b.id = s.bill_id AND b.kind = 'charge' AND b.due_date < {pws}
        AND {scope_sql(scope, p)}
      GROUP BY 1
    """
    for g, fix in _fetch(sql, p.values):
        if fix:
            _add(out, g, {"oa": fix})
