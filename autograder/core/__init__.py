"""The pure core: plain functions over plain data (scoring, answer literals, feedback text, agreement statistics,
session metrics, simulated coders). No nbgrader, no notebooks run, no database: the learning side (the ``course``
package) uses these too, in every trainee kernel. Imports only course.errors and course.loading below it
(tests/test_layers.py)."""
