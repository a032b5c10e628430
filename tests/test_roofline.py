"""bench.roofline: the analytic work counts and the roofline arithmetic."""

import math

import pytest

from bench.catalog import CatalogError
from bench.roofline import analytic_work, measure_ceilings, roofline_fields


def test_glm_work_count_by_hand():
    # n = 200, p = 11 (10 features + intercept), float64, 5 iterations in all.
    flops, moved = analytic_work("glm", n_samples=200, n_features=10, dtype="float64",
                                 n_iter_sum=5)
    assert flops == 5 * (200 * 11 * 12 + 8 * 200 * 11 + 11**3 / 3)
    assert moved == 5 * 200 * 13 * 8


def test_roofline_pct_is_achieved_over_the_lower_of_the_two_bounds():
    info = dict(model="perceptron", n_samples=100, n_features=3, dtype="float32",
                n_iter_mean=10.0, n_datasets=1000, seconds=0.5)
    flops, moved = 4 * 100 * 4 * 10_000, 100 * 5 * 4 * 10_000
    ceilings = {"matmul_gflops_float32": 50.0, "copy_gbps": 10.0}
    out = roofline_fields(info, ceilings)
    assert out["gflops"] == pytest.approx(flops / 0.5 / 1e9)
    assert out["intensity"] == pytest.approx(flops / moved)  # 0.8 FLOP/byte: memory bound
    bound = min(50.0, 0.8 * 10.0)
    assert out["roofline_bound_gflops"] == pytest.approx(bound)
    assert out["roofline_pct"] == pytest.approx(100 * out["gflops"] / bound)


def test_a_model_outside_the_catalog_has_no_work_model_and_says_so():
    # It used to get {} silently; a model the catalog lacks is now an error.
    with pytest.raises(CatalogError, match="unknown model 'datasets'"):
        roofline_fields({"model": "datasets", "n_samples": 4, "n_features": 1,
                         "dtype": "float32", "n_iter_mean": 1.0, "n_datasets": 1,
                         "seconds": 1.0}, None)


def test_measured_ceilings_are_positive_and_finite():
    ceilings = measure_ceilings(matmul_size=64, copy_mib=1)
    for key in ("matmul_gflops_float32", "matmul_gflops_float64", "copy_gbps"):
        assert math.isfinite(ceilings[key]) and ceilings[key] > 0
