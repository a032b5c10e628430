"""What the pytest processes that the tests start are given, beside their own options."""

#: Hypothesis's pytest plugin is 0.8 of the 3 s that a child pytest takes to start, and no
#: child runs a property test.
QUIET_CHILD = ("-p", "no:hypothesispytest")
