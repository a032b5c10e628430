"""glmnn-bench's benchmark side: the catalog, data sets, the batched runner, the record.

Importing ``bench`` imports no JAX, so :mod:`bench.report` (publishing and comparing runs)
works without an accelerator stack. The modules, one concern each:

* :mod:`bench.catalog`: what each model, regime, reference library and figure is, once,
  collected from :mod:`bench.families` (one module per model family: its adapter, work
  model, models, reference libraries and their pairings, and the README's sentences about
  its models) and :mod:`bench.regimes`, the kinds of data (no JAX on import);
* :mod:`bench.presets`, :mod:`bench.cases`: the sizes and the matrix (no JAX);
* :mod:`bench.record`: the typed run record, its one writer and one reader (no JAX);
* :mod:`bench.paths`, :mod:`bench.temporaries`, :mod:`bench.destinations`: where runs go,
  written safely, and never over a published run (no JAX);
* :mod:`bench.interrupts`: a Ctrl-C held while a process starts and while XLA compiles, and
  never lost (no JAX);
* :mod:`bench.memory`: sizes a device cannot hold, refused before compiling (no JAX);
* :mod:`bench.datasets`, :mod:`bench.realdata`: one generator per regime, and the real data
  sets that the resampled regimes draw from;
* :mod:`bench.adapters`: a catalog model's fit and evaluation (its family's adapter) at a
  preset's budget, and its batched fit;
* :mod:`bench.runner`, :mod:`bench.scale`, :mod:`bench.stats`: fit a case, in bounded
  memory, reduced to mergeable statistics;
* :mod:`bench.timing`, :mod:`bench.roofline`, :mod:`bench.machine`: honest timing, work
  counts and ceilings, what the run ran on;
* :mod:`bench.separation_cost`, :mod:`bench.many_shapes`, :mod:`bench.grouping`: what the
  separation verdict costs, single fits of many shapes, and batching against hand chunking
  (``python -m``);
* :mod:`bench.baselines`: the reference-library rows (which library is timed against which
  model and regime; the libraries live with their family); :mod:`bench.peers`: the JAX
  peers' batched fits; :mod:`bench.figures`: the fits behind the built-in figures;
* :mod:`bench.suite`: the pytest-benchmark modules and the project's pytest plugin;
  :mod:`bench.report`: tables, sentences, plots, publishing, comparing, with
  :mod:`bench.formats` (how each kind of number is written) and :mod:`bench.quotes` (what a
  sentence is made of), which the family modules' sentences use too (no JAX);
  ``python -m bench``: the command line, its cases (:mod:`bench.selection`) and progress
  (:mod:`bench.progress`).
"""
