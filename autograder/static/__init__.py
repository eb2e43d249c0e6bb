"""Grading from the answers as written: reading answer cells and hidden tests out of a notebook's text and scoring
them with the core, without running anything. Plain data in and out; nbgrader is not imported here."""
