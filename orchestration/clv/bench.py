"""Micro-benchmark of the CLV core: fit + predict for N simulated customers.

    python -m orchestration.clv.bench --customers 1000000 [--cold] [--driver]

Prints wall time per step and peak RSS. ``--cold`` points PyTensor at a new,
empty compile cache (a temporary folder), so the figures include compiling;
without it the project's cache (.cache/pytensor) is used, i.e. warm after the
first run. ``--driver`` also times the segment driver end to end (one
industry, so one BG/NBD and one Gamma-Gamma fit plus every prediction), the
path the pipeline runs. No assertions; :func:`run_bench` returns the figures
so the project's main bench can call it.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def run_bench(n_customers: int = 1_000_000, *, seed: int = 0, driver: bool = False,
              out=sys.stdout) -> dict[str, float]:
    """Simulate, fit and predict; return {step: seconds} plus ``peak_rss_mb``."""
    import numpy as np

    from orchestration import clv

    figures: dict[str, float] = {}

    def step(label, fn):
        start = time.perf_counter()
        value = fn()
        figures[label] = time.perf_counter() - start
        print(f"{label:<34} {figures[label]:>8.2f} s   peak RSS {_peak_rss_mb():>7.0f} MB", file=out, flush=True)
        return value

    def simulate():
        rng = np.random.default_rng(seed)
        T = rng.integers(1, 730 + 1, n_customers) / 7.0          # whole days since first purchase, in weeks
        s = clv.simulate_bgnbd(n_customers, r=0.25, alpha=4.0, a=0.8, b=2.5, T=T, rng=rng)
        s["monetary_value"] = clv.simulate_gamma_gamma_spend(s["frequency"], p=6.0, q=4.0, gamma=15.0, rng=rng)
        return s

    step("import pymc-marketing", lambda: __import__("pymc_marketing.clv"))
    s = step(f"simulate {n_customers:,} customers", simulate)
    x, t_x, T, m = (s[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    bg = step("fit BG/NBD (MAP)", lambda: clv.fit_bgnbd(x, t_x, T, time_unit="weeks"))
    gg = step("fit Gamma-Gamma (MAP)", lambda: clv.fit_gamma_gamma(x, m, time_unit="weeks"))
    print(f"  BG/NBD {bg.status}: {bg.params()}\n  Gamma-Gamma {gg.status}: {gg.params()}", file=out)
    step("predict p_alive", lambda: clv.p_alive(bg, x, t_x, T))
    step("predict expected purchases 12m", lambda: clv.expected_purchases(bg, x, t_x, T, horizon_days=365.25))
    step("predict expected order value", lambda: clv.expected_order_value(gg, x, m))
    step("predict CLV (12 monthly terms)", lambda: clv.predicted_clv(bg, gg, x, t_x, T, m, horizon_months=12,
                                                                     margin_rate=0.3,
                                                                     annual_discount_rate=0.10))
    figures["fit_and_predict_total"] = sum(v for k, v in figures.items()
                                           if k.startswith(("fit", "predict")))
    print(f"{'fit + predict total':<34} {figures['fit_and_predict_total']:>8.2f} s", file=out)
    if driver:
        s["customer_id"] = np.arange(n_customers)
        s["industry"], s["merchant"], s["time_unit"] = "bench", None, "weeks"
        step("segment driver end to end", lambda: clv.fit_and_predict_segments(s))
    figures["peak_rss_mb"] = _peak_rss_mb()
    print(f"{'peak RSS':<34} {figures['peak_rss_mb']:>8.0f} MB", file=out)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cold", action="store_true", help="compile into a new, empty PyTensor cache")
    parser.add_argument("--driver", action="store_true", help="also time the segment driver end to end")
    args = parser.parse_args(argv)
    if "pytensor" in sys.modules:
        raise SystemExit("PyTensor is already imported; run the bench in a fresh process")
    if args.cold:
        cache = tempfile.mkdtemp(prefix="pytensor-cold-")
        os.environ["PYTENSOR_FLAGS"] = f"compiledir={cache}"
        print(f"cold run: PyTensor compile cache {cache}")
    else:
        from orchestration import clv  # noqa: F401  (sets the project cache unless the user set one)
        print(f"PyTensor flags: {os.environ.get('PYTENSOR_FLAGS', '')}")
    run_bench(args.customers, seed=args.seed, driver=args.driver)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
