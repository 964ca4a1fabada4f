"""Simulate one chunk of holders: customers, relatives, policies, their transactions, activations, usage.

Everything is vectorised with numpy over the chunk. Dates are day numbers, timestamps seconds since
1970-01-01 (see ``days``). Each entity is simulated once over the whole period; every *version* of a row
carries the moment it was recorded, and a row goes to the first batch whose extract date is on or after
that moment (the last version per batch wins; later versions go to later batches; anything recorded after
the last extract date is not written). The result is one polars frame per extract file, in the contract's
column order plus a ``batch`` column (0 = the full load).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from vipwh import contract
from vipwh.generator import reference as ref
from vipwh.generator.days import DAY, NEVER, add_months, ymd

STREAMS = ("holders", "relatives", "policies", "events", "usage", "resend", "dirty")
POLICIES_PER_HOLDER = 32  # policy key = holder * 32 + j
TXNS_PER_POLICY = 64  # txn key = policy key * 64 + seq
USAGE_PER_HOLDER = 4096  # usage key = holder * 4096 + seq
_MODULUS = 10**12  # ids are 12 digits: an affine bijection of the key mod 10^12 (looks random, is unique)
SCRAMBLE = {
    "policy": (7_654_321, 104_729_000_013),
    "txn": (3_141_593, 271_828_182_845),
    "usage": (2_718_281, 161_803_398_874),
}
DIRTY_KEY_BASE = 900_000_000_000  # keys of invented rows (an id pointing nowhere) start here

CATEGORIES = contract.PRODUCT_CATEGORIES
CAT = {name: i for i, name in enumerate(CATEGORIES)}
MODE = {name: i for i, name in enumerate(contract.PAYMENT_MODES)}
INSTALLMENTS = np.array([1, 2, 4, 12, 1])
STATUS = {name: i for i, name in enumerate(contract.POLICY_STATUSES)}
TXN = {name: i for i, name in enumerate(contract.TXN_TYPES)}
# status a status event leaves the coverage in
STATUS_AFTER = {
    "free_look_cancel": "free_look_cancelled",
    "surrender": "surrendered",
    "lapse": "lapsed",
    "reinstate": "in_force",
    "reduced_paid_up": "reduced_paid_up",
    "premium_waiver": "premium_waived",
    "terminate": "terminated",
}
_STATUS_OF_TXN = np.full(len(contract.TXN_TYPES), -1)
for _txn, _status in STATUS_AFTER.items():
    _STATUS_OF_TXN[TXN[_txn]] = STATUS[_status]
SERVICE_CODES = tuple(ref.SERVICES)
SVC = {name: i for i, name in enumerate(SERVICE_CODES)}
VARIANTS = ("star2", "star3", "star4", "star5", "standard", "named_expert", "10y", "20y", "nursing", "cleaning")
VAR = {name: i for i, name in enumerate(VARIANTS)}
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_SERVICE_BOOKABLE = np.array([ref.SERVICES[c][1] for c in SERVICE_CODES])
_SERVICE_SCOPE = np.array([("", "rel", "one").index(ref.SERVICES[c][3]) for c in SERVICE_CODES])
_RELATIVE_SHARE = np.array([ref.RELATIVE_USE_SHARE[scope] for scope in ("", "rel", "one")])
_SERVICE_UNIT_COST = np.array([-1.0 if ref.SERVICES[c][2] is None else ref.SERVICES[c][2] for c in SERVICE_CODES])
_VARIANT_COST = np.array(
    [{**ref.CHECKUP_COST, **ref.CELL_STORAGE_COST, **ref.HOME_CARE_COST, **ref.OUTPATIENT_COST}[v] for v in VARIANTS],
    dtype=float,
)
VENDORS = tuple(dict.fromkeys(v for c in SERVICE_CODES for v in ref.SERVICES[c][4]))
_SERVICE_VENDORS = [np.array([VENDORS.index(v) for v in ref.SERVICES[c][4]]) for c in SERVICE_CODES]


@dataclass(frozen=True)
class Plan:
    """What the whole book looks like; the same for every chunk."""

    seed: int
    holders: int
    start: int  # day number of the first business day
    end: int  # day number of the last extract
    batch_days: tuple[int, ...]  # extract dates, ascending
    gb18030: bool = False

    @property
    def batches(self) -> int:
        return len(self.batch_days)

    def text(self, value: str) -> str:
        """A text literal as it must sit in a frame: written as UTF-8 by polars, it becomes GB18030 bytes
        once the writer maps each character back to one byte (``utf8_to_single_bytes``)."""
        return value.encode("gb18030").decode("latin-1") if self.gb18030 else value


# --- small vectorised helpers --------------------------------------------------------------------------


def _cum(probs: tuple[float, ...] | np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    c = np.cumsum(p / p.sum())
    c[-1] = 1.0
    return c


def _pick(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    return np.searchsorted(_cum(probs), rng.random(size), side="right")


def _pick_rows(rng: np.random.Generator, cum_table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element from the distribution in row ``rows[i]`` of a cumulative table."""
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for row in range(len(cum_table)):
        mask = rows == row
        out[mask] = np.searchsorted(cum_table[row], u[mask], side="right")
    return np.minimum(out, cum_table.shape[1] - 1)


def _rank(counts: np.ndarray) -> np.ndarray:
    """0..count-1 for every group of ``np.repeat(x, counts)``."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def _rank_sorted(keys: np.ndarray) -> np.ndarray:
    """Position inside runs of equal, adjacent keys."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.arange(n)
    starts = np.r_[True, keys[1:] != keys[:-1]]
    return idx - np.maximum.accumulate(np.where(starts, idx, 0))


def _days(rng: np.random.Generator, mean: float, size: int) -> np.ndarray:
    return np.ceil(rng.exponential(mean, size)).astype(np.int64)


def _waits(rng: np.random.Generator, rate_per_year: np.ndarray | float, size: int) -> np.ndarray:
    """Days until an event of the given yearly rate (NEVER where the rate is 0)."""
    rate = np.broadcast_to(np.asarray(rate_per_year, dtype=float), (size,))
    with np.errstate(divide="ignore"):
        scale = np.where(rate > 0, 365.25 / np.where(rate > 0, rate, 1), 0)
    wait = np.ceil(rng.exponential(1.0, size) * scale).astype(np.int64)
    return np.where(rate > 0, wait, NEVER)


def _clock(rng: np.random.Generator, size: int, first: int = 8, last: int = 21) -> np.ndarray:
    return rng.integers(first * 3600, last * 3600, size)


def _lag(rng: np.random.Generator, size: int) -> np.ndarray:
    """Days between an event's effective date and its recording (a few are weeks late)."""
    kind = _pick(rng, ref.RECORD_LAG_PROBS, size)
    return np.select(
        [kind == 0, kind == 1, kind == 2],
        [0, rng.integers(1, 4, size), rng.integers(4, 46, size)],
        rng.integers(46, 121, size),
    )


def scramble(kind: str, keys: np.ndarray) -> np.ndarray:
    """A 12-digit number per key: affine map, swap of the 6-digit halves, affine map (all bijective)."""
    mult, add = np.uint64(SCRAMBLE[kind][0]), np.uint64(SCRAMBLE[kind][1])
    modulus, half = np.uint64(_MODULUS), np.uint64(10**6)
    x = (np.asarray(keys).astype(np.uint64) * mult + add) % modulus
    x = (x % half) * half + x // half
    return (x * mult + add) % modulus


def ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    return prefix + pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)


def _masked(values: np.ndarray, valid: np.ndarray | None = None, arrow_type: pa.DataType | None = None) -> pl.Series:
    """A series of ``values``, null where ``valid`` is False (through Arrow: no copy, no expression)."""
    return pl.from_arrow(pa.array(values, type=arrow_type, mask=None if valid is None else ~valid))


def _date(days: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    return _masked(np.asarray(days, dtype=np.int32), valid, pa.date32())


def _timestamp(seconds: np.ndarray) -> pl.Series:
    return _masked(np.asarray(seconds, dtype=np.int64) * 1_000_000, None, pa.timestamp("us"))


def _money(cents: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    return _masked(np.asarray(cents, dtype=np.int64) / 100, valid).cast(pl.Decimal(18, 2))


def _int(values: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    return _masked(np.asarray(values, dtype=np.int64), valid)


def _gather(series: pl.Series, index: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """``series[index]``, null where ``valid`` is False."""
    return series.gather(_masked(np.asarray(index, dtype=np.int64), valid))


def _codes(vocabulary: tuple[str, ...], index: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    return _gather(pl.Series(vocabulary, dtype=pl.Enum(list(dict.fromkeys(vocabulary)))), index, valid)


# --- the chunk -----------------------------------------------------------------------------------------


class Chunk:
    """Holders ``lo``..``hi-1`` (0-based; holder_id = index + 1) of the book."""

    def __init__(self, plan: Plan, chunk_no: int, lo: int, hi: int):
        self.plan = plan
        self.n = hi - lo
        self.holder = np.arange(lo, hi, dtype=np.int64)
        self.rng = {name: np.random.default_rng([plan.seed, chunk_no, i]) for i, name in enumerate(STREAMS)}
        self.batch_days = np.asarray(plan.batch_days, dtype=np.int64)

    def run(self) -> dict[str, pl.DataFrame]:
        self._holders()
        self._policies()
        self._customers_recorded()
        self._relatives()
        self._insured()
        self._status_events()
        self._coverages()
        self._premium_events()
        self._transactions()
        self._timeline()
        self._activations()
        self._usage()
        return {
            "customers.csv": self._customers_frame(),
            "policies.csv": self._policies_frame(),
            "policy_transactions.csv": self._transactions_frame(),
            "relatives.csv": self._relatives_frame(),
            "service_activations.csv": self._activations_frame(),
            "service_usage.csv": self._usage_frame(),
        }

    # -- which batch a version lands in ------------------------------------------------------------------

    def _batch_of(self, seconds: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.batch_days, np.floor_divide(seconds, DAY), side="left")

    def _emit(self, keys: np.ndarray, seconds: np.ndarray, resend: float) -> tuple[np.ndarray, np.ndarray]:
        """Rows to write as (version index, batch): each key's last version in each batch, plus a few
        unchanged rows resent in a later batch (probability ``resend`` per later batch)."""
        base = int(seconds.min()) if len(seconds) else 0
        offset = np.minimum(seconds - base, 2**32 - 1)  # anything that far out is after the last batch
        order = np.argsort(keys.astype(np.int64) << 32 | offset, kind="stable")  # keys are chunk-local
        keys = keys[order]
        batch = self._batch_of(seconds[order])
        k_count = self.plan.batches
        last = np.r_[(keys[1:] != keys[:-1]) | (batch[1:] != batch[:-1]), True] & (batch < k_count)
        rows, batch, keys = order[last], batch[last], keys[last]
        following = np.where(np.r_[keys[1:] == keys[:-1], False], np.r_[batch[1:], k_count], k_count)
        gap = following - batch - 1
        rng = self.rng["resend"]
        again = (gap > 0) & (rng.random(len(rows)) < 1 - (1 - resend) ** np.maximum(gap, 0))
        later = batch[again] + 1 + np.floor(rng.random(int(again.sum())) * gap[again]).astype(np.int64)
        rows = np.r_[rows, rows[again]]
        batch = np.r_[batch, later]
        keys = np.r_[keys, keys[again]]
        final = np.argsort(batch.astype(np.int64) << 40 | keys, kind="stable")
        return rows[final], batch[final]

    # -- holders -----------------------------------------------------------------------------------------

    def _holders(self) -> None:
        rng, n, plan = self.rng["holders"], self.n, self.plan
        span = plan.end - plan.start + 1
        self.t0 = plan.start + np.floor(span * rng.random(n) ** 0.85).astype(np.int64)  # first purchase
        self.female = rng.random(n) < 0.55
        age = np.clip(rng.normal(40, 10, n), 18, 75)
        self.birth = self.t0 - np.floor(age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
        self.z = rng.standard_normal(n)  # wealth: premiums scale with exp(0.85 z)
        self.wealth = np.exp(0.85 * self.z)
        cities = [
            (p_i, c_i, weight * c_weight)
            for p_i, (_, _, weight, cities) in enumerate(ref.PROVINCES)
            for c_i, (_, c_weight) in enumerate(cities)
        ]
        self.city_province = np.array([c[0] for c in cities])
        city_weight = np.array([c[2] for c in cities])
        self.city = _pick(rng, city_weight, n)
        province = self.city_province[self.city]
        # national id: a real province, a prefecture code (99) no real area uses, birth date, sequence
        # (odd = male), ISO 7064 check digit: well-formed, never a real person's
        province_weight = np.array([p[2] for p in ref.PROVINCES])
        home = np.where(rng.random(n) < 0.85, province, _pick(rng, province_weight, n))
        area = np.array([p[1] for p in ref.PROVINCES])[home] * 10_000 + 9_900 + rng.integers(1, 100, n)
        sex_digit = rng.integers(0, 5, n) * 2 + np.where(self.female, 0, 1)
        first17 = area * 10**11 + ymd(self.birth) * 1000 + rng.integers(0, 100, n) * 10 + sex_digit
        total = np.zeros(n, dtype=np.int64)
        for i in range(17):
            total += (first17 // 10 ** (16 - i)) % 10 * _ID_WEIGHTS[i]
        self.id_number = pl.Series(first17).cast(pl.String) + pl.Series(list("10X98765432")).gather(total % 11)
        # a few holders move to another city later
        self.moves = rng.random(n) < 0.03
        self.new_city = _pick(rng, city_weight, n)
        self.move_u = rng.random(n)

    # -- policies (main coverages) ---------------------------------------------------------------------

    def _policies(self) -> None:
        rng, plan = self.rng["policies"], self.plan
        n = self.n
        purchases = 1 + np.minimum(rng.poisson(0.55 * np.exp(0.25 * self.z)), 5)
        pur_holder = np.repeat(np.arange(n), purchases)
        pur_rank = _rank(purchases)
        gap = np.where(pur_rank == 0, 0, _days(rng, 400, len(pur_holder)))
        run = np.cumsum(gap)
        starts = np.cumsum(purchases) - purchases
        pur_day = self.t0[pur_holder] + run - np.repeat(run[starts], purchases)
        keep = pur_day <= plan.end
        pur_holder, pur_day = pur_holder[keep], pur_day[keep]
        m = len(pur_holder)
        band = np.digitize(self.z, [0.0, 1.3])[pur_holder]
        mix = np.array([[ref.CATEGORY_MIX[c][b] for c in CATEGORIES] for b in range(3)])
        cat = _pick_rows(rng, np.vstack([_cum(row) for row in mix]), band)
        short = (cat == CAT["medical"]) | (cat == CAT["accident"])
        group = short & (rng.random(m) < ref.GROUP_SHARE)
        sub = (cat == CAT["accident"]) & ~group & (rng.random(m) < ref.SUB_YEAR_ACCIDENT_SHARE)
        renew_p = np.where(
            group,
            ref.RENEWAL_PROB["group"],
            np.where(cat == CAT["medical"], ref.RENEWAL_PROB["medical"], ref.RENEWAL_PROB["accident"]),
        )
        renewals = np.where(short & ~sub, np.minimum(rng.geometric(1 - renew_p) - 1, ref.MAX_RENEWALS), 0)
        # one policy per purchase and per yearly renewal of a one-year product
        src = np.repeat(np.arange(m), 1 + renewals)
        eff = add_months(pur_day[src], 12 * _rank(1 + renewals))
        keep = eff <= plan.end
        src, eff = src[keep], eff[keep]
        h = pur_holder[src]
        j = _rank_sorted(h)
        keep = j < POLICIES_PER_HOLDER
        src, eff, h, j = src[keep], eff[keep], h[keep], j[keep]
        p = len(src)
        self.p_holder, self.p_j, self.p_eff = h, j, eff
        self.p_cat, self.p_group, self.p_sub = cat[src], group[src], sub[src]
        self.p_key = self.holder[h] * POLICIES_PER_HOLDER + j
        cat = self.p_cat
        one_year = short[src] & ~self.p_sub
        wealth = self.wealth[h]
        # coverage term
        term = np.zeros(p, dtype=np.int64)
        for name, (options, probs) in ref.TERM_MONTHS.items():
            mask = cat == CAT[name]
            term[mask] = np.asarray(options)[_pick(rng, probs, int(mask.sum()))]
        term[one_year] = 12
        term[self.p_sub] = np.where(rng.random(int(self.p_sub.sum())) < 0.7, 6, 3)
        # premium (annualised) and payment
        median = np.array([ref.ANNUAL_PREMIUM[c][0] for c in CATEGORIES], dtype=float)[cat]
        sigma = np.array([ref.ANNUAL_PREMIUM[c][1] for c in CATEGORIES])[cat]
        annual = median * np.exp(sigma * rng.standard_normal(p)) * np.where(one_year, wealth**0.3, wealth)
        annual = np.where(self.p_group, annual * 0.6, annual)
        annual = np.where(self.p_sub, 60 * np.exp(0.5 * rng.standard_normal(p)), annual)
        round_k = (annual >= 10_000) & (rng.random(p) < 0.5)
        annual = np.where(
            round_k, np.round(annual, -3), np.where(one_year | self.p_sub, np.round(annual), np.round(annual, -1))
        )
        annual = np.maximum(annual, 10)
        single_share = np.array([ref.SINGLE_PREMIUM.get(c, (0.0, 0, 0))[0] for c in CATEGORIES])[cat]
        single_median = np.array([ref.SINGLE_PREMIUM.get(c, (0, 1, 0))[1] for c in CATEGORIES], dtype=float)[cat]
        single_sigma = np.array([ref.SINGLE_PREMIUM.get(c, (0, 0, 1.0))[2] for c in CATEGORIES])[cat]
        long_term = ~one_year & ~self.p_sub
        single = long_term & (rng.random(p) < single_share)
        lump = single_median * np.exp(single_sigma * rng.standard_normal(p)) * wealth
        lump = np.where((lump >= 200_000) & (rng.random(p) < 0.7), np.round(lump, -4), np.round(lump, -3))
        lump = np.maximum(lump, 10_000)
        u = rng.random(p)
        mode = np.full(p, MODE["annual"])
        monthly_p = np.where(annual < 3_000, 0.35, np.where(annual < 10_000, 0.12, 0.03))
        mode = np.where(long_term & (u < monthly_p), MODE["monthly"], mode)
        mode = np.where(long_term & (u >= monthly_p) & (u < monthly_p + 0.05), MODE["quarterly"], mode)
        mode = np.where(long_term & (u >= monthly_p + 0.05) & (u < monthly_p + 0.08), MODE["semi_annual"], mode)
        short_single_p = np.where(cat == CAT["accident"], 0.3, 0.1)
        mode = np.where(one_year & (u < short_single_p), MODE["single"], mode)
        mode = np.where(one_year & (u >= short_single_p) & (u < short_single_p + 0.35), MODE["monthly"], mode)
        mode = np.where(self.p_group, MODE["annual"], mode)
        mode = np.where(single | self.p_sub, MODE["single"], mode)
        regular = mode != MODE["single"]
        self.p_mode = mode
        self.p_term = term
        modal = np.where(single, lump, np.where(regular, annual / INSTALLMENTS[mode], annual))
        self.p_modal_c = np.round(modal * 100).astype(np.int64)
        # payment years
        years = np.zeros(p, dtype=np.int64)
        for name, (options, probs) in ref.PAYMENT_YEARS.items():
            mask = (cat == CAT[name]) & long_term & regular
            years[mask] = np.asarray(options)[_pick(rng, probs, int(mask.sum()))]
        allowed = np.asarray(ref.ALLOWED_PAYMENT_YEARS)
        cap = allowed[np.maximum(np.searchsorted(allowed, term // 12, side="right") - 1, 0)]
        years = np.where((term > 0) & (years * 12 > term), cap, years)
        years[one_year & regular] = 1
        self.p_years = years
        # free look
        has_fl = np.where(long_term, rng.random(p) < 0.96, one_year & (rng.random(p) < 0.25)) & ~self.p_group
        self.p_fl = np.where(has_fl, eff + ref.FREE_LOOK_DAYS, -1)
        self.p_start = np.where(has_fl, eff + ref.FREE_LOOK_DAYS + 1, eff)  # counts from
        self.p_term_end = np.where(term > 0, add_months(eff, term), NEVER)
        self.p_pay_end = np.where(long_term & regular, add_months(eff, 12 * years), NEVER)
        slot = np.where(self.p_group, 4, rng.integers(0, ref.PRODUCTS_PER_CATEGORY, p))
        self.p_product = cat * 8 + slot
        self.p_long, self.p_one_year, self.p_regular = long_term, one_year, regular
        # recorded: the day before or on the effective date; a few later policies are keyed in late
        kind = rng.random(p)
        day = np.where(kind < 0.55, eff - 1, np.where((kind < 0.97) | (j == 0), eff, eff + rng.integers(2, 31, p)))
        self.p_nb_ts = day * DAY + _clock(rng, p, 9, 20)

    def _customers_recorded(self) -> None:
        starts = np.r_[0, np.flatnonzero(self.p_holder[1:] != self.p_holder[:-1]) + 1]
        self.cust_ts = np.minimum.reduceat(self.p_nb_ts, starts)

    # -- relatives and the insured -----------------------------------------------------------------------

    def _relatives(self) -> None:
        rng, n = self.rng["relatives"], self.n
        spouse = (rng.random(n) < ref.SPOUSE_PROB).astype(np.int64)
        children = _pick(rng, ref.CHILDREN_PROBS, n)
        parents = _pick(rng, ref.PARENTS_PROBS, n)
        other = (rng.random(n) < ref.OTHER_RELATIVE_PROB).astype(np.int64)
        count = spouse + children + parents + other
        h = np.repeat(np.arange(n), count)
        k = _rank(count)
        rel = contract.RELATIONS
        relation = np.select(
            [k < spouse[h], k < (spouse + children)[h], k < (spouse + children + parents)[h]],
            [rel.index("spouse"), rel.index("child"), rel.index("parent")],
            rel.index("other"),
        )
        m = len(h)
        at_join = rng.random(m) < ref.RELATIVE_AT_JOIN_PROB
        later = (self.cust_ts[h] // DAY + 1 + _days(rng, ref.RELATIVE_LATER_MEAN_DAYS, m)) * DAY + _clock(rng, m)
        self.r_holder, self.r_k, self.r_relation = h, k, relation
        self.r_ts = np.where(at_join, self.cust_ts[h] + rng.integers(30, 1800, m), later)
        self.r_count = count
        self.r_first = np.cumsum(count) - count
        self.holder_ids = ids("H", self.holder + 1, 8)
        self.relative_ids = ids("R", (self.holder[h] + 1) * 10 + k, 10)

    def _pick_relative(
        self, rng: np.random.Generator, holder: np.ndarray, by_ts: np.ndarray, first_prob: float | np.ndarray = 0.0
    ) -> np.ndarray:
        """A relative row of each holder already recorded at ``by_ts`` (-1 when there is none)."""
        count = self.r_count[holder]
        k = np.floor(rng.random(len(holder)) * count).astype(np.int64)
        k = np.where(rng.random(len(holder)) < first_prob, 0, k)
        if len(self.r_ts) == 0:
            return np.full(len(holder), -1)
        row = np.minimum(self.r_first[holder] + k, len(self.r_ts) - 1)
        return np.where((count > 0) & (self.r_ts[row] <= by_ts), row, -1)

    def _insured(self) -> None:
        rng = self.rng["policies"]
        p = len(self.p_holder)
        other = ~self.p_group & (rng.random(p) < 0.35)
        row = self._pick_relative(rng, self.p_holder, self.p_nb_ts)
        self.p_insured = np.where(other, row, -1)

    # -- status events (one chain per policy) --------------------------------------------------------------

    def _status_events(self) -> None:
        rng, plan = self.rng["events"], self.plan
        p = len(self.p_holder)
        eff, start, term_end, pay_end = self.p_eff, self.p_start, self.p_term_end, self.p_pay_end
        long_term, regular, cat = self.p_long, self.p_regular, self.p_cat
        bank = np.isin(cat, [CAT[c] for c in ref.BANK_CATEGORIES])
        can_cancel = ~self.p_group & ~self.p_sub
        flc_p = np.where(
            long_term,
            np.where(bank, ref.FREE_LOOK_CANCEL["bank"], ref.FREE_LOOK_CANCEL["long"]),
            ref.FREE_LOOK_CANCEL["short"],
        )
        has_fl = self.p_fl >= 0
        flc = can_cancel & (rng.random(p) < flc_p)
        flc_day = np.where(has_fl, eff + rng.integers(1, ref.FREE_LOOK_DAYS + 1, p), eff + rng.integers(1, 11, p))
        late = has_fl & (rng.random(p) < 0.04)  # a cancellation dated after the free look: reported
        flc_day = np.where(late, self.p_fl + rng.integers(1, 21, p), flc_day)
        flc &= flc_day <= plan.end
        # competing risks after the free look
        surrender_rate = np.where(
            long_term,
            np.where(regular, ref.SURRENDER_RATE["long"], ref.SURRENDER_RATE["single"]),
            ref.SURRENDER_RATE["short"],
        )
        lapse_rate = np.where(
            regular & (long_term | (self.p_mode == MODE["monthly"])),
            np.where(self.p_mode == MODE["annual"], ref.LAPSE_RATE["annual"], ref.LAPSE_RATE["frequent"]),
            0.0,
        )
        t_surrender = start + _waits(rng, surrender_rate, p)
        t_lapse = start + _waits(rng, lapse_rate, p)
        t_lapse = np.where(t_lapse < pay_end, t_lapse, NEVER)
        long_regular = long_term & regular
        t_rpu = eff + 730 + _waits(rng, np.where(long_regular, ref.REDUCED_PAID_UP_RATE, 0.0), p)
        t_rpu = np.where(t_rpu < pay_end, t_rpu, NEVER)
        t_waiver = start + _waits(rng, np.where(long_regular, ref.PREMIUM_WAIVER_RATE, 0.0), p)
        t_waiver = np.where(t_waiver < pay_end, t_waiver, NEVER)
        t_death = start + _waits(rng, ref.DEATH_RATE, p)
        mature_p = np.where(long_term, ref.MATURITY_TERMINATE_PROB["long"], ref.MATURITY_TERMINATE_PROB["short"])
        t_mature = np.where((term_end <= plan.end) & (rng.random(p) < mature_p), term_end, NEVER)
        risks = np.vstack([t_surrender, t_lapse, t_rpu, t_waiver, t_death])
        risks = np.where(risks < term_end, risks, NEVER)
        candidates = np.vstack([risks, t_mature])
        kinds = np.array(
            [
                TXN["surrender"],
                TXN["lapse"],
                TXN["reduced_paid_up"],
                TXN["premium_waiver"],
                TXN["terminate"],
                TXN["terminate"],
            ]
        )
        first = candidates.argmin(axis=0)
        t1 = candidates[first, np.arange(p)]
        type1 = np.where(t1 <= plan.end, kinds[first], -1)
        type1 = np.where(flc, TXN["free_look_cancel"], type1)
        t1 = np.where(flc, flc_day, t1)
        # second event: a lapse is reinstated or, two years on, terminated; a paid-up or waived policy matures
        u = rng.random(p)
        lapsed = type1 == TXN["lapse"]
        t_reinstate = t1 + rng.integers(30, 701, p)
        reinstate = lapsed & (u < ref.REINSTATE_PROB) & (t_reinstate <= plan.end) & (t_reinstate < term_end)
        t_dead = t1 + 730
        dead = lapsed & ~reinstate & (u >= 1 - ref.PERMANENT_LAPSE_PROB) & (t_dead <= plan.end) & (t_dead < term_end)
        matures = np.isin(type1, [TXN["reduced_paid_up"], TXN["premium_waiver"]]) & (t_mature < NEVER) & (t_mature > t1)
        type2 = np.select([reinstate, dead, matures], [TXN["reinstate"], TXN["terminate"], TXN["terminate"]], -1)
        t2 = np.select([reinstate, dead, matures], [t_reinstate, t_dead, t_mature], NEVER)
        # third: a reinstated policy is surrendered or matures
        t_again = t2 + _days(rng, 500, p)
        t_again = np.where((rng.random(p) < ref.SURRENDER_AFTER_REINSTATE_PROB) & (t_again < term_end), t_again, NEVER)
        again = type2 == TXN["reinstate"]
        t3 = np.where(again, np.minimum(t_again, np.where(t_mature > t2, t_mature, NEVER)), NEVER)
        type3 = np.where(again & (t3 <= plan.end), np.where(t3 == t_again, TXN["surrender"], TXN["terminate"]), -1)
        self.p_chain = [(type1, t1), (type2, t2), (type3, t3)]
        self.p_first_status = np.where(type1 >= 0, t1, NEVER)

    # -- riders -----------------------------------------------------------------------------------------

    def _coverages(self) -> None:
        rng, plan = self.rng["policies"], self.plan
        p = len(self.p_holder)
        can_ride = self.p_long & self.p_regular & ~self.p_group
        riders = np.where(can_ride, _pick(rng, ref.RIDER_COUNT_PROBS, p), 0)
        # a rider added later (add_rider), before any status event
        add_day = self.p_eff + rng.integers(90, 1101, p)
        added = (
            can_ride & (rng.random(p) < ref.ADD_RIDER_PROB) & (add_day <= plan.end) & (add_day < self.p_first_status)
        )
        pol = np.r_[np.arange(p), np.repeat(np.arange(p), riders), np.flatnonzero(added)]
        cov_no = np.r_[np.zeros(p, dtype=np.int64), _rank(riders) + 1, riders[added] + 1]
        c = len(pol)
        kind = np.r_[
            np.zeros(p, dtype=np.int64), np.ones(int(riders.sum()), dtype=np.int64), np.full(int(added.sum()), 2)
        ]  # 0 main, 1 rider, 2 added rider
        is_rider = kind > 0
        r_cat = np.array([CAT[x] for x in ref.RIDER_CATEGORIES])[_pick(rng, ref.RIDER_CATEGORY_PROBS, c)]
        cat = np.where(is_rider, r_cat, self.p_cat[pol])
        eff = np.where(kind == 2, add_day[pol], self.p_eff[pol])
        main_term = self.p_term[pol]
        elapsed = (eff - self.p_eff[pol]) * 12 // 365
        long_term_rider = np.where(main_term > 0, np.maximum(12 * ((main_term - elapsed) // 12), 24), 0)
        short_rider = (cat == CAT["medical"]) | ((cat == CAT["accident"]) & (rng.random(c) < 0.5))
        term = np.where(is_rider, np.where(short_rider, 12, long_term_rider), main_term)
        allowed = np.asarray(ref.ALLOWED_PAYMENT_YEARS)
        main_years = self.p_years[pol]
        fit = allowed[np.maximum(np.searchsorted(allowed, np.where(term > 0, term // 12, 99), side="right") - 1, 0)]
        years = np.where(is_rider, np.where(term == 12, 1, np.minimum(main_years, fit)), main_years)
        mode = self.p_mode[pol]
        r_annual = np.array(
            [ref.RIDER_ANNUAL_PREMIUM.get(CATEGORIES[i], 300) for i in range(len(CATEGORIES))], dtype=float
        )[cat]
        r_annual = np.maximum(
            np.round(r_annual * np.exp(0.5 * rng.standard_normal(c)) * self.wealth[self.p_holder[pol]] ** 0.5), 20
        )
        r_modal_c = np.round(r_annual * 100 / INSTALLMENTS[mode]).astype(np.int64)
        modal_c = np.where(is_rider, r_modal_c, self.p_modal_c[pol])
        fl = np.where(
            kind == 0,
            self.p_fl[pol],
            np.where(kind == 1, self.p_fl[pol], np.where(rng.random(c) < 0.7, eff + ref.FREE_LOOK_DAYS, -1)),
        )
        product = np.where(is_rider, cat * 8 + 5 + rng.integers(0, 3, c), self.p_product[pol])
        insured = np.where(is_rider & (cat == CAT["other"]), -1, self.p_insured[pol])
        add_ts = np.where(rng.random(c) < 0.5, eff - 1, eff) * DAY + _clock(rng, c, 9, 20)
        nb_ts = np.where(kind == 2, np.maximum(add_ts, self.p_nb_ts[pol] + 60), self.p_nb_ts[pol] + cov_no)
        order = np.lexsort((cov_no, pol))
        self.c_pol, self.c_no, self.c_kind, self.c_cat = pol[order], cov_no[order], kind[order], cat[order]
        self.c_eff, self.c_term, self.c_years, self.c_mode = eff[order], term[order], years[order], mode[order]
        self.c_modal_c, self.c_fl, self.c_product = modal_c[order], fl[order], product[order]
        self.c_insured, self.c_nb_ts = insured[order], nb_ts[order]
        self.c_group = self.p_group[self.c_pol]
        self.c_start = np.where(self.c_fl >= 0, self.c_fl + 1, self.c_eff)
        self.c_term_end = np.where(self.c_term > 0, add_months(self.c_eff, self.c_term), NEVER)
        regular = self.c_mode != MODE["single"]
        self.c_regular = regular
        self.c_pay_end = np.where(regular & (self.c_years > 0), add_months(self.c_eff, 12 * self.c_years), NEVER)
        self.p_coverages = np.bincount(self.c_pol, minlength=p)
        self.p_first_cov = np.cumsum(self.p_coverages) - self.p_coverages

    # -- premium changes and top-ups ----------------------------------------------------------------------

    def _premium_events(self) -> None:
        rng, plan = self.rng["events"], self.plan
        c = len(self.c_pol)
        eligible = self.c_regular & ~self.c_group & ((self.c_term == 0) | (self.c_term > 12))
        lo = self.c_start + 30
        stop = np.minimum(np.minimum(self.p_first_status[self.c_pol], self.c_pay_end), plan.end + 1)
        span = stop - lo
        chance = 1 - np.exp(-ref.PREMIUM_CHANGE_RATE * np.maximum(span, 0) / 365.25)
        has = eligible & (span > 0) & (rng.random(c) < chance)
        day = lo + np.floor(rng.random(c) * np.maximum(span, 1)).astype(np.int64)
        add = rng.random(c) < 0.5
        factor = np.where(add, rng.uniform(1.2, 2.0, c), rng.uniform(0.4, 0.9, c))
        after_c = np.round(self.c_modal_c * factor).astype(np.int64)
        ts = np.maximum((day + _lag(rng, c)) * DAY + _clock(rng, c), self.c_nb_ts + 60)
        idx = np.flatnonzero(has)
        self.pe_cov, self.pe_day, self.pe_ts = idx, day[idx], ts[idx]
        self.pe_type = np.where(add[idx], TXN["add_coverage"], TXN["reduce_coverage"])
        self.pe_after_c = after_c[idx]
        # top-ups on the main coverage of investment-type policies
        main = self.c_kind == 0
        rate = np.zeros(c)
        for name, value in ref.TOP_UP_RATE.items():
            rate[main & (self.c_cat == CAT[name]) & ~self.c_group] = value
        stop = np.minimum(self.p_first_status[self.c_pol], plan.end + 1)
        span = np.maximum(stop - self.c_eff, 0)
        count = np.minimum(rng.poisson(rate * span / 365.25), 8)
        cov = np.repeat(np.arange(c), count)
        t = len(cov)
        day = self.c_eff[cov] + np.floor(rng.random(t) * span[cov]).astype(np.int64)
        wealth = self.wealth[self.p_holder[self.c_pol[cov]]]
        amount = np.maximum(np.round(ref.TOP_UP_MEDIAN * np.exp(0.9 * rng.standard_normal(t)) * wealth**0.7, -2), 1_000)
        self.tu_cov, self.tu_day, self.tu_rank = cov, day, _rank(count)
        self.tu_amount_c = np.round(amount * 100).astype(np.int64)
        self.tu_ts = np.maximum((day + _lag(rng, t)) * DAY + _clock(rng, t), self.c_nb_ts[cov] + 60)

    # -- the transaction log and the policy snapshots ------------------------------------------------------

    def _transactions(self) -> None:
        rng = self.rng["events"]
        c = len(self.c_pol)
        parts = []  # (policy, coverage_no (-1 none), type, day, premium_after_c (-1), amount_c (-1), ts, seq)
        none = np.full(c, -1)
        parts.append(
            (
                self.c_pol,
                self.c_no,
                np.full(c, TXN["new_business"]),
                self.c_eff,
                self.c_modal_c,
                none,
                self.c_nb_ts,
                self.c_no,
            )
        )
        added = np.flatnonzero(self.c_kind == 2)
        parts.append(
            (
                self.c_pol[added],
                self.c_no[added],
                np.full(len(added), TXN["add_rider"]),
                self.c_eff[added],
                none[added],
                none[added],
                self.c_nb_ts[added] - 1,
                np.full(len(added), 6),
            )
        )
        # status events: whole policy (no coverage) unless the policy is a lone main coverage, then
        # sometimes coverage 0
        lone = self.p_coverages == 1
        prev_ts = self.p_nb_ts.copy()
        self.status_rows = []
        for slot, (kind, day) in enumerate(self.p_chain):
            pol = np.flatnonzero(kind >= 0)
            ts = np.maximum((day[pol] + _lag(rng, len(pol))) * DAY + _clock(rng, len(pol)), prev_ts[pol] + 60)
            prev_ts[pol] = ts
            cov_no = np.where(lone[pol] & (rng.random(len(pol)) < 0.3), 0, -1)
            parts.append(
                (
                    pol,
                    cov_no,
                    kind[pol],
                    day[pol],
                    np.full(len(pol), -1),
                    np.full(len(pol), -1),
                    ts,
                    8 + slot + np.zeros(len(pol), dtype=np.int64),
                )
            )
            self.status_rows.append((pol, kind[pol], day[pol], ts))
        cov_none = (self.c_no == 0) & (rng.random(c) < 0.01)  # a premium change naming no coverage
        pe = self.pe_cov
        parts.append(
            (
                self.c_pol[pe],
                np.where(cov_none[pe], -1, self.c_no[pe]),
                self.pe_type,
                self.pe_day,
                self.pe_after_c,
                np.full(len(pe), -1),
                self.pe_ts,
                16 + self.c_no[pe],
            )
        )
        tu = self.tu_cov
        parts.append(
            (
                self.c_pol[tu],
                np.where(cov_none[tu], -1, 0),
                np.full(len(tu), TXN["top_up"]),
                self.tu_day,
                np.full(len(tu), -1),
                self.tu_amount_c,
                self.tu_ts,
                24 + self.tu_rank,
            )
        )
        cols = [np.concatenate([part[i] for part in parts]).astype(np.int64) for i in range(8)]
        by_time = np.argsort(cols[6], kind="stable")  # the log in recording order
        cols = [col[by_time] for col in cols]
        self.t_pol, self.t_cov, self.t_type, self.t_day, self.t_after_c, self.t_amount_c, self.t_ts, seq = cols
        self.t_key = self.p_key[self.t_pol] * TXNS_PER_POLICY + seq

    # -- rated premium and programme membership over time (for usage) -------------------------------------

    def _timeline(self) -> None:
        plan = self.plan
        (type1, t1), (type2, t2), (type3, t3) = self.p_chain
        stops_rating = np.isin(
            type1, [TXN[t] for t in ("surrender", "lapse", "reduced_paid_up", "premium_waiver", "terminate")]
        )
        stops_member = np.isin(type1, [TXN[t] for t in ("surrender", "lapse", "terminate")])
        void = type1 == TXN["free_look_cancel"]
        first_stop = np.where(stops_rating, t1, NEVER)
        member_stop = np.where(stops_member, t1, np.where(stops_rating & (type2 == TXN["terminate"]), t2, NEVER))
        back = type2 == TXN["reinstate"]
        back_stop = np.where(type3 >= 0, t3, NEVER)
        pol = self.c_pol
        counts = ~self.c_group & ((self.c_term == 0) | (self.c_term >= 12)) & ~void[pol]
        inst = INSTALLMENTS[self.c_mode]
        annual = self.c_modal_c / 100 * inst
        single = ~self.c_regular
        one_year = self.c_term == 12
        coef_single = np.select(
            [np.isin(self.c_cat, [CAT["endowment"], CAT["participating"]]), self.c_cat == CAT["universal"]],
            [0.03, 0.02],
            0.1,
        )
        coef = np.where(one_year, 1.0, np.where(single, coef_single, np.minimum(self.c_years, 10) / 10))
        base = np.where(single & ~one_year, self.c_modal_c / 100, annual)
        until = np.where(
            one_year, add_months(self.c_eff, 12), np.where(single, add_months(self.c_start, 24), self.c_pay_end)
        )
        until = np.minimum(until, self.c_term_end)
        holder = self.p_holder[pol]
        windows = [  # (holder, from, until, rated amount, member flag)
            (holder, self.c_start, np.minimum(until, first_stop[pol]), base * coef, counts),
            (
                holder,
                np.where(back[pol], t2[pol], NEVER),
                np.minimum(until, back_stop[pol]),
                base * coef,
                counts & back[pol],
            ),
            (holder, self.c_start, np.minimum(self.c_term_end, member_stop[pol]), 0.0 * base, counts),
            (
                holder,
                np.where(back[pol], t2[pol], NEVER),
                np.minimum(self.c_term_end, back_stop[pol]),
                0.0 * base,
                counts & back[pol],
            ),
        ]
        tu = self.tu_cov
        tu_start = np.maximum(self.tu_day, self.c_start[tu])
        windows.append(
            (
                holder[tu],
                tu_start,
                np.minimum(np.minimum(add_months(self.tu_day, 24), first_stop[pol[tu]]), self.c_term_end[tu]),
                self.tu_amount_c / 100 * coef_single[tu],
                counts[tu],
            )
        )
        hs, days, amounts, members = [], [], [], []
        for i, (h, lo, hi, amount, ok) in enumerate(windows):
            ok = ok & (lo < hi)
            is_member = 1 if i in (2, 3) else 0
            cents = np.round(amount[ok] * 100).astype(np.int64) * (1 - is_member)
            hs += [h[ok], h[ok]]
            days += [lo[ok], hi[ok]]
            amounts += [cents, -cents]
            members += [np.full(int(ok.sum()), is_member), np.full(int(ok.sum()), -is_member)]
        h, day = np.concatenate(hs), np.concatenate(days)
        order = np.argsort((h << 32) | day, kind="stable")
        h, day = h[order], day[order]
        # every window adds and removes the same amount, so a running sum over all holders restarts at
        # zero with each holder; the last change of each (holder, day) is the state from that day on
        rated = np.cumsum(np.concatenate(amounts)[order])
        members = np.cumsum(np.concatenate(members)[order])
        last = np.r_[(h[1:] != h[:-1]) | (day[1:] != day[:-1]), True]
        h, day, rated, members = h[last], day[last], rated[last], members[last]
        following = np.where(np.r_[h[1:] == h[:-1], False], np.r_[day[1:], NEVER], NEVER)
        horizon = plan.end + ref.USAGE_HORIZON_DAYS
        keep = (members > 0) & (day <= horizon)
        self.s_holder, self.s_from = h[keep], day[keep]
        self.s_until = np.minimum(following[keep], horizon + 1)
        thresholds_c = np.asarray(ref.TIER_THRESHOLDS, dtype=np.int64) * 100
        self.s_tier = np.searchsorted(thresholds_c, rated[keep], side="right")

    # -- activations and usage ---------------------------------------------------------------------------

    def _activations(self) -> None:
        rng, plan, n = self.rng["usage"], self.plan, self.n
        # first day each holder reached each tier rank
        reach = np.full((6, n), NEVER, dtype=np.int64)
        for rank in range(6):
            sel = self.s_tier >= rank
            np.minimum.at(reach[rank], self.s_holder[sel], self.s_from[sel])
        hs, svcs, days = [], [], []
        for s, code in enumerate(SERVICE_CODES):
            rates = ref.SERVICES[code][0]
            min_rank = next(i for i, r in enumerate(rates) if r > 0)
            kind = (
                "waiting" if code in ref.WAITING_SERVICES else ("digital" if code in ref.DIGITAL_SERVICES else "other")
            )
            day = reach[min_rank] + _days(rng, 40, n)
            ok = (reach[min_rank] < NEVER) & (rng.random(n) < ref.ACTIVATION_PROB[kind]) & (day <= plan.end)
            hs.append(np.flatnonzero(ok))
            svcs.append(np.full(int(ok.sum()), s))
            days.append(day[ok])
        holder, service, day = np.concatenate(hs), np.concatenate(svcs), np.concatenate(days)
        order = np.lexsort((service, holder))
        self.a_holder, self.a_service, self.a_day = holder[order], service[order], day[order]
        self.a_lookup = np.full((n, len(SERVICE_CODES)), NEVER, dtype=np.int64)
        self.a_lookup[self.a_holder, self.a_service] = self.a_day

    def _usage(self) -> None:
        rng, plan = self.rng["usage"], self.plan
        n_svc = len(SERVICE_CODES)
        rates = np.array([ref.SERVICES[code][0] for code in SERVICE_CODES]).T  # tier x service
        entitled = rates > 0
        lowest = entitled.argmax(axis=0)  # lowest entitled tier of each service
        shares = np.asarray(ref.TIER_SHARE_APPROX)
        above = np.array([shares[m:].sum() for m in lowest])
        leak = ref.NON_ENTITLED_SHARE * rates[lowest, np.arange(n_svc)] * above / np.maximum(1 - above, 1e-9)
        rates = np.where(entitled, rates, leak[None, :])
        total = rates.sum(axis=1)
        cum = np.vstack([_cum(row) for row in rates])
        days = self.s_until - self.s_from
        count = rng.poisson(total[self.s_tier] * days / 365.25)
        seg = np.repeat(np.arange(len(days)), count)
        u = len(seg)
        holder = self.s_holder[seg]
        tier = self.s_tier[seg]
        service = _pick_rows(rng, cum, tier)
        day = self.s_from[seg] + np.floor(rng.random(u) * days[seg]).astype(np.int64)
        # the four 30-day-wait services are mostly used once the wait is over
        waiting = np.isin(service, [SVC[c] for c in ref.WAITING_SERVICES])
        activated = self.a_lookup[holder, service]
        shift = waiting & (activated < NEVER) & (day < activated + 30) & (rng.random(u) < 0.85)
        day = np.where(shift, activated + 30 + rng.integers(0, 91, u), day)
        keep = ~(waiting & (activated == NEVER) & (rng.random(u) < 0.8))
        keep &= self._within_usual_limit(rng, holder, service, tier, day)
        seg_from = self.s_from[seg]
        holder, tier, service, day, seg_from = holder[keep], tier[keep], service[keep], day[keep], seg_from[keep]
        order = np.argsort((holder << 32) | (day << 5) | service, kind="stable")
        holder, tier, service, day, seg_from = (holder[order], tier[order], service[order], day[order], seg_from[order])
        seq = _rank_sorted(holder)
        keep = seq < USAGE_PER_HOLDER
        holder, tier, service, day, seq, seg_from = (
            holder[keep],
            tier[keep],
            service[keep],
            day[keep],
            seq[keep],
            seg_from[keep],
        )
        u = len(holder)
        bookable = _SERVICE_BOOKABLE[service]
        book_day = np.maximum(day - rng.integers(1, 31, u), np.minimum(seg_from, day))  # booked once a member
        book_ts = book_day * DAY + _clock(rng, u)
        outcome = np.where(bookable, _pick(rng, ref.USAGE_OUTCOME_PROBS, u), 0)  # completed, cancelled, no_show
        done_ts = (day + np.where(bookable, rng.integers(0, 4, u), 0)) * DAY + _clock(rng, u)
        cancel_ts = book_ts + np.floor(rng.random(u) * np.maximum(day * DAY - book_ts, 60)).astype(np.int64)
        final_ts = np.where(bookable, np.maximum(np.where(outcome == 1, cancel_ts, done_ts), book_ts + 60), done_ts)
        first_ts = np.where(bookable, book_ts, final_ts)
        # who used it: the holder, or a relative already on file (the designated one is mostly the first)
        scope = _SERVICE_SCOPE[service]
        by_relative = np.flatnonzero(rng.random(u) < _RELATIVE_SHARE[scope])
        self.u_relative = np.full(u, -1)
        self.u_relative[by_relative] = self._pick_relative(
            rng, holder[by_relative], first_ts[by_relative], first_prob=np.where(scope[by_relative] == 2, 0.9, 0.0)
        )
        # variant, quantity and billed cost, service by service
        var = np.full(u, -1)
        qty = np.ones(u)
        unit = _SERVICE_UNIT_COST[service]
        vendor = np.zeros(u, dtype=np.int64)
        for s in range(n_svc):
            idx = np.flatnonzero(service == s)
            if len(idx) == 0:
                continue
            code, size, t = SERVICE_CODES[s], len(idx), tier[idx]
            if code == "health_checkup":
                v = rng.random(size)
                pkg = np.clip(t, 2, 5)
                pkg = np.where(v < 0.8, pkg, np.where(v < 0.95, np.maximum(pkg - 1, 2), np.minimum(pkg + 1, 5)))
                var[idx] = VAR["star2"] + pkg - 2
            elif code == "outpatient_green":
                named = rng.random(size) < np.where(t >= 4, 0.5, 0.05)
                var[idx] = np.where(named, VAR["named_expert"], VAR["standard"])
            elif code == "cell_storage":
                var[idx] = np.where(rng.random(size) < np.where(t >= 5, 0.7, 0.05), VAR["20y"], VAR["10y"])
            elif code == "home_care":
                var[idx] = np.where(rng.random(size) < 0.6, VAR["nursing"], VAR["cleaning"])
            elif code == "legal_consult":
                qty[idx] = rng.choice(ref.LEGAL_HOURS, size)
            elif code == "lounge":
                qty[idx] = rng.choice(ref.LOUNGE_PERSONS, size)
            if code in ("health_checkup", "outpatient_green"):
                unrecorded = rng.random(size) < ref.UNRECORDED_VARIANT_SHARE
                unit[idx] = np.where(unrecorded, ref.UNRECORDED_VARIANT_COST[code], _VARIANT_COST[var[idx]])
                var[idx] = np.where(unrecorded, -1, var[idx])
            elif code in ("cell_storage", "home_care"):
                unit[idx] = _VARIANT_COST[var[idx]]
            if code in ref.VARIABLE_COST_SERVICES:
                unit[idx] *= np.exp(0.2 * rng.standard_normal(size))
            choices = _SERVICE_VENDORS[s]
            vendor[idx] = choices[rng.integers(0, len(choices), size)]
        charged = (unit >= 0) & ((outcome == 0) | ((outcome == 2) & (service == SVC["dental_cleaning"])))
        self.u_cost_c = np.where(charged, np.round(unit * qty * 100), -1).astype(np.int64)
        self.vendor_vocab = tuple(plan.text(v) for v in VENDORS)
        self.u_holder, self.u_service, self.u_day = holder, service, day
        self.u_key = self.holder[holder] * USAGE_PER_HOLDER + seq
        self.u_variant, self.u_qty, self.u_vendor = var, qty, vendor
        self.u_outcome, self.u_bookable = outcome, bookable
        self.u_first_ts, self.u_final_ts = first_ts, final_ts

    def _within_usual_limit(
        self, rng: np.random.Generator, holder: np.ndarray, service: np.ndarray, tier: np.ndarray, day: np.ndarray
    ) -> np.ndarray:
        """False for most uses beyond what a member usually takes of a quota service in a year."""
        limits = np.full((len(SERVICE_CODES), 6), 1 << 30)
        for code, by_tier in ref.USUAL_LIMIT.items():
            limits[SVC[code]] = by_tier
        once = np.isin(service, [SVC[c] for c in ref.ONCE_SERVICES])
        year = np.where(once, 0, day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64))
        group = (holder * len(SERVICE_CODES) + service) * 512 + year
        order = np.argsort((group << 20) | day, kind="stable")
        key = group[order]
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = _rank_sorted(key)
        beyond = rank >= limits[service, tier]
        return ~beyond | (rng.random(len(holder)) < ref.BEYOND_LIMIT_SHARE)

    # -- frames ------------------------------------------------------------------------------------------

    def _holder_ids(self, local: np.ndarray) -> pl.Series:
        return _gather(self.holder_ids, local)

    def _relative_ids(self, row: np.ndarray) -> pl.Series:
        """Relative ids of relative rows; null where the row is -1."""
        return _gather(self.relative_ids, row, row >= 0)

    def _customers_frame(self) -> pl.DataFrame:
        n, plan = self.n, self.plan
        move_day = (
            self.cust_ts // DAY + 30 + np.floor(self.move_u * (plan.end + 200 - self.cust_ts // DAY)).astype(np.int64)
        )
        moved = np.flatnonzero(self.moves)
        version_holder = np.r_[np.arange(n), moved]
        version_city = np.r_[self.city, self.new_city[moved]]
        version_ts = np.r_[self.cust_ts, move_day[moved] * DAY + 43_200]
        rows, batch = self._emit(version_holder, version_ts, resend=0.002)
        h = version_holder[rows]
        city = version_city[rows]
        province_names = tuple(plan.text(p[0]) for p in ref.PROVINCES)
        city_names = tuple(plan.text(c[0]) for p in ref.PROVINCES for c in p[3])
        return pl.DataFrame(
            {
                "holder_id": self._holder_ids(h),
                "gender": _codes(contract.GENDERS, np.where(self.female[h], 1, 0)),
                "birth_date": _date(self.birth[h]),
                "province": _codes(province_names, self.city_province[city]),
                "city": _codes(city_names, city),
                "id_number": self.id_number.gather(h),
                "batch": batch,
            }
        )

    def _policies_frame(self) -> pl.DataFrame:
        c = len(self.c_pol)
        # versions: new business, every status event on the coverage, every premium change
        v_cov, v_ts, v_status, v_status_day, v_modal = (
            [np.arange(c)],
            [self.c_nb_ts],
            [np.zeros(c, np.int64)],
            [self.c_eff],
            [self.c_modal_c],
        )
        for pol, kind, day, ts in self.status_rows:
            count = self.p_coverages[pol]
            rep = np.repeat(np.arange(len(pol)), count)
            cov = self.p_first_cov[pol][rep] + _rank(count)
            applies = self.c_eff[cov] <= day[rep]
            rep, cov = rep[applies], cov[applies]
            v_cov.append(cov)
            v_ts.append(ts[rep])
            v_status.append(_STATUS_OF_TXN[kind[rep]])
            v_status_day.append(day[rep])
            v_modal.append(np.full(len(cov), -1))
        v_cov.append(self.pe_cov)
        v_ts.append(self.pe_ts)
        v_status.append(np.full(len(self.pe_cov), -1))
        v_status_day.append(np.full(len(self.pe_cov), -1))
        v_modal.append(self.pe_after_c)
        cov, ts = np.concatenate(v_cov), np.concatenate(v_ts)
        status, status_day, modal = (np.concatenate(v_status), np.concatenate(v_status_day), np.concatenate(v_modal))
        # fill each version from the one before (the first version of a coverage is complete)
        order = np.lexsort((ts, cov))
        cov, ts, status, status_day, modal = cov[order], ts[order], status[order], status_day[order], modal[order]
        for values in (status, status_day, modal):
            idx = np.where(values >= 0, np.arange(len(values)), 0)
            np.maximum.accumulate(idx, out=idx)
            values[:] = values[idx]
        rows, batch = self._emit(cov, ts, resend=0.003)
        k = cov[rows]
        pol = self.c_pol[k]
        holder = self.p_holder[pol]
        insured = self.c_insured[k]
        insured_ids = self._relative_ids(insured).fill_null(self._holder_ids(holder))
        product_vocab = tuple(
            f"{ref.CATEGORY_PREFIX[cat]}{s + 1:02d}"
            if s < 4
            else (f"{ref.CATEGORY_PREFIX[cat]}G1" if s == 4 else f"{ref.CATEGORY_PREFIX[cat]}R{s - 4}")
            for cat in CATEGORIES
            for s in range(8)
        )
        regular = self.c_mode[k] != MODE["single"]
        return pl.DataFrame(
            {
                "policy_no": ids("P", scramble("policy", self.p_key[pol]), 12),
                "coverage_no": _int(self.c_no[k]),
                "holder_id": self._holder_ids(holder),
                "insured_id": insured_ids,
                "product_code": _codes(product_vocab, self.c_product[k]),
                "product_category": _codes(CATEGORIES, self.c_cat[k]),
                "is_group": _int(self.c_group[k].astype(np.int64)),
                "coverage_term_months": _int(self.c_term[k], self.c_term[k] > 0),
                "payment_mode": _codes(contract.PAYMENT_MODES, self.c_mode[k]),
                "payment_years": _int(self.c_years[k], regular),
                "modal_premium": _money(modal[rows]),
                "effective_date": _date(self.c_eff[k]),
                "free_look_end_date": _date(self.c_fl[k], self.c_fl[k] >= 0),
                "status": _codes(contract.POLICY_STATUSES, status[rows]),
                "status_date": _date(status_day[rows]),
                "batch": batch,
            }
        )

    def _transactions_frame(self) -> pl.DataFrame:
        rows, batch = self._emit(np.arange(len(self.t_key)), self.t_ts, resend=0.0005)
        return pl.DataFrame(
            {
                "txn_id": ids("T", scramble("txn", self.t_key[rows]), 12),
                "policy_no": ids("P", scramble("policy", self.p_key[self.t_pol[rows]]), 12),
                "coverage_no": _int(self.t_cov[rows], self.t_cov[rows] >= 0),
                "txn_type": _codes(contract.TXN_TYPES, self.t_type[rows]),
                "effective_date": _date(self.t_day[rows]),
                "modal_premium_after": _money(self.t_after_c[rows], self.t_after_c[rows] >= 0),
                "amount": _money(self.t_amount_c[rows], self.t_amount_c[rows] >= 0),
                "recorded_at": _timestamp(self.t_ts[rows]),
                "batch": batch,
            }
        )

    def _relatives_frame(self) -> pl.DataFrame:
        m = len(self.r_holder)
        rows, batch = self._emit(np.arange(m), self.r_ts, resend=0.001)
        return pl.DataFrame(
            {
                "relative_id": self._relative_ids(rows),
                "holder_id": self._holder_ids(self.r_holder[rows]),
                "relation": _codes(contract.RELATIONS, self.r_relation[rows]),
                "batch": batch,
            }
        )

    def _activations_frame(self) -> pl.DataFrame:
        m = len(self.a_holder)
        rows, batch = self._emit(np.arange(m), self.a_day * DAY + 43_200, resend=0.001)
        return pl.DataFrame(
            {
                "holder_id": self._holder_ids(self.a_holder[rows]),
                "service_code": _codes(SERVICE_CODES, self.a_service[rows]),
                "activated_at": _date(self.a_day[rows]),
                "batch": batch,
            }
        )

    def _usage_frame(self) -> pl.DataFrame:
        u = len(self.u_holder)
        booked = np.flatnonzero(self.u_bookable)
        v_use = np.r_[np.arange(u), booked]
        v_ts = np.r_[self.u_final_ts, self.u_first_ts[booked]]
        status_vocab = ("completed", "cancelled", "no_show", "booked")
        v_status = np.r_[self.u_outcome, np.full(len(booked), 3)]
        rows, batch = self._emit(v_use, v_ts, resend=0.0005)
        k = v_use[rows]
        status = v_status[rows]
        relative = self.u_relative[k]
        relation_vocab = contract.BENEFICIARY_RELATIONS  # self, spouse, parent, child, other
        relation = np.where(
            relative >= 0, self.r_relation[np.maximum(relative, 0)] + 1 if len(self.r_relation) else 0, 0
        )
        return pl.DataFrame(
            {
                "usage_id": ids("U", scramble("usage", self.u_key[k]), 12),
                "holder_id": self._holder_ids(self.u_holder[k]),
                "beneficiary_id": self._relative_ids(relative),
                "beneficiary_relation": _codes(relation_vocab, relation),
                "service_code": _codes(SERVICE_CODES, self.u_service[k]),
                "variant": _codes(VARIANTS, np.maximum(self.u_variant[k], 0), self.u_variant[k] >= 0),
                "service_date": _date(self.u_day[k]),
                "quantity": pl.Series(self.u_qty[k]),
                "status": _codes(status_vocab, status),
                "vendor": _codes(self.vendor_vocab, self.u_vendor[k]),
                "cost_amount": _money(self.u_cost_c[k], (self.u_cost_c[k] >= 0) & (status != 3)),
                "updated_at": _timestamp(v_ts[rows]),
                "batch": batch,
            }
        )
