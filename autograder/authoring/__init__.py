"""Making a course: exercises built from content and keys (build), student versions made by nbgrader
(exercises), and new course folders (course_folder)."""
