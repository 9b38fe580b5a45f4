"""The benchmark: `python -m bench` from a checkout (not part of the test suite)."""
