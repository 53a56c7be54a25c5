"""fio's latency histogram arithmetic (json+ `bins`), done fio's way.

fio keeps every latency in a log-linear histogram (stat.h: 64 sub-buckets per
power of two, ~0.8 % resolution) and prints each non-empty bucket as
`"<bucket mid-point ns>": count`. Summing those maps key by key is exactly what
fio's own `group_reporting` does (`sum_thread_stats` adds `io_u_plat`), so a
percentile read from summed bins is exact across jobs, repeats and VMs, where
averaging percentiles is simply wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction

Bins = Mapping[int, int]


def merge_bins(parts: Iterable[Bins]) -> dict[int, int]:
    """Add histograms bucket by bucket (the keys are the same buckets in every fio >= 3)."""
    total: Counter[int] = Counter()
    for bins in parts:
        total.update(bins)
    return {value: count for value, count in sorted(total.items()) if count}


def percentiles(bins: Bins, wanted: Iterable[float]) -> dict[float, int]:
    """fio's rule (`calc_clat_percentiles`): the first bucket whose running count
    reaches p/100 of all samples. Compared in exact fractions so a boundary lands
    where fio's long-double comparison puts it.
    """
    targets = sorted(set(wanted))
    total = sum(bins.values())
    if total == 0:
        return {}
    result: dict[float, int] = {}
    running = 0
    pending = iter(targets)
    current = next(pending, None)
    for value in sorted(bins):
        running += bins[value]
        while current is not None and running * 100 >= Fraction(current) * total:
            result[current] = value
            current = next(pending, None)
    return result


def bucket_of(value_ns: int) -> int:
    """The fio bucket index holding `value_ns` (stat.c `plat_val_to_idx`); tests use it
    to say "within one bucket"."""
    if value_ns < 128:
        return value_ns
    msb = value_ns.bit_length() - 1
    error_bits = msb - 6
    return (error_bits + 1) * 64 + ((value_ns >> error_bits) & 63)


def bucket_value(index: int) -> int:
    """The value fio prints for bucket `index` (stat.c `plat_idx_to_val`): its mid-point."""
    if index < 128:
        return index
    error_bits = (index >> 6) - 1
    base = 1 << (error_bits + 6)
    return base + int(((index % 64) + 0.5) * (1 << error_bits))


def bins_from_samples(values_ns: Iterable[int]) -> dict[int, int]:
    """A json+ style histogram from raw latencies (e.g. fio's per-I/O latency log)."""
    counts: Counter[int] = Counter(bucket_value(bucket_of(v)) for v in values_ns)
    return dict(sorted(counts.items()))
