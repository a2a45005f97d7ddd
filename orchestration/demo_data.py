"""Deterministic, vectorised demo-data generator for the customer-lifecycle pipeline.

Writes five raw "exports" as Parquet files, the way a newcomer would receive them:

* ``orders.parquet``            order_id, customer_id, merchant_id, ordered_at, amount,
                                currency, status, cost
* ``customers.parquet``         customer_id, merchant_id, registered_at, acquisition_channel,
                                industry, email, phone
* ``merchants.parquet``         merchant_id, industry, name
* ``interactions.parquet``      interaction_id, customer_id, merchant_id, occurred_at,
                                interaction_type, rating, reason
* ``acquisition_costs.parquet`` acquisition_channel, month, spend

Ids and timestamps are strings (raw exports are text; timestamps are UTC
``'YYYY-MM-DD HH:MM:SS'``), amounts are float64.

Behaviour simulated (buy-till-you-die, BG/NBD style): every customer has a purchase
rate ``lambda ~ Gamma`` and a dropout probability ``p ~ Beta`` applied after each
purchase, with industry-specific cadences (food delivery: days, apparel: weeks to
months, education: months, with frequent interactions while alive). Registrations
grow over a two-year window ending at ``end_date``; about 15% of customers never order.

About 1% of raw order rows (and a few customer / interaction rows) are deliberately
broken; the exact marker values are listed in :data:`MESSY_MARKERS` so that staging
SQL can be tested against them.

Everything is drawn from one ``numpy.random.default_rng(seed)``: same arguments give
the same data. Strings are formatted by DuckDB over Arrow-backed numpy arrays, and
each file is written to a hidden temporary name in ``out_dir`` and then moved into
place with :func:`os.replace`, so readers never see a half-written file.

CLI::

    python -m orchestration.demo_data --out DIR --orders N [--end-date YYYY-MM-DD] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["generate", "main", "MESSY_MARKERS", "MERCHANTS", "CHANNELS", "MIN_ORDERS"]

# --------------------------------------------------------------------------------------
# Static configuration
# --------------------------------------------------------------------------------------

SPAN_DAYS = 730  # window length; the window ends with (and includes) end_date
GROWTH = np.log(3.0)  # registrations per day grow ~3x over the window
PROSPECT_SHARE = 0.13  # plus late registrants whose first order would fall after end_date
MIN_ORDERS = 1_000
ORDERS_PER_CUSTOMER_EST = 9.5  # used only to size the first simulation batch

PROFILES = ("food_delivery", "apparel_ecommerce", "education_services", "default")
FOOD, APPAREL, EDU, DEFAULT = range(4)

# merchant_id, industry as exported (None = missing), name, behaviour profile,
# share of customers, cost ratio (cost = amount * ratio; None = merchant reports no cost)
MERCHANTS: tuple[tuple[str, str | None, str, int, float, float | None], ...] = (
    ("M001", "food_delivery", "QuickBite Express", FOOD, 0.21, 0.72),
    ("M002", "food_delivery", "Noodle Nest Delivery", FOOD, 0.15, 0.70),
    ("M003", "food_delivery", "GreenBowl Kitchen", FOOD, 0.11, None),
    ("M004", "food_delivery", "Midnight Pizza Co.", FOOD, 0.09, 0.74),
    ("M005", "apparel_ecommerce", "Threadline Apparel", APPAREL, 0.09, 0.52),
    ("M006", "apparel_ecommerce", "Northpeak Outdoor Wear", APPAREL, 0.06, 0.55),
    ("M007", "apparel_ecommerce", "Loom & Lace", APPAREL, 0.045, None),
    ("M008", "apparel_ecommerce", "Urban Stride Shoes", APPAREL, 0.035, 0.48),
    ("M009", "education_services", "BrightPath Tutoring", EDU, 0.04, 0.25),
    ("M010", "education_services", "CodeCamp Online", EDU, 0.035, None),
    ("M011", "education_services", "LinguaLeap Academy", EDU, 0.03, 0.30),
    ("M012", "pet_supplies", "Happy Paws Supply", DEFAULT, 0.05, 0.62),
    ("M013", None, "Corner Market Co.", DEFAULT, 0.04, None),
)
_M_IDS = [m[0] for m in MERCHANTS]
_M_INDUSTRY = [m[1] for m in MERCHANTS]
_M_PROFILE = np.array([m[3] for m in MERCHANTS], dtype=np.int8)
_M_P = np.array([m[4] for m in MERCHANTS])
_M_P = _M_P / _M_P.sum()
_M_COST_RATIO = np.array([np.nan if m[5] is None else m[5] for m in MERCHANTS])

CHANNELS = ("organic", "paid_search", "paid_social", "referral", "email")
_CH_P = np.array([0.34, 0.22, 0.20, 0.12, 0.12])
_CH_DROPOUT_MULT = np.array([1.0, 1.05, 1.25, 0.8, 0.95])  # referral customers stay longer
_CH_CAC = np.array([0.0, 38.0, 27.0, 9.0, 3.0])  # spend per acquired customer

CURRENCIES = ("USD", "EUR", "GBP")
_CUR_P = np.array([0.90, 0.06, 0.04])

# Per-profile parameters, indexed FOOD, APPAREL, EDU, DEFAULT.
_LAM_MEAN = np.array([1 / 7, 1 / 45, 1 / 130, 1 / 50])  # purchases per day
_LAM_SHAPE = np.array([1.3, 2.0, 5.0, 2.0])
_P_A = np.array([1.2, 1.6, 2.0, 1.6])  # dropout after each purchase ~ Beta(a, b)
_P_B = np.array([22.0, 6.4, 5.5, 6.0])
_FIRST_INSTANT_P = 0.55  # first order placed in the registration session
_FIRST_DELAY_DAYS = np.array([2.0, 7.0, 10.0, 7.0])  # otherwise exp delay with this mean
_BASKET_MEAN = np.array([25.0, 70.0, 300.0, 45.0])
_BASKET_Q = np.array([6.0, 4.0, 8.0, 4.0])  # between-customer gamma shape
_ORDER_SHAPE = np.array([8.0, 5.0, 20.0, 5.0])  # within-customer gamma shape
_MIN_AMOUNT = np.array([4.0, 8.0, 25.0, 3.0])
_REFUND_P = np.array([0.035, 0.06, 0.04, 0.045])
_CANCEL_P = np.array([0.032, 0.025, 0.02, 0.03])
# interactions
_INTER_RATE = np.array([1 / 30, 1 / 25, 1 / 6, 1 / 25])  # per day while alive
_TAIL_DAYS = np.array([4.0, 14.0, 60.0, 14.0])  # still around after the last purchase
_PROSPECT_ALIVE_DAYS = 21.0
_VISIT_P = np.array([0.50, 0.55, 0.70, 0.55])
_OPEN_P = np.array([0.30, 0.25, 0.27, 0.27])  # rest: coupon_click
_REVIEW_P = np.array([0.04, 0.10, 0.30, 0.06])  # per completed order
_COMPLAINT_P = np.array([0.005, 0.01, 0.02, 0.008])  # per order
_COMPLAINT_P_REFUNDED = 0.15
_CHURN_COMPLAINT_P = 0.35  # churners complain once more before going silent
_REASON_P = np.array(
    [  # product, service, logistics, price, other
        [0.20, 0.20, 0.40, 0.10, 0.10],
        [0.35, 0.15, 0.25, 0.15, 0.10],
        [0.30, 0.40, 0.05, 0.15, 0.10],
        [0.30, 0.20, 0.25, 0.15, 0.10],
    ]
)
_RATING_P_HAPPY = np.array([0.05, 0.05, 0.10, 0.28, 0.52])  # 1..5 stars
_RATING_P_CHURNER = np.array([0.22, 0.16, 0.17, 0.20, 0.25])

INTERACTION_TYPES = ("visit", "message_open", "coupon_click", "review", "complaint")
REASONS = ("product", "service", "logistics", "price", "other")

# Diurnal profile (share of activity per UTC hour). Applied as a monotone warp of the
# time of day, so event order (registration <= first order <= ...) is preserved.
_HOURLY = np.array(
    [0.6, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.8, 1.2, 1.4, 1.5, 1.8,
     2.4, 2.0, 1.5, 1.4, 1.5, 1.9, 2.6, 2.8, 2.4, 1.9, 1.4, 1.0]
)
_DIURNAL_CDF = np.concatenate([[0.0], np.cumsum(_HOURLY) / _HOURLY.sum()])
_DIURNAL_GRID = np.arange(25) / 24.0

_FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "david",
    "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas",
    "sarah", "carlos", "maria", "wei", "li", "aisha", "fatima", "omar", "sofia", "lucas",
    "emma", "noah", "olivia", "liam", "ava", "hiro", "yuki", "priya", "arjun", "chloe",
    "mateo", "nina", "ivan",
)
_LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
    "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson",
    "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white",
    "harris", "sanchez", "clark", "lewis", "robinson", "walker", "young", "allen", "king",
    "wright", "scott", "nguyen", "chen", "patel", "kim", "mueller",
)
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

# --------------------------------------------------------------------------------------
# Messy rows. Each entry: kind -> (marker description, share of the ~1% budget).
# --------------------------------------------------------------------------------------

ORDER_STATUSES = (
    "completed", "refunded", "cancelled",  # 0-2 canonical
    "Completed", "COMPLETED", "Refunded", "CANCELLED",  # 3-6 odd case, valid after lower()
    "pending_review", "COMPLETE??",  # 7-8 unknown
)
ORDER_CURRENCIES = ("USD", "EUR", "GBP", "XXX", "usd$")
ORDER_TS_INVALID = ("not a date", "2024-13-45 25:00:00", "")  # ts_var 1..3; ts_var 4 = NULL
CUSTOMER_TS_INVALID = ("not a date", "0000-00-00 00:00:00", "")
INTERACTION_TS_INVALID = ("not a date", "2024-13-45 25:00:00", "")

# Bad order rows; weights are shares of a budget of 1% of n_orders (min 1 row each).
_ORDER_BAD_WEIGHTS = {
    "dup_exact": 0.12,  # exact copy of an existing row (appended)
    "dup_amount": 0.06,  # existing order_id re-used with a different amount (appended)
    "customer_id_null": 0.05,
    "customer_id_empty": 0.04,  # ''
    "customer_id_blank": 0.02,  # '   '
    "amount_negative": 0.10,  # amount < 0, status 'completed'
    "amount_absurd": 0.08,  # amount >= 1e7
    "ts_not_a_date": 0.04,
    "ts_invalid": 0.04,  # '2024-13-45 25:00:00'
    "ts_empty": 0.03,
    "ts_null": 0.02,
    "ts_future": 0.10,  # 3..120 days after end_date
    "status_pending_review": 0.05,
    "status_complete_qq": 0.04,  # 'COMPLETE??'
    "currency_xxx": 0.05,
    "currency_usd_dollar": 0.04,  # 'usd$'
}
# Valid-but-messy-looking order rows; shares of n_orders (min 2 rows each).
_ORDER_GOOD_SHARES = {
    "customer_id_lower": 0.0007,  # 'c0000123'
    "customer_id_padded": 0.0007,  # ' C0000123 '
    "customer_id_lower_padded": 0.0005,  # '  c0000123 '
    "merchant_id_lower": 0.0007,  # 'm001'
    "merchant_id_padded": 0.0005,  # ' M001 '
    "zero_amount": 0.0004,  # completed, amount 0.0 (free item)
    "status_case": 0.0015,  # 'Completed', 'COMPLETED', 'Refunded', 'CANCELLED'
}

MESSY_MARKERS = {
    "orders": {
        "dup_exact": "identical copy of another row (same order_id and all columns)",
        "dup_amount": "same order_id as another row, all columns equal except amount/cost",
        "customer_id_missing": [None, "", "   "],
        "amount_negative": "amount < 0 (status 'completed')",
        "amount_absurd": "amount >= 1e7",
        "ordered_at_unparseable": list(ORDER_TS_INVALID) + [None],
        "ordered_at_future": "date(ordered_at) between end_date + 3 and end_date + 120 days",
        "status_unknown": ["pending_review", "COMPLETE??"],
        "currency_unknown": ["XXX", "usd$"],
        "valid_id_variants": "customer_id 'c0000123', ' C0000123 ', '  c0000123 '; "
        "merchant_id 'm001', ' M001 ' (valid after upper(trim()))",
        "valid_status_case": ["Completed", "COMPLETED", "Refunded", "CANCELLED"],
        "valid_zero_amount": "status 'completed', amount 0.0 (cost 0.0 or NULL)",
        "orphan_customer": "customer_id (valid format) absent from customers.parquet",
    },
    "customers": {
        "dup_exact": "identical copy of another customer row",
        "dup_conflict": "same customer_id, different acquisition_channel",
        "registered_at_unparseable": list(CUSTOMER_TS_INVALID),
        "valid_id_variants": "customer_id 'c0000123' / ' C0000123 '; merchant_id 'm001'",
    },
    "interactions": {
        "occurred_at_unparseable": list(INTERACTION_TS_INVALID),
        "rating_out_of_range": "interaction_type 'review' with rating 7.0",
        "customer_id_missing": [None, ""],
        "valid_id_variants": "customer_id 'c0000123' / ' C0000123 '",
    },
}

# id variant codes used in the SQL below
_V_OK, _V_NULL, _V_EMPTY, _V_BLANK, _V_LOWER, _V_PADDED, _V_LOWER_PADDED = range(7)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _parse_end_date(end_date: dt.date | str | None) -> dt.date:
    if end_date is None:
        return dt.datetime.now(dt.timezone.utc).date()
    if isinstance(end_date, dt.datetime):
        return end_date.date()
    if isinstance(end_date, dt.date):
        return end_date
    return dt.date.fromisoformat(str(end_date).strip())


def _to_seconds(t_days: np.ndarray, start_sec: int) -> np.ndarray:
    """Float days since window start -> int64 epoch seconds, with a diurnal warp."""
    day = np.floor(t_days)
    frac = np.interp(t_days - day, _DIURNAL_CDF, _DIURNAL_GRID)  # inverse CDF
    sec_of_day = np.minimum(np.floor(frac * 86_400.0), 86_399.0).astype(np.int64)
    return start_sec + day.astype(np.int64) * 86_400 + sec_of_day


def _draw_categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw; ``cum`` is (n, k) cumulative probabilities."""
    u = rng.random(cum.shape[0])
    return (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)


def _groupwise_offsets(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


def _alloc(n: int, weights: dict[str, float], budget: float, minimum: int) -> dict[str, int]:
    total_w = sum(weights.values())
    return {k: max(minimum, int(round(budget * n * w / total_w))) for k, w in weights.items()}


def _order_bad_counts(n_orders: int) -> dict[str, int]:
    return _alloc(n_orders, _ORDER_BAD_WEIGHTS, 0.01, 1)


def _order_good_counts(n_orders: int) -> dict[str, int]:
    return {k: max(2, int(round(n_orders * s))) for k, s in _ORDER_GOOD_SHARES.items()}


def _take_disjoint(rng: np.random.Generator, pool: np.ndarray, counts: dict[str, int]) -> dict[str, np.ndarray]:
    """Split a random sample of distinct elements of ``pool`` into named groups."""
    total = sum(counts.values())
    if total > pool.size:
        raise ValueError("dataset too small for the requested messy rows")
    picked = pool[rng.choice(pool.size, size=total, replace=False)]
    out, pos = {}, 0
    for k, c in counts.items():  # insertion order of a literal dict: deterministic
        out[k] = np.sort(picked[pos : pos + c])
        pos += c
    return out


def _insert_copies(n_base: int, orig: np.ndarray, rng: np.random.Generator, max_lag: int) -> np.ndarray:
    """Row order that places copies of rows ``orig`` a little after their originals.

    Returns indices into the concatenation [base rows (n_base), copies (len(orig))]."""
    lag = rng.integers(1, max_lag + 1, size=orig.size)
    key = np.concatenate([np.arange(n_base, dtype=np.float64), np.minimum(orig + lag, n_base) - 0.5])
    return np.argsort(key, kind="stable")


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


def _simulate_batch(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Simulate ``n`` customers and their in-window orders (rows grouped by customer)."""
    merch = rng.choice(len(MERCHANTS), size=n, p=_M_P).astype(np.int16)
    prof = _M_PROFILE[merch]
    reg = np.log1p(rng.random(n) * np.expm1(GROWTH)) / GROWTH * SPAN_DAYS
    channel = rng.choice(len(CHANNELS), size=n, p=_CH_P).astype(np.int8)
    currency = rng.choice(len(CURRENCIES), size=n, p=_CUR_P).astype(np.int8)
    prospect = rng.random(n) < PROSPECT_SHARE
    lam = rng.gamma(_LAM_SHAPE[prof], _LAM_MEAN[prof] / _LAM_SHAPE[prof])
    p = np.clip(rng.beta(_P_A[prof], _P_B[prof]) * _CH_DROPOUT_MULT[channel], 1e-3, 0.95)
    basket = rng.gamma(_BASKET_Q[prof], _BASKET_MEAN[prof] / _BASKET_Q[prof])
    instant = rng.random(n) < _FIRST_INSTANT_P
    delay_exp = rng.standard_exponential(n)
    first_delay = np.where(instant, delay_exp * (20 / 1440), delay_exp * _FIRST_DELAY_DAYS[prof]) + 1 / 1440

    # Purchases over the whole lifetime ~ Geometric(p) (dropout after each purchase);
    # capped far above what fits in the remaining window so memory stays bounded.
    n_life = rng.geometric(p)
    mu = lam * (SPAN_DAYS - reg)
    cap = np.ceil(mu + 6.0 * np.sqrt(mu) + 8.0).astype(np.int64)
    n_draw = np.where(prospect, 0, np.minimum(n_life, cap))

    owner = np.repeat(np.arange(n), n_draw)
    gaps = rng.standard_exponential(owner.size) / lam[owner]
    has = n_draw > 0
    first = _groupwise_offsets(n_draw)[has]
    gaps[first] = first_delay[has]
    cs = np.cumsum(gaps)
    base = np.repeat(reg[has] - (cs[first] - gaps[first]), n_draw[has])
    t = np.maximum(base + cs, reg[owner])
    del cs, base, gaps

    in_win = t < SPAN_DAYS  # times increase within a customer: kept rows are a prefix
    owner, t = owner[in_win], t[in_win]
    n_in = np.bincount(owner, minlength=n)
    died = has & (n_life <= cap) & (n_in == n_draw)  # all lifetime purchases happened
    amount = rng.gamma(_ORDER_SHAPE[prof[owner]], basket[owner] / _ORDER_SHAPE[prof[owner]])
    amount = np.round(np.maximum(amount, _MIN_AMOUNT[prof[owner]]), 2)
    return {
        "merch": merch, "reg": reg, "channel": channel, "currency": currency,
        "died": died, "n_in": n_in, "owner": owner, "t": t, "amount": amount,
    }


def _simulate_customers_and_orders(rng: np.random.Generator, n_rows: int) -> dict[str, np.ndarray]:
    """Simulate batches until ``n_rows`` in-window orders exist, then keep the first
    customers (in random generation order) that account for exactly ``n_rows`` orders."""
    batches, have, n_cust = [], 0, 0
    size = int(np.ceil(n_rows / ORDERS_PER_CUSTOMER_EST * 1.05)) + 50
    while have < n_rows:
        b = _simulate_batch(rng, size)
        b["owner"] = b["owner"] + n_cust
        batches.append(b)
        have += b["owner"].size
        n_cust += size
        size = int(np.ceil((n_rows - have) / ORDERS_PER_CUSTOMER_EST * 1.2)) + 50
    sim = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}

    last_owner = int(sim["owner"][n_rows - 1])
    n_keep = last_owner + 1
    for k in ("owner", "t", "amount"):
        sim[k] = sim[k][:n_rows]
    for k in ("merch", "reg", "channel", "currency", "died", "n_in"):
        sim[k] = sim[k][:n_keep]
    kept_last = int(np.count_nonzero(sim["owner"] == last_owner))
    if kept_last < sim["n_in"][last_owner]:  # truncated: their history ends here
        sim["n_in"][last_owner] = kept_last
        sim["died"][last_owner] = True
    last_t = np.full(n_keep, np.nan)
    with_orders = sim["n_in"] > 0
    last_t[with_orders] = sim["t"][(np.cumsum(sim["n_in"]) - 1)[with_orders]]
    sim["last_t"] = last_t
    return sim


def _simulate_interactions(rng: np.random.Generator, sim: dict[str, np.ndarray], status: np.ndarray) -> dict[str, np.ndarray]:
    """Interactions from customer lifetimes and (clean) orders. Times in float days."""
    n = sim["reg"].size
    prof = _M_PROFILE[sim["merch"]]
    reg, died, last_t, n_in = sim["reg"], sim["died"], sim["last_t"], sim["n_in"]

    # (a) background stream while alive: visits, message opens, coupon clicks
    tail = rng.standard_exponential(n) * _TAIL_DAYS[prof]
    prospect_life = rng.standard_exponential(n) * _PROSPECT_ALIVE_DAYS
    alive_end = np.where(n_in == 0, reg + prospect_life, np.where(died, last_t + tail, SPAN_DAYS))
    dur = np.clip(np.minimum(alive_end, SPAN_DAYS) - reg, 0.0, None)
    engagement = rng.gamma(2.0, 0.5, n) * np.where(n_in == 0, 0.6, 1.0)
    cnt = rng.poisson(_INTER_RATE[prof] * engagement * dur)
    own_a = np.repeat(np.arange(n), cnt)
    t_a = reg[own_a] + rng.random(own_a.size) * dur[own_a]
    prof_a = prof[own_a]
    u = rng.random(own_a.size)
    type_a = np.where(u < _VISIT_P[prof_a], 0, np.where(u < _VISIT_P[prof_a] + _OPEN_P[prof_a], 1, 2)).astype(np.int8)
    del u, prof_a

    # (b) reviews after completed orders; churners rate lower
    o_owner, o_t = sim["owner"], sim["t"]
    o_prof = prof[o_owner]
    rev = (status == 0) & (rng.random(o_owner.size) < _REVIEW_P[o_prof])
    own_b = o_owner[rev]
    t_b = o_t[rev] + rng.standard_exponential(own_b.size) * 1.5
    u = rng.random(own_b.size)
    stars = np.where(
        died[own_b],
        np.searchsorted(np.cumsum(_RATING_P_CHURNER)[:-1], u, side="right"),
        np.searchsorted(np.cumsum(_RATING_P_HAPPY)[:-1], u, side="right"),
    ) + 1
    # (c) complaints after orders (refunds complain more)
    p_c = np.where(status == 1, _COMPLAINT_P_REFUNDED, _COMPLAINT_P[o_prof])
    comp = rng.random(o_owner.size) < p_c
    own_c = o_owner[comp]
    t_c = o_t[comp] + rng.standard_exponential(own_c.size)
    # (d) churners complain once more before going silent
    churner = np.flatnonzero(died & (rng.random(n) < _CHURN_COMPLAINT_P))
    own_d = churner
    t_d = last_t[churner] + rng.standard_exponential(churner.size) * 2.0

    own_cd = np.concatenate([own_c, own_d])
    reason = _draw_categorical(rng, np.cumsum(_REASON_P, axis=1)[prof[own_cd]])

    owner = np.concatenate([own_a, own_b, own_cd])
    t = np.concatenate([t_a, t_b, t_c, t_d])
    itype = np.concatenate([type_a, np.full(own_b.size, 3, np.int8), np.full(own_cd.size, 4, np.int8)])
    rating = np.concatenate([np.full(own_a.size, np.nan), stars.astype(np.float64), np.full(own_cd.size, np.nan)])
    reason = np.concatenate([np.full(own_a.size + own_b.size, -1, np.int8), reason])
    keep = t < SPAN_DAYS
    return {"owner": owner[keep], "t": t[keep], "itype": itype[keep], "rating": rating[keep], "reason": reason[keep]}


# --------------------------------------------------------------------------------------
# SQL formatting and writing
# --------------------------------------------------------------------------------------


def _sql_list(values) -> str:
    items = ["NULL" if v is None else "'" + str(v).replace("'", "''") + "'" for v in values]
    return "[" + ", ".join(items) + "]"


def _id_sql(num: str, var: str, prefix: str, width: int) -> str:
    fmt = f"%0{width}d"
    up, low = prefix.upper(), prefix.lower()
    return (
        f"CASE {var} WHEN {_V_OK} THEN printf('{up}{fmt}', {num}) "
        f"WHEN {_V_NULL} THEN NULL WHEN {_V_EMPTY} THEN '' WHEN {_V_BLANK} THEN '   ' "
        f"WHEN {_V_LOWER} THEN printf('{low}{fmt}', {num}) "
        f"WHEN {_V_PADDED} THEN printf(' {up}{fmt} ', {num}) "
        f"ELSE printf('  {low}{fmt} ', {num}) END"
    )


def _merchant_sql(idx: str, var: str) -> str:
    m = f"{_sql_list(_M_IDS)}[{idx} + 1]"
    return (
        f"CASE {var} WHEN {_V_OK} THEN {m} WHEN {_V_LOWER} THEN lower({m}) "
        f"WHEN {_V_PADDED} THEN ' ' || {m} || ' ' ELSE lower(' ' || {m} || ' ') END"
    )


def _ts_sql(sec: str, var: str, invalid: tuple[str, ...]) -> str:
    cases = " ".join(f"WHEN {i + 1} THEN '{v}'" for i, v in enumerate(invalid))
    return (
        f"CASE {var} WHEN 0 THEN strftime(make_timestamp({sec} * 1000000), '%Y-%m-%d %H:%M:%S') "
        f"{cases} ELSE NULL END"
    )


def _nullable(values: np.ndarray) -> pa.Array:
    """float64 array with NaN -> Arrow nulls."""
    return pa.array(np.ascontiguousarray(values, dtype=np.float64), from_pandas=True)


def _write_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path, name: str, sql: str) -> int:
    final = out_dir / f"{name}.parquet"
    tmp = out_dir / f".{name}.parquet.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    path = str(tmp).replace("'", "''")
    try:
        con.execute(f"COPY ({sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
        n = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return int(n)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def generate(
    out_dir: str | Path,
    n_orders: int = 200_000,
    end_date: dt.date | str | None = None,
    seed: int = 42,
) -> dict[str, int]:
    """Write orders.parquet, customers.parquet, merchants.parquet, interactions.parquet,
    acquisition_costs.parquet into out_dir (created if missing). Returns row counts per
    entity name ("orders", "customers", ...). end_date defaults to today UTC."""
    n_orders = int(n_orders)
    if n_orders < MIN_ORDERS:
        raise ValueError(f"n_orders must be at least {MIN_ORDERS}, got {n_orders}")
    end = _parse_end_date(end_date)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = end - dt.timedelta(days=SPAN_DAYS - 1)
    start_sec = (start - dt.date(1970, 1, 1)).days * 86_400
    end_excl_sec = start_sec + SPAN_DAYS * 86_400
    rng = np.random.default_rng(seed)

    # ---------------- customers and their clean orders ----------------
    bad = _order_bad_counts(n_orders)
    good = _order_good_counts(n_orders)
    n_dup = bad["dup_exact"] + bad["dup_amount"]
    n_base = n_orders - n_dup
    sim = _simulate_customers_and_orders(rng, n_base)
    n_cust = sim["reg"].size
    reg_sec = _to_seconds(sim["reg"], start_sec)
    cust_num = np.empty(n_cust, np.int64)
    cust_num[np.argsort(reg_sec, kind="stable")] = np.arange(1, n_cust + 1)

    # orders sorted by time -> sequential order ids
    o_sec = _to_seconds(sim["t"], start_sec)
    perm = np.argsort(o_sec, kind="stable")
    for k in ("owner", "t", "amount"):
        sim[k] = sim[k][perm]
    o_sec = o_sec[perm]
    del perm
    owner = sim["owner"]
    o_merch = sim["merch"][owner]
    o_prof = _M_PROFILE[o_merch]
    u = rng.random(n_base)
    refund_p = _REFUND_P[o_prof]
    status = np.where(u < refund_p, 1, np.where(u < refund_p + _CANCEL_P[o_prof], 2, 0)).astype(np.int8)
    del u, refund_p

    # interactions are simulated from the clean history (before messing it up)
    inter = _simulate_interactions(rng, sim, status)

    amount = sim["amount"].copy()
    currency = sim["currency"][owner].copy()
    ratio = _M_COST_RATIO[o_merch]
    cust_var = np.zeros(n_base, np.int8)
    merch_var = np.zeros(n_base, np.int8)
    ts_var = np.zeros(n_base, np.int8)

    # orphans: a few customers with orders are left out of customers.parquet
    has_orders = np.flatnonzero(sim["n_in"] > 0)
    n_orphan = min(has_orders.size // 4, max(3, int(round(0.0005 * has_orders.size))))
    orphan_cust = np.sort(has_orders[rng.choice(has_orders.size, n_orphan, replace=False)])
    orphan_row = np.isin(owner, orphan_cust)

    # every other messy order row is a distinct, otherwise clean row
    pool = np.flatnonzero(~orphan_row)
    plan = _take_disjoint(rng, pool, {**bad, **good})
    cust_var[plan["customer_id_null"]] = _V_NULL
    cust_var[plan["customer_id_empty"]] = _V_EMPTY
    cust_var[plan["customer_id_blank"]] = _V_BLANK
    cust_var[plan["customer_id_lower"]] = _V_LOWER
    cust_var[plan["customer_id_padded"]] = _V_PADDED
    cust_var[plan["customer_id_lower_padded"]] = _V_LOWER_PADDED
    merch_var[plan["merchant_id_lower"]] = _V_LOWER
    merch_var[plan["merchant_id_padded"]] = _V_PADDED
    i = plan["amount_negative"]
    amount[i] = -np.maximum(amount[i], 1.0)
    status[i] = 0
    i = plan["amount_absurd"]
    amount[i] = np.round(10.0 ** rng.uniform(7.0, 8.5, i.size), 2)
    i = plan["zero_amount"]
    amount[i] = 0.0
    status[i] = 0
    ts_var[plan["ts_not_a_date"]] = 1
    ts_var[plan["ts_invalid"]] = 2
    ts_var[plan["ts_empty"]] = 3
    ts_var[plan["ts_null"]] = 4
    i = plan["ts_future"]
    o_sec[i] = end_excl_sec + 2 * 86_400 + rng.integers(0, 118 * 86_400, i.size)
    status[plan["status_pending_review"]] = 7
    status[plan["status_complete_qq"]] = 8
    i = plan["status_case"]
    status[i] = np.array([[3, 4], [5, 5], [6, 6]], np.int8)[status[i], rng.integers(0, 2, i.size)]
    currency[plan["currency_xxx"]] = 3
    currency[plan["currency_usd_dollar"]] = 4
    cost = np.round(amount * ratio, 2)
    cost[plan["amount_absurd"]] = np.round(sim["amount"][plan["amount_absurd"]] * ratio[plan["amount_absurd"]], 2)

    # duplicates: exact copies and same id with another amount, a little later in the file
    dup_src = np.concatenate([plan["dup_exact"], plan["dup_amount"]])
    dup_amount = amount[dup_src].copy()
    k = plan["dup_exact"].size
    dup_amount[k:] = np.round(dup_amount[k:] * rng.uniform(1.1, 1.9, dup_src.size - k) + 1.0, 2)
    dup_cost = cost[dup_src].copy()
    dup_cost[k:] = np.round(dup_amount[k:] * ratio[dup_src[k:]], 2)
    row_order = _insert_copies(n_base, dup_src, rng, max_lag=max(2, min(5_000, n_base // 20)))

    def with_dups(base: np.ndarray, dup: np.ndarray | None = None) -> np.ndarray:
        return np.concatenate([base, base[dup_src] if dup is None else dup])[row_order]

    orders_tbl = pa.table(
        {
            "seq": with_dups(np.arange(1, n_base + 1, dtype=np.int64)),
            "cust": with_dups(cust_num[owner]),
            "cust_var": with_dups(cust_var),
            "merch": with_dups(o_merch),
            "merch_var": with_dups(merch_var),
            "sec": with_dups(o_sec),
            "ts_var": with_dups(ts_var),
            "amount": with_dups(amount, dup_amount),
            "cur": with_dups(currency),
            "status": with_dups(status),
            "cost": _nullable(with_dups(cost, dup_cost)),
        }
    )
    del cust_var, merch_var, ts_var, amount, currency, cost, status, o_sec, ratio, o_merch, o_prof

    # ---------------- customers file ----------------
    keep_c = np.ones(n_cust, bool)
    keep_c[orphan_cust] = False
    c_idx = np.flatnonzero(keep_c)
    c_idx = c_idx[np.argsort(cust_num[c_idx], kind="stable")]
    nc = c_idx.size
    c_plan = _take_disjoint(
        rng,
        np.arange(nc),
        {
            "dup_exact": max(2, round(0.002 * nc)),
            "dup_conflict": max(2, round(0.001 * nc)),
            "ts_not_a_date": max(1, round(0.0004 * nc)),
            "ts_zero": max(1, round(0.0003 * nc)),
            "ts_empty": max(1, round(0.0003 * nc)),
            "id_lower": max(1, round(0.0005 * nc)),
            "id_padded": max(1, round(0.0005 * nc)),
            "merchant_lower": max(1, round(0.0005 * nc)),
        },
    )
    c_cust_var = np.zeros(nc, np.int8)
    c_cust_var[c_plan["id_lower"]] = _V_LOWER
    c_cust_var[c_plan["id_padded"]] = _V_PADDED
    c_merch_var = np.zeros(nc, np.int8)
    c_merch_var[c_plan["merchant_lower"]] = _V_LOWER
    c_ts_var = np.zeros(nc, np.int8)
    c_ts_var[c_plan["ts_not_a_date"]] = 1
    c_ts_var[c_plan["ts_zero"]] = 2
    c_ts_var[c_plan["ts_empty"]] = 3
    c_channel = sim["channel"][c_idx]
    c_cur = sim["currency"][c_idx]
    c_fill_industry = rng.random(nc) < 0.06
    c_first = rng.integers(0, len(_FIRST_NAMES), nc)
    c_last = rng.integers(0, len(_LAST_NAMES), nc)
    c_mail_num = rng.integers(1, 10_000, nc)
    c_mail_dom = rng.integers(0, len(_EMAIL_DOMAINS), nc)
    c_mail_null = rng.random(nc) < 0.03
    c_phone_a = rng.integers(0, 1000, nc)
    c_phone_b = rng.integers(0, 10_000, nc)
    c_phone_null = rng.random(nc) < 0.25

    c_src = np.concatenate([c_plan["dup_exact"], c_plan["dup_conflict"]])
    dup_channel = c_channel[c_src].copy()
    k = c_plan["dup_exact"].size
    dup_channel[k:] = (dup_channel[k:] + rng.integers(1, len(CHANNELS), c_src.size - k)) % len(CHANNELS)
    c_order = _insert_copies(nc, c_src, rng, max_lag=3)

    def c_with_dups(base: np.ndarray, dup: np.ndarray | None = None) -> np.ndarray:
        return np.concatenate([base, base[c_src] if dup is None else dup])[c_order]

    customers_tbl = pa.table(
        {
            "cust": c_with_dups(cust_num[c_idx]),
            "cust_var": c_with_dups(c_cust_var),
            "merch": c_with_dups(sim["merch"][c_idx]),
            "merch_var": c_with_dups(c_merch_var),
            "sec": c_with_dups(reg_sec[c_idx]),
            "ts_var": c_with_dups(c_ts_var),
            "channel": c_with_dups(c_channel, dup_channel),
            "fill_industry": c_with_dups(c_fill_industry),
            "cur": c_with_dups(c_cur),
            "first": c_with_dups(c_first),
            "last": c_with_dups(c_last),
            "mail_num": c_with_dups(c_mail_num),
            "mail_dom": c_with_dups(c_mail_dom),
            "mail_null": c_with_dups(c_mail_null),
            "phone_a": c_with_dups(c_phone_a),
            "phone_b": c_with_dups(c_phone_b),
            "phone_null": c_with_dups(c_phone_null),
        }
    )

    # ---------------- interactions file ----------------
    i_sec = _to_seconds(inter["t"], start_sec)
    perm = np.argsort(i_sec, kind="stable")
    i_sec = i_sec[perm]
    i_owner, i_type, i_rating, i_reason = (inter[k][perm] for k in ("owner", "itype", "rating", "reason"))
    del inter, perm
    ni = i_sec.size
    i_plan = _take_disjoint(
        rng,
        np.arange(ni),
        {
            "ts_not_a_date": max(2, round(0.0003 * ni)),
            "ts_invalid": max(2, round(0.0002 * ni)),
            "ts_empty": max(2, round(0.0002 * ni)),
            "rating_7": max(2, round(0.0002 * ni)),
            "cust_null": max(2, round(0.0003 * ni)),
            "cust_empty": max(2, round(0.0002 * ni)),
            "id_lower": max(2, round(0.0003 * ni)),
            "id_padded": max(2, round(0.0003 * ni)),
        },
    )
    i_ts_var = np.zeros(ni, np.int8)
    i_ts_var[i_plan["ts_not_a_date"]] = 1
    i_ts_var[i_plan["ts_invalid"]] = 2
    i_ts_var[i_plan["ts_empty"]] = 3
    i_cust_var = np.zeros(ni, np.int8)
    i_cust_var[i_plan["cust_null"]] = _V_NULL
    i_cust_var[i_plan["cust_empty"]] = _V_EMPTY
    i_cust_var[i_plan["id_lower"]] = _V_LOWER
    i_cust_var[i_plan["id_padded"]] = _V_PADDED
    i = i_plan["rating_7"]
    i_type[i] = 3
    i_rating[i] = 7.0
    i_reason[i] = -1
    interactions_tbl = pa.table(
        {
            "seq": np.arange(1, ni + 1, dtype=np.int64),
            "cust": cust_num[i_owner],
            "cust_var": i_cust_var,
            "merch": sim["merch"][i_owner],
            "sec": i_sec,
            "ts_var": i_ts_var,
            "itype": i_type,
            "rating": _nullable(i_rating),
            "reason": i_reason,
        }
    )
    del i_sec, i_owner, i_type, i_rating, i_reason, i_ts_var, i_cust_var

    # ---------------- acquisition costs ----------------
    reg_month = reg_sec.astype("datetime64[s]").astype("datetime64[M]")
    first_month = np.datetime64(start.isoformat(), "M")
    months = np.arange(first_month, np.datetime64(end.isoformat(), "M") + 1)
    m_idx = (reg_month - first_month).astype(np.int64)
    n_ch, n_m = len(CHANNELS), months.size
    acquired = np.bincount(sim["channel"].astype(np.int64) * n_m + m_idx, minlength=n_ch * n_m)
    noise = rng.lognormal(0.0, 0.12, n_ch * n_m)
    spend = np.round(acquired * np.repeat(_CH_CAC, n_m) * noise, 2)
    acq_tbl = pa.table(
        {
            "acquisition_channel": pa.array(np.repeat(np.array(CHANNELS), n_m).tolist(), pa.string()),
            "month": pa.array([f"{m}-01" for m in np.tile(months, n_ch).astype(str)], pa.string()),
            "spend": spend.astype(np.float64),
        }
    )
    merchants_tbl = pa.table(
        {
            "merchant_id": pa.array(_M_IDS, pa.string()),
            "industry": pa.array(_M_INDUSTRY, pa.string()),
            "name": pa.array([m[2] for m in MERCHANTS], pa.string()),
        }
    )

    # ---------------- write ----------------
    counts: dict[str, int] = {}
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET preserve_insertion_order = true")
        con.register("orders_src", orders_tbl)
        con.register("customers_src", customers_tbl)
        con.register("interactions_src", interactions_tbl)
        con.register("merchants_src", merchants_tbl)
        con.register("acq_src", acq_tbl)
        counts["merchants"] = _write_parquet(con, out, "merchants", "SELECT * FROM merchants_src")
        counts["customers"] = _write_parquet(
            con,
            out,
            "customers",
            f"""
            SELECT
              {_id_sql('cust', 'cust_var', 'C', 7)} AS customer_id,
              {_merchant_sql('merch', 'merch_var')} AS merchant_id,
              {_ts_sql('sec', 'ts_var', CUSTOMER_TS_INVALID)} AS registered_at,
              {_sql_list(CHANNELS)}[channel + 1] AS acquisition_channel,
              CASE WHEN fill_industry THEN {_sql_list(_M_INDUSTRY)}[merch + 1] END AS industry,
              CASE WHEN NOT mail_null THEN
                {_sql_list(_FIRST_NAMES)}[first + 1] || '.' || {_sql_list(_LAST_NAMES)}[last + 1]
                || mail_num::VARCHAR || '@' || {_sql_list(_EMAIL_DOMAINS)}[mail_dom + 1] END AS email,
              CASE WHEN phone_null THEN NULL
                   WHEN cur = 2 THEN printf('+44-20-7946-0%03d', phone_a)
                   WHEN cur = 1 THEN printf('+49-30-555-%03d-%04d', phone_a, phone_b)
                   ELSE printf('+1-555-%03d-%04d', phone_a, phone_b) END AS phone
            FROM customers_src
            """,
        )
        counts["orders"] = _write_parquet(
            con,
            out,
            "orders",
            f"""
            SELECT
              printf('O%010d', seq) AS order_id,
              {_id_sql('cust', 'cust_var', 'C', 7)} AS customer_id,
              {_merchant_sql('merch', 'merch_var')} AS merchant_id,
              {_ts_sql('sec', 'ts_var', ORDER_TS_INVALID)} AS ordered_at,
              amount,
              {_sql_list(ORDER_CURRENCIES)}[cur + 1] AS currency,
              {_sql_list(ORDER_STATUSES)}[status + 1] AS status,
              cost
            FROM orders_src
            """,
        )
        counts["interactions"] = _write_parquet(
            con,
            out,
            "interactions",
            f"""
            SELECT
              printf('I%010d', seq) AS interaction_id,
              {_id_sql('cust', 'cust_var', 'C', 7)} AS customer_id,
              {_sql_list(_M_IDS)}[merch + 1] AS merchant_id,
              {_ts_sql('sec', 'ts_var', INTERACTION_TS_INVALID)} AS occurred_at,
              {_sql_list(INTERACTION_TYPES)}[itype + 1] AS interaction_type,
              rating,
              CASE WHEN reason >= 0 THEN {_sql_list(REASONS)}[reason + 1] END AS reason
            FROM interactions_src
            """,
        )
        counts["acquisition_costs"] = _write_parquet(con, out, "acquisition_costs", "SELECT * FROM acq_src")
    finally:
        con.close()
    if counts["orders"] != n_orders:  # pragma: no cover - guards the calibration logic
        raise RuntimeError(f"wrote {counts['orders']} orders, expected {n_orders}")
    return {k: counts[k] for k in ("orders", "customers", "merchants", "interactions", "acquisition_costs")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.demo_data",
        description="Write deterministic synthetic raw data (orders, customers, merchants, "
        "interactions, acquisition costs) as Parquet files.",
    )
    parser.add_argument("--out", required=True, help="output directory (created if missing)")
    parser.add_argument("--orders", type=int, default=200_000, help="number of raw order rows (default 200000)")
    parser.add_argument("--end-date", default=None, help="last day of the data, YYYY-MM-DD (default: today UTC)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    try:
        end = _parse_end_date(args.end_date)
    except ValueError:
        parser.error(f"--end-date must be YYYY-MM-DD, got {args.end_date!r}")
    counts = generate(args.out, n_orders=args.orders, end_date=end, seed=args.seed)
    for name, n in counts.items():
        print(f"{name}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
