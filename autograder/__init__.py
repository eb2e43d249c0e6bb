"""Attune's grading side: a pure scoring core, and thin adapters for nbgrader cells and the command line."""
