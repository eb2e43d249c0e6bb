"""Second coding of the practice bank, as for the transcripts: a blind copy for a second coder, their coding kept
beside the reference as first written, agreement per code and per tier, and a resolution for every disagreement.

A record per practice file, solutions/practice/second-coding/<set>.yaml::

    set: code-reflections
    first:   {cd-ref-001: {code: SR, empathy: 3}, ...}   # the reference as first written
    second:  {cd-ref-001: {code: SR, empathy: 3}, ...}   # a blind coder's: the rubric and the item only
    resolutions:                                         # one per item whose main answers differ
      cd-ref-007: {stands: {code: CR, empathy: 4}, why: "..."}

Run ``python -m autograder.authoring.practice_coding blind OUT`` to write the blind copies and
``python -m autograder.authoring.practice_coding report`` to write second-coding/agreement.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import yaml

from autograder.core.agreement import cohen_kappa, percent_agreement
from course.loading import read_yaml
from course.practice import SHIPPED_PRACTICE, Bank, load_bank, main_answer

RECORDS = "second-coding"
HIDDEN = ("reference", "why")


def blind_copy(practice_set: Path) -> dict:
    """A practice file without its references and reasons: what a blind second coder sees."""
    data = read_yaml(practice_set)
    data["items"] = [{k: v for k, v in item.items() if k not in HIDDEN} for item in data.get("items", [])]
    return data


def write_blind(folder: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(folder.glob("*.yaml")):
        target = out / path.name
        target.write_text(yaml.safe_dump(blind_copy(path), sort_keys=False, allow_unicode=True, width=120))
        written.append(target)
    return written


def read_records(folder: Path = SHIPPED_PRACTICE) -> dict[str, dict]:
    """Every second-coding record, by item id: {"first": ..., "second": ..., "resolution": ... or None}."""
    found: dict[str, dict] = {}
    for path in sorted((folder / RECORDS).glob("*.yaml")):
        record = read_yaml(path)
        first, second = record.get("first") or {}, record.get("second") or {}
        resolutions = record.get("resolutions") or {}
        for item_id in first:
            found[item_id] = {"first": first[item_id], "second": second.get(item_id),
                              "resolution": resolutions.get(item_id), "file": path}
    return found


def _main(kind: str, reference: dict | None) -> str | None:
    if reference is None:
        return None
    return {"code": lambda r: r.get("code"), "best-response": lambda r: r.get("best"),
            "feeling-concern": lambda r: f"{r.get('feeling')}/{r.get('concern')}",
            "refer": lambda r: r.get("decision")}[kind](reference)


def agreement_rows(bank: Bank, records: dict[str, dict]) -> list[dict]:
    """Agreement of the blind second coding with the reference as first written: overall per kind, per code (code
    items, by the first reference's code), and per tier; n, percent agreement, and Cohen's kappa where it is
    defined (a kind or tier with more than one answer in play)."""
    rows = []

    def add(group: str, name: str, ids: Iterable[str]) -> None:
        ids = [i for i in ids if i in records and records[i]["second"] is not None]
        if not ids:
            return
        first = [_main(bank.kind_of[i], records[i]["first"]) for i in ids]
        second = [_main(bank.kind_of[i], records[i]["second"]) for i in ids]
        kappa = cohen_kappa(first, second) if len(set(first) | set(second)) > 1 else float("nan")
        rows.append({"group": group, "name": name, "n": len(ids), "agreement": percent_agreement(first, second),
                     "kappa": kappa})

    for kind in ("code", "best-response", "feeling-concern", "refer"):
        add("kind", kind, [i for i in bank.items if bank.kind_of[i] == kind])
    codes = sorted({records[i]["first"]["code"] for i in bank.items if bank.kind_of[i] == "code" and i in records})
    for code in codes:  # per-code agreement: of the items the reference gives this code, how many the coder did
        add("code", code, [i for i in bank.items if bank.kind_of[i] == "code" and i in records
                           and records[i]["first"]["code"] == code])
    for tier in ("beginner", "intermediate", "advanced"):
        add("tier (code items)", tier, [i for i in bank.items if bank.kind_of[i] == "code"
                                        and bank.items[i].tier == tier])
        add("tier (all items)", tier, [i for i in bank.items if bank.items[i].tier == tier])
    return rows


def problems(bank: Bank, records: dict[str, dict]) -> list[str]:
    """What keeps the record from being complete: an item never second-coded, a first reference that is not what
    was recorded, a disagreement without a resolution, a resolution the bank does not carry out."""
    found = []
    for item_id, item in bank.items.items():
        record = records.get(item_id)
        kind = bank.kind_of[item_id]
        if record is None or record["second"] is None:
            found.append(f"{item_id}: not second-coded")
            continue
        if _main(kind, record["first"]) != _main(kind, record["second"]):
            resolution = record["resolution"]
            if not resolution or not str(resolution.get("why", "")).strip():
                found.append(f"{item_id}: the codings differ and there is no resolution with a why")
            elif _main(kind, resolution.get("stands")) != main_answer(item):
                found.append(f"{item_id}: the resolution says {resolution.get('stands')} stands, but the bank's "
                             f"reference is {item.reference.model_dump()}")
        elif _main(kind, record["first"]) != main_answer(item):
            found.append(f"{item_id}: both coders agreed on {record['first']}, but the bank now says "
                         f"{item.reference.model_dump()}; record why (a resolution)")
    return found


def agreement_markdown(rows: list[dict]) -> str:
    lines = ["| group | name | n | agreement | Cohen's kappa |", "|---|---|---:|---:|---:|"]
    for r in rows:
        kappa = "n/a" if r["kappa"] != r["kappa"] else f"{r['kappa']:.2f}"
        lines.append(f"| {r['group']} | {r['name']} | {r['n']} | {r['agreement']:.0%} | {kappa} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.authoring.practice_coding")
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("blind").add_argument("out", type=Path)
    sub.add_parser("report")
    args = parser.parse_args(argv)
    if args.verb == "blind":
        for path in write_blind(SHIPPED_PRACTICE, args.out):
            print(path)
        return 0
    bank = load_bank([SHIPPED_PRACTICE])
    records = read_records()
    text = agreement_markdown(agreement_rows(bank, records))
    (SHIPPED_PRACTICE / RECORDS / "agreement.md").write_text(
        "# Second coding of the practice bank: agreement before resolution\n\n"
        "The blind second coder's main answer against the reference as first written (code items: the code).\n\n"
        + text, encoding="utf-8")
    print(text)
    left = problems(bank, records)
    for line in left[:40]:
        print("open:", line)
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main())
