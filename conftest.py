"""Root conftest: loads the project's pytest plugin, :mod:`bench.suite.plugin`, as a fallback.

pyproject.toml loads the plugin (``addopts = "-p bench.suite.plugin"``), but only when pytest
reads that file. An existing path written after one of pytest-benchmark's options with a
space (``--benchmark-json old.json``) makes pytest take it for a test path and choose its
root folder and configuration from it, before it loads any plugin; it then collects the
current folder, so it still loads this file, and the plugin loaded from here stops the run
with the fix (``--benchmark-json=old.json``) instead of running the tests unconfigured.
When pyproject.toml was read, the plugin is loaded already and this does nothing.
"""

pytest_plugins = ["bench.suite.plugin"]
