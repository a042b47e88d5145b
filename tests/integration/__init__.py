"""Integration tests: amplifier's adapters against real servers we did not write."""
