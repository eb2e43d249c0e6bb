"""Crisis and support resources: a course setting the instructor adapts to the region.

The default is course/resources.yaml. An instructor points ATTUNE_RESOURCES at their own file (same format) to
localise it without editing the course, for example in the JupyterHub spawner's environment.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from course import CONTENT_DIR
from course.loading import load_model

RESOURCES_PATH = CONTENT_DIR / "resources.yaml"
ENV_VAR = "ATTUNE_RESOURCES"


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=2)
    contact: str = Field(min_length=2)
    when: str = Field(min_length=3)


class Resources(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    region: str = Field(min_length=2)
    intro: str = Field(min_length=10)
    resources: list[Resource] = Field(min_length=1)


def resources_path() -> Path:
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else RESOURCES_PATH


def load_resources(path: Path | str | None = None) -> Resources:
    """The resources in force: the given file, else $ATTUNE_RESOURCES, else the course default."""
    return load_model(Path(path) if path else resources_path(), Resources)


def resources_html(resources: Resources | None = None) -> str:
    r = resources or load_resources()
    items = "".join(f"<li><b>{html.escape(x.name)}</b>: {html.escape(x.contact)} ({html.escape(x.when)})</li>"
                    for x in r.resources)
    return (f'<div class="attune-resources" role="note"><p><b>Support</b> ({html.escape(r.region)}). '
            f"{html.escape(r.intro)}</p><ul>{items}</ul></div>")


def resources_text(resources: Resources | None = None) -> str:
    r = resources or load_resources()
    lines = [f"Support ({r.region}). {r.intro}"]
    lines += [f"- {x.name}: {x.contact} ({x.when})" for x in r.resources]
    return "\n".join(lines)


class _Shown:
    def _repr_html_(self) -> str:
        return resources_html()

    def __repr__(self) -> str:
        return resources_text()


def show_resources() -> _Shown:
    """Display the resources in a notebook (HTML, with a plain-text fallback)."""
    return _Shown()
