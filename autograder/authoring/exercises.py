"""Generating trainee notebooks (exercises/) from the answer keys (solutions/) with the real nbgrader.

Generation runs in a scratch copy of the course folder, so it never touches the course's gradebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from course.errors import AttuneError


def nbgrader_env() -> dict[str, str]:
    """The environment nbgrader needs: this Python's bin/ on PATH (it starts `alembic` as a subprocess)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def run_nbgrader(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in ``cwd``; raise with its output if it fails."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=cwd, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AttuneError(f"`nbgrader {' '.join(args)}` failed in {cwd} (exit {done.returncode}):\n"
                          f"{done.stdout}\n{done.stderr}")
    return done


def assignment_folders(root: Path) -> list[str]:
    """The assignments in ``root``/solutions/: the folders that hold source notebooks. Other folders there
    (practice/, the practice bank's answers) are not assignments and never go to nbgrader."""
    solutions = Path(root) / "solutions"
    return sorted(p.name for p in solutions.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def generate_exercise(root: Path, assignment: str, dest: Path) -> Path:
    """Run `nbgrader generate_assignment` on a scratch copy of ``root``; copy the result to dest/<assignment>."""
    root, dest = Path(root), Path(dest)
    with tempfile.TemporaryDirectory(prefix="attune-generate-") as scratch:
        work = Path(scratch)
        shutil.copy2(root / "nbgrader_config.py", work / "nbgrader_config.py")
        shutil.copytree(root / "solutions" / assignment, work / "solutions" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        run_nbgrader(["generate_assignment", assignment, "--force"], cwd=work)
        target = dest / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(work / "exercises" / assignment, target)
    return target
