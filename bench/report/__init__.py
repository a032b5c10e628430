"""Reporting: a run's record in, tables, sentences, plots, a run folder and comparisons out.

It imports no JAX (as pytest-benchmark's own ``compare`` never imports the timed code), so
publishing and comparing runs needs no accelerator stack. How each kind of number is
written (:mod:`bench.formats`) and what a sentence is made of (:mod:`bench.quotes`) live
beside the package, so that the family modules, which hold the sentences about their own
models, use them without loading the report. One module per concern:

* :mod:`.matching`: table order, our case for each baseline, the key runs are compared on;
* :mod:`.tables`: the convergence, speed, baseline and scaling tables (tabulate);
* :mod:`.sentences`: the sentences that read the numbers;
* :mod:`.readme`: a run folder's README;
* :mod:`.summary`: its ``summary.csv``;
* :mod:`.plots`: its PNG plots (matplotlib, the ``plot`` extra);
* :mod:`.folders`: run folder names and metadata, safe creation, the index;
* :mod:`.publishing`: publishing a run; :mod:`.compare`: comparing two.
"""

from bench.record import RecordError as RecordError
from bench.report.compare import compare as compare
from bench.report.folders import PublishError as PublishError
from bench.report.folders import run_metadata as run_metadata
from bench.report.folders import write_index as write_index
from bench.report.publishing import AlreadyPublished as AlreadyPublished
from bench.report.publishing import NothingToPublish as NothingToPublish
from bench.report.publishing import publish as publish
from bench.report.publishing import reindex as reindex
from bench.report.sentences import reading_sentences as reading_sentences
from bench.report.summary import summary_rows as summary_rows

__all__ = ["publish", "reindex", "compare", "reading_sentences", "summary_rows", "run_metadata",
           "write_index", "RecordError", "PublishError", "NothingToPublish", "AlreadyPublished"]
