"""nbgrader's view of this course folder, made for Attune.

Attune's settings for every course (where notebooks live, the grading and feedback steps, the collector) come
first, from the installed package (autograder/templates/nbgrader_defaults.py). Below them, this course's own: its
folder and its course id. Set the gradebook here too if it is not the SQLite file beside this one, e.g.
c.CourseDirectory.db_url = "postgresql://grader@db.example.org/attune"; every `attune` command reads it.
"""

import os

import autograder

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
load_subconfig(os.path.join(os.path.dirname(autograder.__file__), "templates", "nbgrader_defaults.py"))  # noqa: F821

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "attune"
