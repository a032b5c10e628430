"""``python -m bench.separation_cost``: what the separation verdict costs a binomial fit.

For each regime (overlap, separable, quasi; ``n = 200``, ``p = 11`` as in the ``quick``
preset, ``B = 1000`` data sets from :func:`bench.datasets.make`) and dtype this times, in
one process and round-robin so that a shared machine's load falls on every variant alike:

* **fit**: ``jax.jit(jax.vmap(glm.fit))``, the verdict included (the default);
* **fit, no verdict**: the same with ``separation=False``;
* **LP alone**: ``jax.jit(jax.vmap(glm.separation))``, the linear program on every data
  set, as a user calls it without a fit.

Each program is compiled and run once untimed; a *round* then times every variant once,
each call right after an untimed call of the same program. The table gives median fits/s
over the rounds and two ratios, each the median of per-round ratios: the fit with its
verdict against the fit without (the verdict's cost: 1 is free), and the LP alone against
the fit without a verdict (what deciding every data set by the LP would cost). It also
counts the LP's verdicts and the share on which the fit's own verdict is the same.

``--first-order N`` also runs, on the first N overlap data sets, the core of PDLP (the
first-order design the interior-point method was chosen against): primal-dual hybrid
gradient with diagonal steps (Pock and Chambolle 2011) and a restart at the running
average every 200 steps, on Gordan's system ``lam >= 0, sum lam = 1, A^T lam = 0``. It
counts the steps until the multipliers balance as closely as the LP's own certificate
(its ``residual``); each step is two passes over the rows, against the interior-point
method's few steps of a ``p x p`` Gram product and factorisation.
"""

from __future__ import annotations

import argparse
import statistics
import time

__all__ = ["measure", "main"]

REGIMES = ("overlap", "separable", "quasi")


def _timed(program, args) -> float:
    import jax

    jax.block_until_ready(program(*args))  # the same program, untimed, first
    start = time.perf_counter()
    jax.block_until_ready(program(*args))
    return time.perf_counter() - start


def measure(regime: str, dtype: str, *, n_datasets: int, n_samples: int, n_features: int,
            repeats: int) -> dict:
    """Median fits/s of each variant, the paired ratios and the verdict counts."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bench import datasets
    from models import glm

    data = datasets.make(regime, jax.random.key(0), n_datasets=n_datasets,
                         n_samples=n_samples, n_features=n_features, dtype=jnp.dtype(dtype))
    args = (data.X_train, data.y_train)
    programs = {
        "fit": jax.jit(jax.vmap(glm.fit)),
        "fit, no verdict": jax.jit(jax.vmap(lambda X, y: glm.fit(X, y, separation=False))),
        "LP alone": jax.jit(jax.vmap(glm.separation)),
    }
    verdicts = np.asarray(programs["LP alone"](*args).verdict)
    fitted = np.asarray(programs["fit"](*args).separation)
    seconds = {name: [] for name in programs}
    for _ in range(repeats):
        for name, program in programs.items():
            seconds[name].append(_timed(program, args))
    rates = {name: n_datasets / statistics.median(s) for name, s in seconds.items()}

    def paired(a, b):  # how many times faster a is than b, per round
        return statistics.median(tb / ta for ta, tb in zip(seconds[a], seconds[b]))

    counts = {glm.SEPARATION_NAMES[code]: int(np.sum(verdicts == code))
              for code in np.unique(verdicts)}
    return {"rates": rates, "verdict_cost": paired("fit", "fit, no verdict"),
            "lp_vs_fit": paired("LP alone", "fit, no verdict"), "counts": counts,
            "fit_agrees": float(np.mean(fitted == verdicts))}


def first_order_steps(A, target: float, *, max_steps: int = 20_000, restart: int = 200):
    """PDHG steps until ``||A^T lam|| / sum_k lam_k ||a_k|| <= target`` (None: not reached).

    Args:
        A: ``[m, p]`` the signed rows (``+x_i`` for successes, ``-x_i`` for failures), its
            columns scaled to ``max |a_kj| = 1`` as the LP scales them.
        target: the balance to reach.
        max_steps: the most steps taken.
        restart: steps between restarts at the running average.
    """
    import numpy as np

    m, p = A.shape
    K = np.vstack([A.T, np.ones((1, m))])
    b = np.zeros(p + 1)
    b[-1] = 1.0
    primal_step = 1.0 / np.maximum(np.abs(K).sum(0), 1e-300)
    dual_step = 1.0 / np.maximum(np.abs(K).sum(1), 1e-300)
    x, dual = np.full(m, 1.0 / m), np.zeros(p + 1)
    x_sum, dual_sum = np.zeros(m), np.zeros(p + 1)
    norms = np.linalg.norm(A, axis=1)
    for step in range(1, max_steps + 1):
        x_new = np.maximum(x + primal_step * (K.T @ dual), 0.0)
        dual = dual + dual_step * (b - K @ (2 * x_new - x))
        x = x_new
        x_sum += x
        dual_sum += dual
        if step % restart == 0:
            x, dual = x_sum / restart, dual_sum / restart
            x_sum[:], dual_sum[:] = 0.0, 0.0
        if step % 50 == 0 and x.sum() > 0:
            lam = x / x.sum()
            if np.linalg.norm(A.T @ lam) / np.sum(lam * norms) <= target:
                return step
    return None


def first_order(n_sets: int, *, n_samples: int, n_features: int) -> dict:
    """PDHG's steps to the LP's own balance on ``n_sets`` overlap data sets (float64)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from bench import datasets
    from models import glm

    data = datasets.make("overlap", jax.random.key(0), n_datasets=n_sets,
                         n_samples=n_samples, n_features=n_features, dtype=jnp.float64)
    ours = jax.vmap(glm.separation)(data.X_train, data.y_train)
    steps = []
    for X, y, residual in zip(*(np.asarray(a) for a in (data.X_train, data.y_train,
                                                          ours.residual))):
        A = np.concatenate([X[y > 0], -X[y < 1]])
        steps.append(first_order_steps(A / np.abs(A).max(axis=0), float(residual)))
    reached = [s for s in steps if s is not None]
    return {"reached": len(reached), "steps_median": float(np.median(reached)) if reached
            else None, "steps_max": max(reached, default=None),
            "lp_steps_median": float(np.median(np.asarray(ours.n_iter)))}


def main(argv=None) -> int:
    """Run the measurement and print its table; exit 1 below ``--min-ratio`` on overlap."""
    parser = argparse.ArgumentParser(prog="python -m bench.separation_cost",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regimes", nargs="+", choices=REGIMES, default=list(REGIMES))
    parser.add_argument("--dtypes", nargs="+", choices=("float32", "float64"),
                        default=["float64", "float32"])
    parser.add_argument("--n-datasets", type=int, default=1000)
    parser.add_argument("--n-samples", type=int, default=200)
    parser.add_argument("--n-features", type=int, default=10, help="plus an intercept")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds")
    parser.add_argument("--min-ratio", type=float, default=0.9,
                        help="the overlap fit with its verdict, against without, at least")
    parser.add_argument("--first-order", type=int, default=0, metavar="N",
                        help="also count PDHG's steps on the first N overlap data sets")
    args = parser.parse_args(argv)

    import jax
    from tabulate import tabulate

    jax.config.update("jax_enable_x64", True)
    rows, ok = [], True
    for regime in args.regimes:
        for dtype in args.dtypes:
            out = measure(regime, dtype, n_datasets=args.n_datasets, n_samples=args.n_samples,
                          n_features=args.n_features, repeats=args.repeats)
            if regime == "overlap":
                ok &= out["verdict_cost"] >= args.min_ratio
            rates = out["rates"]
            rows.append([regime, dtype, round(rates["fit"]), round(rates["fit, no verdict"]),
                         round(rates["LP alone"]), f"{out['verdict_cost']:.3f}",
                         f"{out['lp_vs_fit']:.3f}",
                         ", ".join(f"{k} {v}" for k, v in out["counts"].items()),
                         f"{100 * out['fit_agrees']:.1f}"])
            print(f"{regime} {dtype}: " + ", ".join(
                f"{name} {rate:,.0f}" for name, rate in rates.items()), flush=True)
    headers = ["regime", "dtype", "fit/s", "fit/s, no verdict", "LP alone/s",
               "fit / no verdict (paired)", "LP alone / no verdict (paired)",
               "LP verdicts", "fit's verdict = LP's %"]
    print(tabulate(rows, headers=headers, tablefmt="github", intfmt=","))
    print(f"fits/s, medians of {args.repeats} rounds; ratios, medians of per-round ratios "
          f"(above 1: faster); B = {args.n_datasets}, n = {args.n_samples}, "
          f"p = {args.n_features + 1}; backend {jax.default_backend()}")
    if args.first_order:
        out = first_order(args.first_order, n_samples=args.n_samples,
                          n_features=args.n_features)
        print(f"first-order (PDHG with restarts) on {args.first_order} overlap data sets: "
              f"reached the LP's balance on {out['reached']}, in a median of "
              f"{out['steps_median']} steps (max {out['steps_max']}; two passes over the "
              f"rows each); the interior-point method took a median of "
              f"{out['lp_steps_median']:g} steps")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
