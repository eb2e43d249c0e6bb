"""Second coding of the practice bank, as for the transcripts: a blind copy for a second coder, their coding kept
beside the reference as first written, agreement per code and per tier, and a resolution for every disagreement.

A record per practice file, solutions/practice/second-coding/<set>.yaml::

    set: code-reflections
    first:   {cd-ref-001: {code: SR, empathy: 3}, ...}   # the reference as first written
    second:  {cd-ref-001: {code: SR, empathy: 3}, ...}   # a blind coder's: the rubric and the item only
    resolutions:     # one per item the two disagree on (main answer, or empathy more than one level apart)
      cd-ref-007: {code: CR, empathy: 4, why: "one sentence: which reading wins and why"}

Run ``python -m autograder.authoring.practice_coding blind OUT`` to write the blind copies and
``python -m autograder.authoring.practice_coding report`` to write second-coding/agreement.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import yaml

from autograder.core.agreement import adjacent_agreement, cohen_kappa, percent_agreement
from course.loading import read_yaml
from course.practice import EMPATHY_TOLERANCE, SHIPPED_PRACTICE, Bank, load_bank, main_of

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
    return None if reference is None else main_of(kind, reference)


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
    coded = [i for i in bank.items if bank.kind_of[i] == "code" and i in records and records[i]["second"]]
    if coded:  # the empathy level: exact, within one level, and quadratic-weighted kappa
        first = [records[i]["first"]["empathy"] for i in coded]
        second = [records[i]["second"]["empathy"] for i in coded]
        rows.append({"group": "empathy level (code items)", "name": f"within {EMPATHY_TOLERANCE}", "n": len(coded),
                     "agreement": adjacent_agreement(first, second, within=EMPATHY_TOLERANCE),
                     "kappa": cohen_kappa(first, second, weights="quadratic")})
    codes = sorted({records[i]["first"]["code"] for i in bank.items if bank.kind_of[i] == "code" and i in records})
    for code in codes:  # per-code agreement: of the items the reference gives this code, how many the coder did
        add("code", code, [i for i in bank.items if bank.kind_of[i] == "code" and i in records
                           and records[i]["first"]["code"] == code])
    for tier in ("beginner", "intermediate", "advanced"):
        add("tier (code items)", tier, [i for i in bank.items if bank.kind_of[i] == "code"
                                        and bank.items[i].tier == tier])
        add("tier (all items)", tier, [i for i in bank.items if bank.items[i].tier == tier])
    return rows


def disagree(kind: str, first: dict, second: dict) -> bool:
    """Whether two codings of an item need a resolution: their main answers differ, or (code items) their empathy
    levels are further apart than judging allows (course.practice.EMPATHY_TOLERANCE)."""
    if _main(kind, first) != _main(kind, second):
        return True
    if kind == "code":
        a, b = first.get("empathy"), second.get("empathy")
        return isinstance(a, int) and isinstance(b, int) and abs(a - b) > EMPATHY_TOLERANCE
    return False


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
        reference = item.reference.model_dump()
        if disagree(kind, record["first"], record["second"]):
            resolution = record["resolution"]
            if not resolution or not str(resolution.get("why", "")).strip():
                found.append(f"{item_id}: the codings differ and there is no resolution with a why")
            elif {k: resolution.get(k) for k in reference} != reference:
                found.append(f"{item_id}: the resolution says {resolution} stands, but the bank's reference is "
                             f"{reference}")
        elif {k: record["first"].get(k) for k in reference} != reference and not record["resolution"]:
            found.append(f"{item_id}: the reference was first {record['first']}, and the bank now says "
                         f"{reference}; record why (a resolution)")
    return found


def agreement_markdown(rows: list[dict]) -> str:
    lines = ["| group | name | n | agreement | Cohen's kappa |", "|---|---|---:|---:|---:|"]
    for r in rows:
        kappa = "n/a" if r["kappa"] != r["kappa"] else f"{r['kappa']:.2f}"
        lines.append(f"| {r['group']} | {r['name']} | {r['n']} | {r['agreement']:.0%} | {kappa} |")
    return "\n".join(lines) + "\n"


def write_records(bank: Bank, second: dict[str, dict], folder: Path = SHIPPED_PRACTICE) -> list[Path]:
    """Record a blind second coding (item id -> answer fields and why) beside the references as they stand now
    (the first coding), one file per practice set. An existing record keeps its first coding and resolutions;
    only the second coder's entries are added or replaced."""
    by_set: dict[Path, list[str]] = {}
    for item_id in second:
        if item_id in bank.items:
            by_set.setdefault(bank.source[item_id], []).append(item_id)
    written = []
    for source, ids in sorted(by_set.items()):
        path = folder / RECORDS / f"{source.stem}.yaml"
        record = read_yaml(path) if path.is_file() else {"set": source.stem, "first": {}, "second": {},
                                                          "resolutions": {}}
        for item_id in ids:
            record["first"].setdefault(item_id, bank.items[item_id].reference.model_dump())
            record["second"][item_id] = second[item_id]
        record["resolutions"] = record.get("resolutions") or {}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.authoring.practice_coding")
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("blind").add_argument("out", type=Path)
    sub.add_parser("record").add_argument("second", type=Path, nargs="+", help="YAML: item id -> answer and why")
    sub.add_parser("report")
    args = parser.parse_args(argv)
    if args.verb == "blind":
        for path in write_blind(SHIPPED_PRACTICE, args.out):
            print(path)
        return 0
    bank = load_bank([SHIPPED_PRACTICE])
    if args.verb == "record":
        for source in args.second:
            for path in write_records(bank, read_yaml(source)):
                print(path)
        return 0
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
