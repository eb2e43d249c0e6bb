"""The code base stays ruff clean (the project's lint rules live in pyproject.toml)."""

import subprocess
import sys

from conftest import ROOT


def test_ruff_clean():
    targets = ["course", "autograder", "tests", "nbgrader_config.py"]
    done = subprocess.run([sys.executable, "-m", "ruff", "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
