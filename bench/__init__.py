"""glmnn-bench's benchmark side: the catalog, data sets, the batched runner, the record.

Importing ``bench`` imports no JAX, so :mod:`bench.report` (publishing and comparing runs)
works without an accelerator stack. The modules, one concern each:

* :mod:`bench.catalog`: what each model and regime is, once (no JAX);
* :mod:`bench.presets`, :mod:`bench.cases`: the sizes and the matrix (no JAX);
* :mod:`bench.record`: the typed run record, its one writer and one reader (no JAX);
* :mod:`bench.paths`, :mod:`bench.temporaries`, :mod:`bench.destinations`: where runs go,
  written safely, and never over a published run (no JAX);
* :mod:`bench.interrupts`: a Ctrl-C held while a process starts and while XLA compiles, and
  never lost (no JAX);
* :mod:`bench.memory`: sizes a device cannot hold, refused before compiling (no JAX);
* :mod:`bench.datasets`: one generator per regime;
* :mod:`bench.adapters`: how each model family is fitted and evaluated;
* :mod:`bench.runner`, :mod:`bench.scale`, :mod:`bench.stats`: fit a case, in bounded
  memory, reduced to mergeable statistics;
* :mod:`bench.timing`, :mod:`bench.roofline`, :mod:`bench.machine`: honest timing, work
  counts and ceilings, what the run ran on;
* :mod:`bench.separation_cost`, :mod:`bench.many_shapes`: what the separation verdict
  costs, and single fits of many shapes (``python -m``);
* :mod:`bench.baselines`: the reference libraries;
* :mod:`bench.suite`: the pytest-benchmark modules; :mod:`bench.report`: tables, sentences,
  plots, publishing, comparing; ``python -m bench``: the command line, its cases
  (:mod:`bench.selection`) and progress (:mod:`bench.progress`).
"""
