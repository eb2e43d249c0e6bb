"""Reading content files (YAML) into validated models, with errors that name file, entry and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from course.errors import AttuneError

M = TypeVar("M", bound=BaseModel)


class ContentError(AttuneError, ValueError):
    """A content file (rubric, transcript, scenario) is broken. The message says where and how to fix it."""


def load_model(path: Path, model: type[M]) -> M:
    """Parse a YAML file and validate it as ``model``; raise ContentError naming file, entry and field."""
    path = Path(path)
    return validate(read_yaml(path), model, path)


def read_yaml(path: Path) -> dict:
    """A content file's top-level mapping; ContentError naming the file (and line) if it cannot be one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found.") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a safe loader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        hint = ("Keep one of them." if isinstance(err, yaml.constructor.ConstructorError)
                else "Check the indentation and quotes.")
        raise ContentError(f"{path}:{where}: not valid YAML ({problem}). {hint}") from None
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping of fields at the top level, found {type(data).__name__}.")
    return data


def validate(data: dict, model: type[M], path: Path) -> M:
    """``data`` (read from ``path``) as ``model``; ContentError naming file, entry and field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: {len(err.errors())} problem(s):"]
        lines += [f"  - {_describe(data, e)}" for e in err.errors()]
        raise ContentError("\n".join(lines)) from None


def content_path(folder: Path, content_id: str, noun: str) -> Path:
    """The file of a piece of content found by id in ``folder``; ContentError listing the known ids if none."""
    path = folder / f"{content_id}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise ContentError(f"No {noun} with id {content_id!r} in {folder}. Known: {known}.")
    return path


def check_id_matches_file(item: M, path: Path) -> M:
    """Content is found by id through its file name, so the two must agree."""
    item_id = getattr(item, "id", None)
    if item_id != path.stem:
        raise ContentError(f"{path}: id: {item_id!r} must match the file name ({path.stem!r}); rename one.")
    return item


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML that refuses a key given twice in one mapping (PyYAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice in one mapping (first on line {seen[key]})",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def require_unique(ids: list[str], what: str) -> None:
    """Raise ValueError naming every id that occurs more than once."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} must be unique; repeated: {', '.join(repeated)}")


def _describe(data: Any, error: dict[str, Any]) -> str:
    """'codes[3] (id 'CR'), field 'definition': Field required' from a pydantic error."""
    loc = error.get("loc", ())
    parts: list[str] = []
    node: Any = data
    field = None
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            item = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("id", item.get("level")), (str, int)):
                key = "id" if "id" in item else "level"
                label += f" ({key} {item[key]!r})"
            parts.append(label)
            node = item
        else:
            field = str(step)
            parts.append(("." if parts else "") + field)
            node = node.get(step) if isinstance(node, dict) else None
    entry = "".join(parts) or "(top level)"
    message = error.get("msg", "invalid")
    if error.get("type") == "extra_forbidden":
        message = "unknown field (check its spelling)"
    return f"{entry}: {message}"
