"""One module per model family, as benchopt has one file per solver (no JAX on import).

Each family module holds, together, everything the benchmark needs of its family: its
:class:`~bench.families.base.ModelFamily` (iteration unit, loss, mistake bound, caps, the
rule it replays, its adapter), its work model, its catalog models, its reference libraries
and their pairings, and the README's sentences about its models (:mod:`bench.families.base`
says which attributes; a sentence is made of :mod:`bench.quotes`, never of the report).
:mod:`bench.catalog` collects them from its ``MODULES`` list; a new family is one module
here, its ``models/`` code and one line in that list. A plugin adds models, libraries,
pairings, figures or sentences to existing families by registering a module of its own
(:func:`bench.catalog.register`).

* :mod:`.perceptron`, :mod:`.glm`, :mod:`.mlp`: the families;
* :mod:`.base`: the values they are made of (no JAX);
* :mod:`.fitting`: the adapter's shared pieces (JAX, imported by an adapter when called).
"""
