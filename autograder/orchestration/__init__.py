"""`attune grade` over a cohort: static grading, sharded executed grading, and the executed-vs-static cross-check.
Built on the adapters (gradebook, configuration) and the static grading below it."""
