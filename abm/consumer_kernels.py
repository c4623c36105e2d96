"""Compiled (numba) loops of the consumer month: the same arithmetic as the numpy path of
``abm.consumers``, in one pass over the population and without temporaries.

The same random numbers and the same results, bit for bit: every random number still comes
from the model's numpy generator, in the same order and the same amounts (the loops step its
PCG64 state in place, with numpy's algorithms: :func:`pcg_words`), and the floating-point
operations are the numpy path's, in its order and precision (float32 weights, float64 rates;
``fastmath`` is off, so no fused multiply-adds). A month takes two calls and one per chunk of
consumers (two per chunk with the nested logit; one chunk at the default 5,000 consumers),
their arguments arrays the model keeps, and whatever it needs from one month to the next (the
aware counts, the loyalty factors) is kept in them.
The transcendental functions of the choice (``exp``, ``expm1``, and the nested logit's
``D ** (1 - lam)``) stay numpy's, called from Python between the loops (``expm1`` only when
the bonuses change, ``exp`` only on brands whose offer changed): numpy computes them
with its own SIMD code (AVX-512 here), which differs from the C library's ``powf`` in the
last bit for about a quarter of the inputs, enough to flip one consumer's choice in about
one run of a thousand (``tests/test_fast_kernel.py`` checks 300 seeds of three presets).

When they load (``ABM_NUMBA``, read at import):

- unset or ``auto`` (the default): a process starts on the numpy path and loads the
  compiled loops once it has simulated ``AUTO_AFTER`` consumer-months (about 50 default
  runs): loading numba and the cached machine code costs about a second of CPU, more than
  one run saves, so single runs, the CLI and most tests never pay it, while sweeps and
  comparisons switch early. ``abm.executors`` loads them before it forks a pool, so that
  its workers inherit them. As both paths give the same results, a seed's result does not
  depend on when a process switched.
- ``1``: from the first run (benchmarks); ``0``: never, not even on request (the numpy path,
  also where numba is not installed).

Compiled code is cached on disk (``cache=True``: ``__pycache__`` beside this file, else
numba's user-wide cache or ``NUMBA_CACHE_DIR``): the first process on a machine compiles
(several seconds, once); later processes load it (README, *Performance*).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

MODE = os.environ.get("ABM_NUMBA", "").strip().lower() or "auto"
"""``auto`` (also when unset: after ``AUTO_AFTER`` consumer-months, or where code calls
:func:`enable`), ``1`` (from the first run), or ``0`` (never, not even on request), read at
import."""

ON = ("1", "on", "true", "yes")
"""Values of ``ABM_NUMBA`` that load the loops from the first run."""

OFF = ("0", "off", "false", "no")
"""Values of ``ABM_NUMBA`` that never load them."""

AUTO_AFTER = 30_000_000
"""Consumer-months a process simulates on the numpy path before ``auto`` loads the loops: the
loops save about 40 ns per consumer-month and cost about 1.3 s of CPU to load (numba itself
about 1 s), so they pay off after about 30 million (ski rental: at most twice the best)."""

ENABLED = False
"""True once the compiled loops are loaded: models built from then on use them."""

_plain_work = [0]


def available() -> bool:
    """Whether the compiled loops can be used here (numba imports, ``ABM_NUMBA`` is not 0)."""
    if MODE in OFF:
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def enable() -> bool:
    """Load the compiled loops (from the cache, else compile them) and use them from the next
    model on; False where they are not available."""
    global ENABLED, segment_counts, learn_rates, chunk_lengths, place_hits, chunk_weights, chunk_pick, cover
    global appeal_exponent, _unchanged, _mulhi, _pcg_step, _pcg_fill, _pcg_next, _next_double, _loggam, _poisson
    global _points, awareness_month, prepare_choice, choice_chunk, count_aware
    if ENABLED:
        return True
    if not available():
        return False
    from numba import njit

    def compiled(fn):
        return njit(cache=True, nogil=True)(fn)

    _mulhi = _mulhi_intrinsic()
    _pcg_step = compiled(_pcg_step_py)
    _pcg_fill = compiled(_pcg_fill_py)
    _pcg_next = compiled(_pcg_next_py)
    _next_double = compiled(_next_double_py)
    _loggam = compiled(_loggam_py)
    _poisson = compiled(_poisson_py)
    segment_counts = compiled(_segment_counts)
    learn_rates = compiled(_learn_rates)
    chunk_lengths = compiled(_chunk_lengths)
    place_hits = compiled(_place_hits)
    _unchanged = compiled(_unchanged_py)
    chunk_weights = compiled(_chunk_weights)
    chunk_pick = compiled(_chunk_pick)
    cover = compiled(_cover)
    appeal_exponent = compiled(_appeal_exponent)
    _points = compiled(_points_py)
    awareness_month = compiled(_awareness_month)
    prepare_choice = compiled(_prepare_choice)
    choice_chunk = compiled(_choice_chunk)
    count_aware = compiled(_count_aware)
    ENABLED = True
    return True


def count_plain(consumer_months: int) -> None:
    """Note work done on the numpy path; load the loops past ``AUTO_AFTER`` (unless switched off)."""
    _plain_work[0] += consumer_months
    if _plain_work[0] >= AUTO_AFTER:
        _plain_work[0] = -(1 << 62)  # decide once
        enable()


def _segment_counts(aware, seg_start, n, cell_first_seg, aware_in, cell_aware, total):
    """Aware consumers per brand and segment, per brand and cell, and per brand.

    Eight consumers at a time: a brand's row of bools read as 64-bit words, whose bytes (0 or
    1) one multiplication by ``0x0101...01`` sums into the top byte; a running count at each
    word boundary, and a masked word at a segment's end, give every segment's count (the same
    integers as counting consumer by consumer, in half the time: segments are short)."""
    n_brands, n_seg = aware_in.shape
    n_cells = cell_first_seg.shape[0]
    ones = np.uint64(0x0101010101010101)
    top = np.uint64(56)
    n_words = n >> 3
    prefix = np.empty(n_words + 1, dtype=np.int64)
    for b in range(n_brands):
        row = aware[b].view(np.uint8)
        words = row[: n_words * 8].view(np.uint64)
        acc = 0
        prefix[0] = 0
        for w in range(n_words):
            acc += np.int64((words[w] * ones) >> top)
            prefix[w + 1] = acc
        before = 0
        for g in range(n_seg):
            x = seg_start[g + 1] if g + 1 < n_seg else n  # consumers before x
            q = x >> 3
            r = x & 7
            if q < n_words:
                upto = prefix[q]
                if r:
                    mask = (np.uint64(1) << np.uint64(8 * r)) - np.uint64(1)
                    upto += np.int64(((words[q] & mask) * ones) >> top)
            else:
                upto = prefix[n_words]
                for i in range(n_words * 8, x):
                    upto += row[i]
            aware_in[b, g] = upto - before
            before = upto
        t = 0
        for c_ in range(n_cells):
            stop = cell_first_seg[c_ + 1] if c_ + 1 < n_cells else n_seg
            s = 0
            for g in range(cell_first_seg[c_], stop):
                s += aware_in[b, g]
            cell_aware[b, c_] = s
            t += s
        total[b] = t


def _learn_rates(learners, cell_aware, cell_size, total, pull, seg_cell_index, seg_size, aware_in, w, mix, q12):
    """Per learner and segment: the awareness rate and the unaware count (numpy path's
    ``rate[:, seg_cell_index]`` and ``seg_size - aware_in[learners]``, same operations)."""
    n_l = learners.shape[0]
    n_seg = seg_cell_index.shape[0]
    n_cells = cell_size.shape[0]
    rate = np.empty((n_l, n_seg))
    counts = np.empty((n_l, n_seg), dtype=np.int64)
    by_cell = np.empty(n_cells)
    for r in range(n_l):
        b = learners[r]
        for c in range(n_cells):
            neighbours = w * float(cell_aware[b, c]) / float(cell_size[c]) + mix * float(total[b])
            by_cell[c] = pull[b] + q12 * neighbours
        for g in range(n_seg):
            rate[r, g] = by_cell[seg_cell_index[g]]
            counts[r, g] = seg_size[g] - aware_in[b, g]
    return rate, counts


def _chunk_lengths(rate, counts, g0, g1):
    """Interval length of each (row, segment) of a chunk, their running sum, and the total."""
    length = np.empty(rate.shape[0] * (g1 - g0))
    ends = np.empty_like(length)
    k = 0
    acc = 0.0
    for r in range(rate.shape[0]):
        for g in range(g0, g1):
            x = rate[r, g] * counts[r, g]
            length[k] = x
            acc += x
            ends[k] = acc
            k += 1
    return length, ends, acc


def _place_hits(
    at,
    ends,
    length,
    rate,
    counts,
    g0,
    g1,
    rows,
    seg_start,
    seg_size,
    aware,
    eligible_value,
    set_to,
    known,
    seg_cell_index,
    aware_in,
    cell_aware,
    total,
):
    """Turn Poisson points into consumers and set their awareness to ``set_to``.

    A point at ``at`` falls in the interval of one (row, segment) and, within it, on the
    ``within``-th eligible consumer of that segment (eligible: ``aware == eligible_value``),
    counted on the state before any of this chunk's points is applied, as the numpy path's
    ``flatnonzero(eligible)[rank]`` does. Each change is also made in ``known`` and in the
    aware counts per segment, cell and brand (see :func:`_awareness_month`).
    """
    m = ends.shape[0]
    width = g1 - g0
    hit_brand = np.empty(at.shape[0], dtype=np.int64)
    hit_consumer = np.empty(at.shape[0], dtype=np.int64)
    hit_segment = np.empty(at.shape[0], dtype=np.int64)
    n_hits = 0
    for h in range(at.shape[0]):
        a = at[h]
        run = np.searchsorted(ends[:m], a, side="right")
        if run >= m:
            continue
        r = run // width
        g = g0 + run % width
        within = int((a - (ends[run] - length[run])) / rate[r, g])
        count = counts[r, g]
        if within > count - 1:
            within = count - 1
        if within < 0:
            within = 0
        b = rows[r]
        seen = -1
        start = seg_start[g]
        for i in range(start, start + seg_size[g]):
            if aware[b, i] == eligible_value:
                seen += 1
                if seen == within:
                    hit_brand[n_hits] = b
                    hit_consumer[n_hits] = i
                    hit_segment[n_hits] = g
                    n_hits += 1
                    break
    step = 1 if set_to else -1
    for h in range(n_hits):
        b = hit_brand[h]
        i = hit_consumer[h]
        if aware[b, i] != set_to:  # a consumer hit twice changes once
            aware[b, i] = set_to
            known[b, i] = set_to
            g = hit_segment[h]
            aware_in[b, g] += step
            cell_aware[b, seg_cell_index[g]] += step
            total[b] += step


def _unchanged_py(aware, known):
    """Whether two bool arrays of one shape hold the same values (eight at a time)."""
    a = aware.reshape(-1).view(np.uint8)
    b = known.reshape(-1).view(np.uint8)
    m = a.shape[0]
    n_words = m >> 3
    a_words = a[: n_words * 8].view(np.uint64)
    b_words = b[: n_words * 8].view(np.uint64)
    for w in range(n_words):
        if a_words[w] != b_words[w]:
            return False
    differs = 0
    for i in range(n_words * 8, m):  # the last few
        differs |= a[i] ^ b[i]
    return differs == 0


def _chunk_weights(appeal, covered, aware, rows, loyalty_factor, last, start, stop, nested, work):
    """Logit weights of consumers ``start:stop``, the numpy path's in float32 and in its order:
    brand j (row ``j + 1`` of ``work``) ``appeal_j x available``, times ``1 + expm1(bonus_j)``
    when bought last month; if ``nested``, row 0 gets the brands' sum D, summed brand by
    brand (the caller raises it to the power ``1 - lam`` with ``np.power``, as the numpy path
    does: numpy's float32 power is not libm's). Loops run brand by brand over contiguous rows,
    so that the compiler vectorises them."""
    k = rows.shape[0]
    width = stop - start
    one = np.float32(1.0)
    zero = np.float32(0.0)
    previous = last[start:stop]
    for j in range(k):
        b = rows[j]
        factor = loyalty_factor[j]
        a = appeal[b, start:stop]
        cov = covered[b, start:stop].view(np.uint8)
        awa = aware[b, start:stop].view(np.uint8)
        x_row = work[j + 1]
        for i in range(width):
            x = a[i] * np.float32(cov[i] & awa[i])
            x_row[i] = x * (np.float32(previous[i] == b) * factor + one)
    if nested:  # the brands' nest: D summed brand by brand
        outside = work[0]
        for i in range(width):
            outside[i] = work[1, i] if k > 0 else zero
        for j in range(2, k + 1):
            x_row = work[j]
            for i in range(width):
                outside[i] = outside[i] + x_row[i]


def _chunk_pick(pcg, rows, last, start, stop, nested, work, draw, picked):
    """Pick by inverse CDF, one uniform each, from the weights of :func:`_chunk_weights` (row
    0: the outside option, 1, or ``D^(1 - lam)`` as the caller left it): the weights are
    cumulated in ``work`` (rows 0..k); the pick is the number of cumulative weights below
    ``u x total``. The uniforms are the numpy path's: ``random_raw((width + 1) // 2)`` read
    as uint32 (low half first), the top 24 bits of each, from ``pcg``. ``draw`` (float32) and
    ``picked`` (int32) are work rows of the chunk's width. Returns consumers per option."""
    k = rows.shape[0]
    width = stop - start
    one = np.float32(1.0)
    scale = np.float32(2.0**-24)
    previous = last[start:stop]
    if not nested:
        outside = work[0]
        for i in range(width):
            outside[i] = one
    for j in range(1, k + 1):  # cumulative weights
        x_row = work[j]
        prev_row = work[j - 1]
        for i in range(width):
            x_row[i] = x_row[i] + prev_row[i]
    total = work[k]
    raw = np.empty((width + 1) // 2, dtype=np.uint64)
    _pcg_fill(pcg, raw)
    bits = raw.view(np.uint32)  # low half first, as numpy's view (little-endian)
    for i in range(width):
        draw[i] = np.float32(bits[i] >> np.uint32(8)) * scale * total[i]
        picked[i] = 0
    # past[j]: consumers whose pick lies past option j; the cumulative weights never fall (the
    # weights are >= 0), so the options below a pick are 0..pick-1 and consumers on option j
    # number past[j - 1] - past[j]: the counts come with the picks, without a pass of their own
    past = np.empty(k, dtype=np.int64)
    for j in range(k):
        cum = work[j]
        n = 0
        for i in range(width):
            below = np.int32(cum[i] < draw[i])
            picked[i] += below
            n += below
        past[j] = n
    counts = np.empty(k + 1, dtype=np.int64)
    counts[0] = width - past[0] if k else width
    for j in range(1, k):
        counts[j] = past[j - 1] - past[j]
    if k:
        counts[k] = past[k - 1]
    first = rows[0] if k else 0
    if k and rows[k - 1] - first + 1 == k:  # brands on sale are neighbours: brand = pick - 1 + first
        offset = np.int32(first - 1)
        for i in range(width):
            pick = picked[i]
            previous[i] = pick + offset if pick else -1
    else:
        label = np.empty(k + 1, dtype=previous.dtype)  # option -> brand bought (-1: none)
        label[0] = -1
        for j in range(k):
            label[j + 1] = rows[j]
        for i in range(width):
            previous[i] = label[picked[i]]
    return counts


def _count_aware(aware):
    """Consumers aware of each brand (``np.count_nonzero(aware, axis=1)``)."""
    counts = np.zeros(aware.shape[0], dtype=np.int64)
    for b in range(aware.shape[0]):
        row = aware[b].view(np.uint8)
        c = 0
        for i in range(row.shape[0]):
            c += row[i]
        counts[b] = c
    return counts


def _cover(rank, covered, brand, at, seg_start, seg_size):
    """``covered[brand] = rank[brand] < at[segment]`` consumer by consumer; the count."""
    ranks = rank[brand]
    out = covered[brand]
    count = 0
    for g in range(seg_start.shape[0]):
        threshold = at[g]
        for i in range(seg_start[g], seg_start[g] + seg_size[g]):
            inside = ranks[i] < threshold
            out[i] = inside
            count += inside
    return count


def _appeal_exponent(taste_s, price_weight_s, base, position, price, out):
    """``base - ((taste - position)^2 + beta x price)`` in float32, the numpy path's order."""
    for i in range(out.shape[0]):
        d = taste_s[i] - position
        d = d * d
        d = d + price_weight_s[i] * price
        out[i] = base - d


def _awareness_month(
    pcg,
    aware,
    promoting,
    on_sale,
    pull,
    decay,
    forget_rate,
    w,
    mix,
    q12,
    seg_start,
    seg_size,
    cell_first_seg,
    seg_cell_index,
    cells_size,
    chunks,
    aware_in,
    cell_aware,
    total,
    known,
    counted,
):
    """The numpy path's ``spread_awareness`` in one call: segment counts, rates, and chunk by
    chunk the learners' then the forgetters' Poisson points drawn from ``pcg`` (the model's
    generator's own state, :func:`pcg_words`; :func:`_poisson_py` and :func:`_next_double_py`
    are numpy's algorithms, so the draws are the same) and placed on consumers."""
    n = aware.shape[1]
    # the aware counts per segment, cell and brand: kept from the last call, which updated them
    # with every change it made (in ``known`` too), unless ``aware`` was changed elsewhere since
    if not (counted[0] and _unchanged(aware, known)):
        segment_counts(aware, seg_start, n, cell_first_seg, aware_in, cell_aware, total)
        known[...] = aware
        counted[0] = 1
    learners = np.flatnonzero(promoting)
    forgetters = np.flatnonzero(~on_sale & (total > 0)) if decay else np.empty(0, dtype=np.int64)
    n_seg = seg_start.shape[0]
    learn_rate, unaware_in = learn_rates(
        learners, cell_aware, cells_size, total, pull, seg_cell_index, seg_size, aware_in, w, mix, q12
    )
    forget_by_seg = np.full((forgetters.shape[0], n_seg), forget_rate)
    aware_in_f = np.empty((forgetters.shape[0], n_seg), dtype=np.int64)
    for r in range(forgetters.shape[0]):
        for g in range(n_seg):
            aware_in_f[r, g] = aware_in[forgetters[r], g]
    for c in range(chunks.shape[0]):
        g0, g1 = chunks[c, 2], chunks[c, 3]
        learn_at = forget_at = np.empty(0)
        if learners.shape[0]:
            learn_length, learn_ends, _ = chunk_lengths(learn_rate, unaware_in, g0, g1)
            learn_at = _points(pcg, learn_ends)
        if forgetters.shape[0]:
            forget_length, forget_ends, _ = chunk_lengths(forget_by_seg, aware_in_f, g0, g1)
            forget_at = _points(pcg, forget_ends)
        if learn_at.shape[0]:
            place_hits(
                learn_at,
                learn_ends,
                learn_length,
                learn_rate,
                unaware_in,
                g0,
                g1,
                learners,
                seg_start,
                seg_size,
                aware,
                False,
                True,
                known,
                seg_cell_index,
                aware_in,
                cell_aware,
                total,
            )
        if forget_at.shape[0]:
            place_hits(
                forget_at,
                forget_ends,
                forget_length,
                forget_by_seg,
                aware_in_f,
                g0,
                g1,
                forgetters,
                seg_start,
                seg_size,
                aware,
                True,
                False,
                known,
                seg_cell_index,
                aware_in,
                cell_aware,
                total,
            )


def _prepare_choice(
    on_sale,
    quality,
    position,
    price,
    loyalty,
    coverage,
    covered_for,
    covered_count,
    rank,
    covered,
    seg_region,
    seg_start,
    seg_size,
    appeal_for,
    appeal,
    taste_s,
    price_weight_s,
    terms,
    selling,
    bonus,
    stale,
    info,
):
    """The numpy path's bookkeeping before a choice, in one call, into the caller's arrays:
    coverage masks of brands whose coverage changed; the brands on sale (``selling[:k]``) and
    their loyalty bonus in float32 (``bonus[:k]``); whether unshifted weights are safe; and, if
    so, ``u / s`` without loyalty for brands whose quality, position or price changed, written
    into their ``appeal`` rows and listed in ``stale`` (the caller takes ``np.exp`` of those
    rows, as the numpy path does). ``terms``: ``u0, s, sqrt(fit / s), switching_cost / s`` and
    the fast range. ``info`` gets ``[k, stale brands, coverage changed, bonus changed]``, where
    the bonus changed when ``bonus[:k]`` differs from what the previous call left there (the
    caller then takes ``np.expm1`` of it; ``info[0] = -1`` forces that).

    Returns whether unshifted weights are safe (``fast``; False also where nothing is on sale).
    """
    u0, s, sqrt_fit_s, switching_s, fast_range = terms[0], terms[1], terms[2], terms[3], terms[4]
    n_brands, n_regions = coverage.shape
    n_seg = seg_start.shape[0]
    coverage_changed = 0
    at = np.empty(n_seg, dtype=np.float32)
    for b in range(n_brands):
        differs = False
        for r in range(n_regions):
            if coverage[b, r] != covered_for[b, r]:
                differs = True
        if differs:
            for g in range(n_seg):
                at[g] = np.float32(coverage[b, seg_region[g]])
            covered_count[b] = cover(rank, covered, b, at, seg_start, seg_size)
            for r in range(n_regions):
                covered_for[b, r] = coverage[b, r]
            coverage_changed = 1
    k = 0
    for b in range(n_brands):
        if on_sale[b]:
            selling[k] = b
            k += 1
    bonus_changed = 1 if k != info[0] else 0
    info[0] = k
    info[1] = 0
    info[2] = coverage_changed
    if k == 0:
        info[3] = bonus_changed
        return False
    best = quality[selling[0]]
    top_bonus = -np.inf
    for j in range(k):
        b = selling[j]
        x = np.float32(switching_s * loyalty[b])
        if x != bonus[j]:
            bonus_changed = 1
        bonus[j] = x
        best = max(best, quality[b])
        top_bonus = max(top_bonus, float(x))
    info[3] = bonus_changed
    fast = (best - u0) / s + max(top_bonus, 0.0) <= fast_range
    n_stale = 0
    if fast:
        for j in range(k):
            b = selling[j]
            if quality[b] != appeal_for[b, 0] or position[b] != appeal_for[b, 1] or price[b] != appeal_for[b, 2]:
                appeal_exponent(
                    taste_s,
                    price_weight_s,
                    np.float32((quality[b] - u0) / s),
                    np.float32(position[b] * sqrt_fit_s),
                    np.float32(price[b]),
                    appeal[b],
                )
                appeal_for[b, 0] = quality[b]
                appeal_for[b, 1] = position[b]
                appeal_for[b, 2] = price[b]
                stale[n_stale] = b
                n_stale += 1
    info[1] = n_stale
    return fast


def _choice_chunk(
    pcg,
    appeal,
    covered,
    aware,
    selling,
    factor,
    k,
    last,
    start,
    stop,
    nested,
    weigh,
    pick,
    work,
    draw,
    picked,
    customers,
):
    """One chunk of the choice: the logit weights (``weigh``, :func:`_chunk_weights`) and/or
    the picks (``pick``, :func:`_chunk_pick`, with the chunk's uniforms drawn from ``pcg``
    as the numpy path's ``random_raw``), adding the buyers of each brand to ``customers``.
    With ``nested`` the caller raises row 0 of ``work`` to ``1 - lam`` between the two."""
    rows = selling[:k]
    if weigh:
        chunk_weights(appeal, covered, aware, rows, factor[:k], last, start, stop, nested, work)
    if pick:
        counts = chunk_pick(pcg, rows, last, start, stop, nested, work, draw, picked)
        for j in range(k):
            customers[rows[j]] += counts[j + 1]


def _points_py(pcg, ends):
    """Poisson points over ``[0, ends[-1])`` as the numpy path draws them (none if empty):
    ``rng.poisson(total)``, then ``rng.random(hits) * total``."""
    if ends.shape[0] == 0 or not ends[-1] > 0:
        return np.empty(0)
    total = ends[-1]
    hits = _poisson(pcg, total)
    at = np.empty(hits)
    for h in range(hits):
        at[h] = _next_double(pcg) * total
    return at


# ---- numpy's PCG64, stepped where it lives --------------------------------------------------
#
# Handing the model's ``np.random.Generator`` to a compiled function costs about 14 us a call
# (numba unboxes it through ctypes every time), more than the awareness month itself. Instead
# the loops step the generator's own PCG64 state, seen as four uint64 words (:func:`pcg_words`),
# with numpy's algorithms: the same numbers, and the generator is left exactly where numpy's
# own draws would leave it (its buffered half-word, used only by 32-bit draws, is not touched
# by these draws, in numpy or here).

_MULTIPLIER_HI = np.uint64(0x2360ED051FC65DA4)
_MULTIPLIER_LO = np.uint64(0x4385DF649FCCF645)
"""PCG's default 128-bit LCG multiplier M (numpy's ``PCG_DEFAULT_MULTIPLIER_128``), in halves."""


def pcg_words(rng: Any) -> np.ndarray | None:
    """The PCG64 state of ``rng`` as a writable view on the generator's own memory:
    ``[state_lo, state_hi, increment_lo, increment_hi]`` (uint64), so that the loops draw from
    it in place; None where ``rng`` is not a plain ``PCG64`` generator or the memory is laid out
    otherwise (checked against ``bit_generator.state``), and the numpy path is to be used.

    The view stays valid while the generator lives (the caller keeps it), and does not survive
    pickling (make it again from the unpickled generator).
    """
    import ctypes

    bitgen = getattr(rng, "bit_generator", None)
    if type(bitgen) is not np.random.PCG64:
        return None
    # numpy's pcg64_state starts with a pointer to {128-bit state, 128-bit increment}
    address = ctypes.c_void_p.from_address(bitgen.ctypes.state_address).value
    if not address:
        return None
    words = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(address))
    state = bitgen.state["state"]
    low = (1 << 64) - 1
    expected = [state["state"] & low, state["state"] >> 64, state["inc"] & low, state["inc"] >> 64]
    if [int(w) for w in words] != expected:  # e.g. a build without native 128-bit integers
        return None
    return words


def _mulhi_intrinsic():
    """``mulhi(a, b)``: the high 64 bits of the 128-bit product of two uint64 (one machine
    multiplication; numba has no 128-bit integers)."""
    from llvmlite import ir
    from numba.core import types
    from numba.extending import intrinsic

    @intrinsic
    def mulhi(typingctx, a, b):
        if a != types.uint64 or b != types.uint64:
            return None

        def codegen(context, builder, signature, args):
            wide = ir.IntType(128)
            product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
            return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

        return types.uint64(types.uint64, types.uint64), codegen

    return mulhi


def _pcg_step_py(lo, hi, inc_lo, inc_hi):
    """One step of numpy's ``PCG64``: the 128-bit LCG ``state * multiplier + increment``
    modulo 2^128 (halves ``lo``, ``hi``), then the XSL-RR output (high xor low, rotated right
    by the top 6 bits of the state). Returns ``(lo, hi, 64 random bits)``."""
    step_lo = lo * _MULTIPLIER_LO
    step_hi = _mulhi(lo, _MULTIPLIER_LO) + lo * _MULTIPLIER_HI + hi * _MULTIPLIER_LO
    new_lo = step_lo + inc_lo
    carry = np.uint64(1) if new_lo < step_lo else np.uint64(0)
    new_hi = step_hi + inc_hi + carry
    value = new_hi ^ new_lo
    rot = new_hi >> np.uint64(58)
    return new_lo, new_hi, (value >> rot) | (value << ((np.uint64(64) - rot) & np.uint64(63)))


def _pcg_fill_py(pcg, out):
    """``out[:] = random_raw(len(out))``, stepping the state in ``pcg`` (kept in registers
    meanwhile)."""
    lo, hi, inc_lo, inc_hi = pcg[0], pcg[1], pcg[2], pcg[3]
    for i in range(out.shape[0]):
        lo, hi, out[i] = _pcg_step(lo, hi, inc_lo, inc_hi)
    pcg[0] = lo
    pcg[1] = hi


def _pcg_next_py(pcg):
    """numpy's ``PCG64`` next 64 bits (``random_raw``), stepping the state in ``pcg``."""
    lo, hi, out = _pcg_step(pcg[0], pcg[1], pcg[2], pcg[3])
    pcg[0] = lo
    pcg[1] = hi
    return out


def _next_double_py(pcg):
    """numpy's ``next_double``: a uniform on [0, 1) from the top 53 of the next 64 bits."""
    return np.float64(_pcg_next(pcg) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


def _loggam_py(x):
    """numpy's ``random_loggam``: log Gamma(x), for the Poisson's rejection test."""
    a = (
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936507936507937e-04,
        -5.952380952380952e-04,
        8.417508417508418e-04,
        -1.917526917526918e-03,
        6.410256410256410e-03,
        -2.955065359477124e-02,
        1.796443723688307e-01,
        -1.39243221690590e00,
    )
    if x == 1.0 or x == 2.0:
        return 0.0
    n = int(7 - x) if x < 7.0 else 0
    x0 = x + n
    x2 = (1.0 / x0) * (1.0 / x0)
    lg2pi = 1.8378770664093453e00
    gl0 = a[9]
    for k in range(9):
        gl0 *= x2
        gl0 += a[8 - k]
    gl = gl0 / x0 + 0.5 * lg2pi + (x0 - 0.5) * np.log(x0) - x0
    if x < 7.0:
        for _ in range(n):
            gl = gl - np.log(x0 - 1.0)
            x0 = x0 - 1.0
    return gl


def _poisson_py(pcg, lam):
    """numpy's ``random_poisson``: multiplication of uniforms below 10, else Hormann's PTRS
    (transformed rejection), drawing its uniforms with :func:`_next_double_py`."""
    if not lam >= 10:  # numpy's order of tests (a NaN takes the multiplication, and gives 0)
        if lam == 0:
            return 0
        enlam = np.exp(-lam)
        x = 0
        prod = 1.0
        while True:
            prod *= _next_double(pcg)
            if prod > enlam:
                x += 1
            else:
                return x
    slam = np.sqrt(lam)
    loglam = np.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = _next_double(pcg) - 0.5
        v = _next_double(pcg)
        us = 0.5 - np.fabs(u)
        k = np.int64(np.floor((2 * a / us + b) * u + lam + 0.43))  # numpy: floor, then the cast
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if np.log(v) + np.log(invalpha) - np.log(a / (us * us) + b) <= -lam + k * loglam - _loggam(k + 1.0):
            return k


# The compiled loops, set by :func:`enable` (``Any``: numba's dispatchers are not typed).
segment_counts: Any = None
learn_rates: Any = None
chunk_lengths: Any = None
place_hits: Any = None
_unchanged: Any = None
chunk_weights: Any = None
chunk_pick: Any = None
cover: Any = None
appeal_exponent: Any = None
_points: Any = None
_mulhi: Any = None
_pcg_step: Any = None
_pcg_fill: Any = None
_pcg_next: Any = None
_next_double: Any = None
_loggam: Any = None
_poisson: Any = None
choice_chunk: Any = None
awareness_month: Any = None
prepare_choice: Any = None
count_aware: Any = None

if MODE in ON:
    enable()
