"""Importing a research corpus (CSV/TSV, one row per utterance) into transcripts, key drafts and second-coding
records: the fixtures in tests/fixtures/imports/corpus-* are invented, messy the way real exports are (BOM, CRLF,
rows out of order, repeated annotators, yes/no + subtype label columns)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from autograder.authoring.importers.corpus import (
    CorpusColumns,
    import_corpus,
    parse_mapping,
    plan_corpus,
    slug,
)
from autograder.core.agreement import cohen_kappa
from autograder.instructor.second_coding import compare, load_records
from course.errors import AttuneError
from course.loading import ContentError
from course.rubric import load_rubric
from course.transcript import load_transcript

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
SESSIONS = FIXTURES / "corpus-sessions.csv"
MAPPING = FIXTURES / "corpus-mapping.yaml"
SESSION_COLUMNS = CorpusColumns(transcript="session_id", position="utt_no", speaker="interlocutor",
                                text="utterance", annotator="coder")
SPEAKERS = {"listener": ["therapist", "T"], "client": ["client", "C"]}


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def import_sessions(course: Path, **kw):
    options = {"course_root": course, "columns": SESSION_COLUMNS, "mapping_path": MAPPING, "key_annotator": "ann_a",
               **SPEAKERS, **kw}
    return import_corpus(SESSIONS, **options)


def test_the_fixture_is_as_messy_as_promised():
    data = SESSIONS.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    assert b'"Yes!\r\nAnd' in data  # a line break inside a quoted cell


def test_a_csv_corpus_becomes_transcripts_keys_and_records(tmp_path):
    report = import_sessions(tmp_path)
    assert files_in(tmp_path) == [
        "content/transcripts/corpus-s-03.yaml", "content/transcripts/corpus-session-01.yaml",
        "content/transcripts/corpus-session-02-b.yaml",
        "keys/corpus-s-03.yaml", "keys/corpus-session-01.yaml", "keys/corpus-session-02-b.yaml",
        # s-03 was coded by ann_a only: no second coding
        "keys/second-coding/corpus-session-01.yaml", "keys/second-coding/corpus-session-02-b.yaml"]
    assert (report.transcripts, report.turns, report.listener_turns, report.utterances, report.rows) == (3, 23, 12,
                                                                                                        25, 45)
    assert (report.coded, report.uncovered, report.conflicts) == (10, 2, 1)
    assert report.annotators == ("ann_a", "ann_b") and report.key_annotator == "ann_a"

    # Rows out of order come back in position order; consecutive rows of one speaker are one turn.
    session = load_transcript(tmp_path / "content" / "transcripts" / "corpus-session-01.yaml")
    assert [t.id for t in session.turns] == ["C1", "T1", "C2", "T2", "C3", "T3", "C4", "T4", "C5", "T5"]
    assert session.turns[5].text == ("You miss having him close by. It's a big change, after all those years sharing "
                                     "a home.")
    second = load_transcript(tmp_path / "content" / "transcripts" / "corpus-session-02-b.yaml")
    assert second.turns[0].text == 'My manager, right, she said my reports were "sloppy" in front of everyone.'
    assert second.turns[2].text == "Yes! And I'd stayed late all week to finish them."  # the cell's line break
    assert second.title == "Corpus transcript session_02/B"

    # The key draft: ann_a's codes, from yes/no + subtype columns; T4 (covered by no rule) is left out, not guessed.
    key = yaml.safe_load((tmp_path / "keys" / "corpus-session-01.yaml").read_text())
    assert key == {"transcript": "corpus-session-01", "turns": {
        "T1": {"code": "SR", "empathy": 3, "why": ""}, "T2": {"code": "OQ", "empathy": 3, "why": ""},
        "T3": {"code": "CR", "empathy": 4, "why": ""}, "T5": {"code": "CQ", "empathy": 2, "why": ""}}}
    # Values compare without case and surrounding spaces: "Complex", "YES", "complex ".
    assert yaml.safe_load((tmp_path / "keys" / "corpus-s-03.yaml").read_text())["turns"] == {
        "T1": {"code": "OQ", "empathy": 3, "why": ""}, "T2": {"code": "CR", "empathy": 4, "why": ""},
        "T3": {"code": "CR", "empathy": 4, "why": ""}}


def test_what_is_left_out_is_reported_with_turn_line_and_values(tmp_path):
    report = import_sessions(tmp_path)
    problems = [str(p) for p in report.problems]
    assert problems == [
        "corpus-session-01, T4, line 28: no rule covers it by ann_a: reflection='no', reflection_type='', "
        "question='no', question_type='', empathy='2'; turn left out",
        "corpus-session-01, T4, line 4: no rule covers it by ann_b: reflection='no', reflection_type='', "
        "question='no', question_type='', empathy='2'; turn left out",
        "corpus-session-02-b, T3: its rows (lines 17, 22) merge into one turn but were coded differently by ann_a: "
        "codes OQ, CQ; levels 3, 2; turn left out (split the turn or choose in the key)"]
    # The row lines are the file's lines (line 13 starts a cell that runs over two lines).
    lines = SESSIONS.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[27].startswith("Session 01,9,therapist,Mm-hm.,ann_a") and lines[3].startswith("Session 01,9,")
    assert lines[16].startswith("session_02/B,6,T") and lines[21].startswith("session_02/B,7,T")
    key = yaml.safe_load((tmp_path / "keys" / "corpus-session-02-b.yaml").read_text())
    assert sorted(key["turns"]) == ["T1", "T2", "T4"]  # T3, the merged turn in conflict, is for the instructor
    printed = report.format()
    assert "Coded 10 of 12 listener turns" in printed and "3 problem(s):" in printed and "pseudonymise" in printed


def test_second_coding_records_are_what_compare_reads(tmp_path):
    import_sessions(tmp_path)
    levels = load_rubric().empathy_levels
    # The records sit where second_coding.load_records looks in an exercise's keys.
    solutions = tmp_path / "solutions"
    shutil.copytree(tmp_path / "keys", solutions / "ex01" / "keys")
    records = load_records(solutions)
    assert sorted(records) == ["corpus-session-01", "corpus-session-02-b"]
    session = records["corpus-session-01"]
    assert session["first"] == {"T1": {"code": "SR", "empathy": 3}, "T2": {"code": "OQ", "empathy": 3},
                                "T3": {"code": "CR", "empathy": 4}, "T5": {"code": "CQ", "empathy": 2}}
    assert session["second"]["T3"] == {"code": "SR", "empathy": 3}  # ann_b's reading of the merged turn
    for record in records.values():
        turns = list(record["first"])
        comparison = compare(record["first"], record["second"], levels)
        expected = cohen_kappa([record["first"][t]["code"] for t in turns],
                               [record["second"][t]["code"] for t in turns])
        assert comparison.code_kappa == pytest.approx(expected)
    assert compare(session["first"], session["second"], levels).disagreements == (("T3", "code", "CR", "SR"),
                                                                                  ("T3", "empathy", 4, 3))
    # The key's turns the other annotator also coded: none of the left-out ones.
    assert list(records["corpus-session-02-b"]["first"]) == ["T1", "T2", "T4"]


def test_three_annotators_give_one_record_per_extra_annotator(tmp_path):
    report = import_corpus(FIXTURES / "corpus-three-coders.tsv", course_root=tmp_path,
                           columns=CorpusColumns("dialogue", "idx", "spk", "utt", annotator="rater"),
                           listener=["listener"], client=["speaker"], mapping_path=MAPPING, key_annotator="r1",
                           prefix="peer")
    assert report.annotators == ("Rater 3", "r1", "r2")
    assert files_in(tmp_path / "keys") == ["peer-d-14.yaml", "second-coding/peer-d-14.r2.yaml",
                                           "second-coding/peer-d-14.rater-3.yaml"]
    r2 = yaml.safe_load((tmp_path / "keys" / "second-coding" / "peer-d-14.r2.yaml").read_text())
    assert r2["first"]["T2"] == {"code": "SR", "empathy": 3} and r2["second"]["T2"] == {"code": "CR", "empathy": 4}
    rater3 = yaml.safe_load((tmp_path / "keys" / "second-coding" / "peer-d-14.rater-3.yaml").read_text())
    assert rater3["second"]["T1"]["code"] == "CQ"
    assert compare(rater3["first"], rater3["second"], load_rubric().empathy_levels).turns == 3


def test_a_tsv_without_annotators(tmp_path):
    report = import_corpus(FIXTURES / "corpus-walk-ins.tsv", course_root=tmp_path,
                           columns=CorpusColumns("conv_id", "turn", "role", "text"), listener=["Counsellor"],
                           client=["client"], mapping_path=MAPPING, tier="beginner")
    assert files_in(tmp_path) == ["content/transcripts/corpus-walk-in-7.yaml",
                                  "content/transcripts/corpus-walk-in-8.yaml", "keys/corpus-walk-in-7.yaml",
                                  "keys/corpus-walk-in-8.yaml"]  # no annotators, no second coding
    walk_in = load_transcript(tmp_path / "content" / "transcripts" / "corpus-walk-in-7.yaml")
    assert walk_in.tier == "beginner" and len(walk_in.turns) == 6  # "5.0" is position 5, "Counsellor " a label
    assert [str(p) for p in report.problems] == [
        "corpus-walk-in-8, line 11: position 4: no text; left out",
        "corpus-walk-in-7, T3, line 7: several rules cover it (CR, OQ): reflection='yes', "
        "reflection_type='complex', question='yes', question_type='open', empathy='4'; turn left out"]
    assert report.uncovered == 1 and report.coded == 4


def test_without_a_mapping_only_transcripts_are_written(tmp_path):
    report = import_corpus(SESSIONS, course_root=tmp_path, columns=SESSION_COLUMNS, **SPEAKERS)
    assert files_in(tmp_path) == ["content/transcripts/corpus-s-03.yaml", "content/transcripts/corpus-session-01.yaml",
                                  "content/transcripts/corpus-session-02-b.yaml"]
    assert report.coded == 0 and report.problems == []


def test_named_empathy_values_and_the_rubric_of_the_course(tmp_path):
    text = "codes:\n  - {when: {reflection: yes}, code: CR}\nempathy:\n  column: empathy\n  values: {low: 1, high: 9}\n"
    with pytest.raises(ContentError, match=r"m.yaml: line 5: 'high': '9' is not a level of the rubric in force"):
        parse_mapping(text, "m.yaml", ("CR", "SR"), (1, 2, 3, 4, 5))
    mapping = parse_mapping((FIXTURES / "corpus-mapping-named-levels.yaml").read_text(), "named.yaml",
                            load_rubric().code_ids, load_rubric().empathy_levels)
    assert mapping.empathy is not None and dict(mapping.empathy.values) == {"low": 1, "some": 3, "high": 5}
    assert [dict(rule.when) for rule in mapping.codes] == [{"reflection": {"yes"}}, {"question": {"yes"}}]


# -- errors: named, and nothing written -----------------------------------------------------------------------------
def test_an_unknown_speaker_label_lists_every_label_found(tmp_path):
    with pytest.raises(ContentError) as err:
        import_corpus(FIXTURES / "corpus-unknown-speaker.csv", course_root=tmp_path, listener=["therapist"],
                      client=["client"], columns=CorpusColumns("session_id", "utt_no", "interlocutor", "utterance"))
    assert "speaker label(s) neither listener nor client: 'Interviewer' (first on line 3); 'Observer' (first on " \
           "line 6)" in str(err.value)
    assert files_in(tmp_path) == []


def test_a_cp1252_file_names_the_encoding_and_iconv(tmp_path):
    from charset_normalizer import from_bytes

    path = FIXTURES / "corpus-cp1252.csv"
    guess = from_bytes(path.read_bytes()).best().encoding
    with pytest.raises(ContentError) as err:
        import_corpus(path, course_root=tmp_path, listener=["therapist"], client=["client"],
                      columns=CorpusColumns("session_id", "utt_no", "interlocutor", "utterance"))
    message = str(err.value)
    assert str(path) in message and "line 2: not UTF-8" in message and f"guesses {guess}" in message
    assert "cp1252" in message and f"iconv -f {guess} -t UTF-8 corpus-cp1252.csv" in message
    assert files_in(tmp_path) == []


def test_a_mapping_to_a_code_not_in_the_rubric_names_the_mapping_line(tmp_path):
    mapping = FIXTURES / "corpus-mapping-bad-code.yaml"
    with pytest.raises(ContentError, match=rf"^{mapping}: line 5: code 'OPQ' is not in the rubric in force \(OQ, "):
        import_sessions(tmp_path, mapping_path=mapping)
    assert files_in(tmp_path) == []


def test_a_rule_naming_a_column_the_file_lacks_names_the_mapping_line(tmp_path):
    mapping = FIXTURES / "corpus-mapping-missing-column.yaml"
    with pytest.raises(ContentError, match=rf"^{mapping}: line 3: column 'affirmation': not in {SESSIONS}, whose "
                                           "header has: session_id, utt_no"):
        import_sessions(tmp_path, mapping_path=mapping)
    assert files_in(tmp_path) == []


def test_a_course_rubric_decides_which_codes_exist(tmp_path):
    own = tmp_path / "content"
    own.mkdir()
    rubric = yaml.safe_load((ROOT / "course" / "rubric.yaml").read_text())
    rubric["codes"] = [c for c in rubric["codes"] if c["id"] != "CQ"]
    rubric["decision_rules"] = [r for r in rubric["decision_rules"] if "CQ" not in r["codes"]]
    (own / "rubric.yaml").write_text(yaml.safe_dump(rubric, sort_keys=False))
    with pytest.raises(ContentError, match=rf"{MAPPING}: line 7: code 'CQ' is not in the rubric in force"):
        import_sessions(tmp_path)
    assert files_in(tmp_path) == ["content/rubric.yaml"]


def test_a_transcript_that_does_not_validate_stops_every_write(tmp_path):
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("id,n,who,text\na,1,client,Hello there.\na,2,therapist,Hi; come in.\n"
                      "b,1,client,Only the client speaks here.\nb,2,client,And again.\n", encoding="utf-8")
    course = tmp_path / "course"
    with pytest.raises(ContentError) as err:
        import_corpus(corpus, course_root=course, columns=CorpusColumns("id", "n", "who", "text"),
                      listener=["therapist"], client=["client"])
    assert "1 transcript(s) do not validate; nothing written" in str(err.value)
    assert "turns: List should have at least 2 items after validation, not 1 (corpus transcript 'b', from line 4)" \
        in str(err.value)
    assert not course.exists()


def test_errors_in_rows_are_listed_together(tmp_path):
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("id,n,who,text,coder,empathy,reflection\n"
                      "a,1,client,Hello.,x,,\na,one,therapist,Hi.,x,3,yes\na,3,therapist,Hi.,x,8,yes\n"
                      "a,3,therapist,Hi again.,x,3,yes\na,4,client,Well, I came.,x,,\na,5,therapist,Good.,x,3,yes,,\n",
                      encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("codes:\n  - {when: {reflection: yes}, code: SR}\nempathy: {column: empathy}\n")
    with pytest.raises(ContentError) as err:
        import_corpus(corpus, course_root=tmp_path / "course", columns=CorpusColumns("id", "n", "who", "text", "coder"),
                      listener=["therapist"], client=["client"], mapping_path=mapping)
    assert str(err.value).splitlines() == [
        f"{corpus}: 5 problem(s) to fix before anything is written:",
        f"  - empathy column 'empathy': value(s) not on the rubric's scale: '8' (first on line 4); map them with "
        f"values: {{label: level}} in the mapping file ({mapping}, line 3)",
        "  - line 3: position 'one' is not a whole number",
        "  - line 5: transcript 'a' position 3 given twice by x (first on line 4)",
        "  - line 6: 8 cells, the header has 7; quote the cells that hold the delimiter",
        "  - line 7: 9 cells, the header has 7; quote the cells that hold the delimiter"]  # even if empty


def test_no_file_is_replaced_without_force(tmp_path):
    import_sessions(tmp_path)
    key = tmp_path / "keys" / "corpus-session-01.yaml"
    key.write_text("transcript: corpus-session-01\n# the instructor's reasons, written by hand\n")
    with pytest.raises(ContentError, match=r"8 file\(s\) exist already; nothing written \(pass force"):
        import_sessions(tmp_path)
    assert "by hand" in key.read_text()
    import_sessions(tmp_path, force=True)
    assert "by hand" not in key.read_text()


def test_the_key_annotator_must_be_chosen_among_those_found(tmp_path):
    with pytest.raises(AttuneError, match=r"several annotators \(ann_a, ann_b\); choose whose codes"):
        import_sessions(tmp_path, key_annotator=None)
    with pytest.raises(AttuneError, match=r"no rows by the key annotator 'ann_c'.*annotators found: ann_a, ann_b"):
        import_sessions(tmp_path, key_annotator="ann_c")
    with pytest.raises(ContentError, match=r"no speaker column 'speaker', no text column 'text'; the header has: "
                                           r"session_id, utt_no, .* \(read with the delimiter ','\)"):
        import_corpus(SESSIONS, course_root=tmp_path, columns=CorpusColumns("session_id", "utt_no", "speaker", "text"),
                      **SPEAKERS)
    assert files_in(tmp_path) == []


def test_ids_are_safe_slugs_and_clashes_are_errors():
    assert slug("Session 12/B") == "session-12-b" and slug("Café_Ünïcode  ") == "cafe-unicode"
    rows = [(2, ["A 1", "1", "client", "Hello."]), (3, ["A 1", "2", "therapist", "Hi."]),
            (4, ["a-1", "1", "client", "Hello."]), (5, ["a-1", "2", "therapist", "Hi."])]
    with pytest.raises(ContentError, match=r"transcript ids 'A 1' and 'a-1' both become 'corpus-a-1'"):
        plan_corpus(["id", "n", "who", "text"], rows, source="x.csv", columns=CorpusColumns("id", "n", "who", "text"),
                    listener=["therapist"], client=["client"])


def test_awkward_texts_survive_the_yaml_written_directly(tmp_path):
    texts = ["yes", "null", "- a dash: and a colon # and a hash", 'She said "no" \\ then \'left\'', "3.0",
             "Ça va? Ünïcödé, emoji 🙂, tabs\tand\x07 a bell\x85next", "{not: a mapping}", "@at & *star !bang %pct"]
    corpus = tmp_path / "awkward.csv"
    with corpus.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "n", "who", "text"])
        writer.writerows([["x: y", i, "client" if i % 2 else "therapist", text] for i, text in enumerate(texts, 1)])
    import_corpus(corpus, course_root=tmp_path, columns=CorpusColumns("id", "n", "who", "text"),
                  listener=["therapist"], client=["client"], title_prefix="Awkward: 'quotes' # and")
    transcript = load_transcript(tmp_path / "content" / "transcripts" / "corpus-x-y.yaml")
    assert [t.text for t in transcript.turns] == [*texts[:5], "Ça va? Ünïcödé, emoji 🙂, tabs and a bell next",
                                                  *texts[6:]]
    assert transcript.title == "Awkward: 'quotes' # and x: y"


def test_attune_import_csv_from_inside_a_course_folder(tmp_path):
    """The command line, as an instructor types it, in a course made by `attune init`; then validate sees the
    transcripts, and names the keys' rationales still to write."""
    import subprocess
    import sys

    from autograder.authoring.course_folder import init_course

    course = init_course(tmp_path / "c")
    command = [sys.executable, "-m", "autograder.cli", "import", "csv", str(SESSIONS), "--transcript-col",
               "session_id", "--position-col", "utt_no", "--speaker-col", "interlocutor", "--text-col", "utterance",
               "--listener", "therapist,T", "--client", "client,C", "--annotator-col", "coder", "--key-annotator",
               "ann_a", "--mapping", str(MAPPING)]
    done = subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "-> 3 transcripts" in done.stdout and "Next: pseudonymise" in done.stdout
    assert (course / "keys" / "corpus-session-01.yaml").is_file()
    again = subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and again.stderr.startswith("attune import: ") and "Traceback" not in again.stderr
    validated = subprocess.run([sys.executable, "-m", "autograder.cli", "validate"], cwd=course, capture_output=True,
                               text=True, timeout=120)
    assert "ok  content/transcripts/corpus-session-01.yaml" in validated.stdout


def test_names_are_replaced_and_contact_details_left_are_warned_about(tmp_path):
    corpus = tmp_path / "intake.csv"
    corpus.write_text("conv,pos,who,text\n"
                      'c1,1,client,"Maya here. My email is m.okafor@example.org, by the way."\n'
                      'c1,2,listener,"Thanks for reaching out, Maya."\n'
                      'c1,3,client,"Call me on 07700 900123 after six; Okafor on the buzzer."\n'
                      'c1,4,listener,"You would rather talk by phone."\n', encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text("real,pseudonym\nMaya Okafor,Lena Brandt\nMaya,Lena\nOkafor,Brandt\n", encoding="utf-8")
    report = import_corpus(corpus, course_root=tmp_path / "course", columns=CorpusColumns("conv", "pos", "who", "text"),
                           listener=["listener"], client=["client"], names=names)
    text = (tmp_path / "course" / "content" / "transcripts" / "corpus-c1.yaml").read_text(encoding="utf-8")
    assert "Maya" not in text and "Okafor on" not in text and "Lena here" in text and "Brandt on the buzzer" in text
    assert any("@example.org" in w and "e-mail" in w for w in report.warnings), report.warnings
    assert any("07700 900123" in w and "phone" in w for w in report.warnings), report.warnings
    assert "WARNING: 2 place(s)" in report.format()
