"""`attune import {text,vtt,srt,docx}`: each format's messy fixtures (tests/fixtures/imports/) become validated
transcripts with merged turns and kept timestamps; every problem names the file and line and writes nothing;
pseudonymisation and its warnings; the verb from inside a course made by `attune init`; a plain-text round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.authoring.importers.core import ImportProblem, Options, build_transcript, read_text, to_text
from autograder.authoring.importers.plain import parse_text
from autograder.authoring.importers.privacy import load_names, privacy_warnings, pseudonymise
from autograder.authoring.importers.transcripts import import_transcript, parse
from course.transcript import Transcript, Turn, load_transcript

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
CONTEXT = "A role-play written for the course; every name and detail in it is invented."


def imported(fmt: str, name: str, listener: str, client: str | None = None) -> tuple[Transcript, list[str]]:
    parsed = parse(fmt, FIXTURES / name)
    transcript = build_transcript(parsed, Options(id="imported", listener=tuple(listener.split(",")), client=client,
                                                  title="An imported role-play", context=CONTEXT))
    return transcript, parsed.warnings


def shape(transcript: Transcript) -> list[tuple[str, str | None, str | None]]:
    return [(t.id, t.start, t.end) for t in transcript.turns]


# ------------------------------------------------------------------------------------------------ each format


def test_plain_text_merges_lines_and_paragraphs_keeps_stage_directions_and_times() -> None:
    t, warnings = imported("text", "session-notes.txt", "Counsellor")
    assert (t.therapist, t.client) == ("Counsellor", "Tomasz")
    assert [x.id for x in t.turns] == ["T1", "C1", "T2", "C2", "T3", "C3", "T4", "C4", "T5"]
    assert t.turns[1].text == ("Thanks. (sits down) I wasn't sure I'd actually come today. Nearly turned round at "
                               "the bus stop, to be honest.")
    # "She said: you can't ..." is speech, not a speaker; the bracketed pause and the next paragraph go on the turn.
    assert t.turns[3].text.endswith("She said: you can't keep sleeping three hours a night and pretending it's "
                                    "fine. [pause] I suppose she has a point.")
    assert t.turns[5].text == "I don't know. Work's been... a lot. Since the restructure I'm doing two jobs."
    assert t.turns[7].text == "(laughs) I've got three of them. That's not really the problem."  # two lines, one turn
    assert (t.turns[0].start, t.turns[0].end, t.turns[7].start) == ("00:00:04.000", None, "00:01:10.000")
    assert warnings == [f"{FIXTURES / 'session-notes.txt'}:16: repeats line 15 word for word; kept once."]


def test_teams_webvtt_with_bom_and_crlf_voice_spans_and_overlapping_cues() -> None:
    raw = (FIXTURES / "teams-meeting.vtt").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture is as messy as it says
    t, warnings = imported("vtt", "teams-meeting.vtt", "Ruth Adeyemi")
    assert (t.therapist, t.client) == ("Ruth Adeyemi", "Daniel Osei")
    assert shape(t) == [("T1", "00:00:01.200", "00:00:07.100"), ("C1", "00:00:08.000", "00:00:15.900"),
                        ("T2", "00:00:15.500", "00:00:17.000"), ("C2", "00:00:16.200", "00:00:22.000"),
                        ("T3", "00:00:22.600", "00:00:27.300"), ("C3", "00:00:28.100", "00:00:33.750")]
    assert t.turns[1].text == "Honestly? Up and down. Mostly down, if I'm being straight with you."
    assert t.turns[4].text == "You haven't told him. What's that like, keeping it from him?"  # three cues, one turn
    assert "[pause]" in t.turns[5].text and "<v" not in t.turns[5].text
    assert not any("Role-play recorded" in x.text or "color" in x.text for x in t.turns)  # NOTE and STYLE skipped
    # Ruth's "Mostly down." (line 34) starts while Daniel is still talking and is written after his next cue
    # (line 30), which starts later: the turns follow the start times, and both overlaps are named.
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{FIXTURES / 'teams-meeting.vtt'}:34: this cue (Ruth Adeyemi, 00:00:15.500")
    assert "overlaps the cue at line 26 (Daniel Osei" in warnings[0]
    assert warnings[1].startswith(f"{FIXTURES / 'teams-meeting.vtt'}:30:") and "line 34" in warnings[1]


def test_zoom_webvtt_name_prefixes_continuation_cues_and_a_repeated_cue() -> None:
    t, warnings = imported("vtt", "zoom-cloud.vtt", "Sam Rivera")
    assert (t.therapist, t.client) == ("Sam Rivera", "Aisha Khan")
    assert [x.id for x in t.turns] == ["T1", "C1", "T2", "C2", "T3", "C3", "T4"]
    assert t.turns[1].text == "Yes, I can hear you. Sorry, the baby's just gone down. So I might whisper a bit."
    assert (t.turns[1].start, t.turns[1].end) == ("00:00:05.900", "00:00:11.020")
    assert t.turns[5].text == "Yes. Exactly that."
    assert warnings == [f"{FIXTURES / 'zoom-cloud.vtt'}:32: repeats line 28 word for word; kept once."]


def test_unknown_voices_must_be_named_and_then_import() -> None:
    with pytest.raises(ImportProblem) as err:
        imported("vtt", "unknown-voices.vtt", "Speaker 1")
    message = str(err.value)
    assert message.startswith(f"{FIXTURES / 'unknown-voices.vtt'}: speaker(s) 'Speaker 2' are neither")
    assert "'Speaker 1' (line 3, 2 utterances); 'Speaker 2' (line 6, 2 utterances)" in message
    assert '--listener "Speaker 1" --client "Speaker 2"' in message
    t, _ = imported("vtt", "unknown-voices.vtt", "Speaker 1", client="Speaker 2")
    assert [(x.id, x.speaker) for x in t.turns] == [("T1", "therapist"), ("C1", "client"), ("T2", "therapist"),
                                                     ("C2", "client")]


def test_srt_labels_brackets_and_dashes_change_speaker() -> None:
    assert b"\r\n" in (FIXTURES / "captions.srt").read_bytes()
    t, warnings = imported("srt", "captions.srt", "COUNSELLOR")
    assert (t.therapist, t.client) == ("COUNSELLOR", "GRACE")
    assert [(x.id, x.text) for x in t.turns] == [
        ("T1", "Morning, Grace. How are you finding the new flat?"),
        ("C1", "It's quiet. Too quiet, maybe. I keep the radio on all day."),
        ("T2", "The quiet gets to you."),  # '- ' switched from GRACE ...
        ("C2", "It does. [sighs] My daughter says I should join the lunch club."),  # ... and back; [sighs] is no name
        ("T3", "You should. You'd meet people your own age."),
        ("C3", "Maybe. I'm not much of a joiner.")]
    assert (t.turns[3].start, t.turns[3].end) == ("00:00:09.200", "00:00:15.000")
    assert warnings == []  # the two voices of one cue are not an overlap


def test_srt_with_only_dashes_gives_numbered_voices_to_map() -> None:
    with pytest.raises(ImportProblem, match=r"'Speaker 1' .*'Speaker 2'"):
        imported("srt", "captions-unnamed.srt", "Speaker 1")
    t, _ = imported("srt", "captions-unnamed.srt", "Speaker 1", client="Speaker 2")
    assert shape(t) == [("T1", "00:00:00.800", "00:00:03.200"), ("C1", "00:00:03.900", "00:00:08.500"),
                        ("T2", "00:00:09.000", "00:00:12.000")]
    assert t.turns[1].text == "Hi. I don't really know why I rang. It's probably stupid."


def _docx_paragraphs(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Role-play 4: a first appointment", level=1)  # a heading is not speech
    document.add_paragraph("Counsellor: Hello Ines. Before we start, how much time do you have today?")
    document.add_paragraph("")
    document.add_paragraph("Ines: About an hour. My shift starts at three.")
    document.add_paragraph("Counsellor: An hour, then. Where would you like to begin?")
    document.add_paragraph("Ines: With my brother, I think. He moved back in after his operation,")
    document.add_paragraph("and I love him, but I'm exhausted.")  # the turn goes on in the next paragraph
    document.add_paragraph("Counsellor: You love him, and it's wearing you out.")
    document.save(path)
    return path


def _docx_table(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("Transcript, session 2 (names changed)")
    table = document.add_table(rows=0, cols=2)
    for who, said in [("Speaker", "Text"), ("Listener", "What's been happening since we last spoke?"),
                      ("Ines", "Not much. Well, that's not true."), ("", "My brother had a fall."),
                      ("Listener", "That's not true, there's been something big."), ("Ines", "Yes.")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = who, said
    document.save(path)
    return path


def test_docx_paragraph_per_turn(tmp_path: Path) -> None:
    parsed = parse("docx", _docx_paragraphs(tmp_path / "ines.docx"))
    t = build_transcript(parsed, Options(id="ines", listener=("Counsellor",), context=CONTEXT))
    assert (t.therapist, t.client) == ("Counsellor", "Ines")
    assert [x.id for x in t.turns] == ["T1", "C1", "T2", "C2", "T3"]
    assert t.turns[3].text == ("With my brother, I think. He moved back in after his operation, and I love him, "
                               "but I'm exhausted.")
    assert all(x.start is None for x in t.turns)


def test_docx_two_column_table(tmp_path: Path) -> None:
    parsed = parse("docx", _docx_table(tmp_path / "ines-table.docx"))
    t = build_transcript(parsed, Options(id="ines", listener=("Listener",), context=CONTEXT))
    assert [(x.id, x.text) for x in t.turns] == [
        ("T1", "What's been happening since we last spoke?"),
        ("C1", "Not much. Well, that's not true. My brother had a fall."),  # an empty speaker cell goes on
        ("T2", "That's not true, there's been something big."), ("C2", "Yes.")]


# ------------------------------------------------------------------------------------------------------ errors

ERRORS = [  # format, fixture, --listener, what the message must say (file and line first)
    ("text", "third-speaker.txt", "Counsellor", "'Interpreter' (line 2, 1 utterance); 'Mrs Haddad' (line 3"),
    ("text", "text-before-label.txt", "Counsellor", ":1: text before the first speaker label"),
    ("text", "cp1252-notes.txt", "Counsellor", ":1: not UTF-8 (byte 0xeb); it looks like"),
    ("vtt", "broken-timing.vtt", "Jo Park", ":8: not a cue timing line"),
    ("vtt", "session-notes.txt", "Counsellor", ":1: a WebVTT file starts with the line 'WEBVTT'"),
    ("srt", "broken.srt", "ALEX", ":5: not an SRT cue"),
    ("srt", "session-notes.txt", "Counsellor", ":1: not an SRT cue"),
    ("vtt", "zoom-cloud.vtt", "Sam", "--listener 'Sam' is not a speaker in this file"),
]


@pytest.mark.parametrize(("fmt", "name", "listener", "expected"), ERRORS, ids=[e[1] + "-" + e[0] for e in ERRORS])
def test_each_problem_names_file_and_line_and_nothing_is_written(tmp_path: Path, fmt: str, name: str,
                                                                  listener: str, expected: str) -> None:
    course = tmp_path / "course"
    with pytest.raises(ImportProblem) as err:
        import_transcript(fmt, FIXTURES / name, Options(id="broken", listener=(listener,)), course)
    assert str(err.value).startswith(str(FIXTURES / name)), err.value
    assert expected in str(err.value)
    assert not (course / "content").exists()


def test_a_non_utf8_file_names_its_encoding_and_how_to_convert_never_mojibake() -> None:
    with pytest.raises(ImportProblem) as err:
        read_text(FIXTURES / "cp1252-notes.txt")
    assert "cp1252" in str(err.value)
    assert f"`iconv -f cp1252 -t utf-8 {FIXTURES / 'cp1252-notes.txt'} > cp1252-notes-utf8.txt`" in str(err.value)


def test_a_file_that_is_not_a_docx(tmp_path: Path) -> None:
    fake = tmp_path / "notes.docx"
    fake.write_text("Counsellor: hello\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match=r"notes\.docx: not a Word \.docx file"):
        parse("docx", fake)


def test_timestamps_on_turns_are_optional_and_checked() -> None:
    assert Turn(id="T1", speaker="therapist", text="Hello.").start is None
    assert Turn(id="T1", speaker="therapist", text="Hello.", start="00:01:02.500").start == "00:01:02.500"
    with pytest.raises(ValueError, match="start"):
        Turn(id="T1", speaker="therapist", text="Hello.", start="1:02")


# ------------------------------------------------------------------------------------------- pseudonymisation


def test_names_are_replaced_whole_word_in_any_case_and_contact_details_are_flagged() -> None:
    t, _ = imported("text", "contact-details.txt", "Adviser")
    before = privacy_warnings(t)
    t = pseudonymise(t, load_names(FIXTURES / "names.csv"), FIXTURES / "contact-details.txt")
    assert t.client == "Lena Brandt"
    everything = " ".join([t.client, t.therapist, t.context, *(x.text for x in t.turns)])
    assert "maya" not in everything.casefold() and "josef" not in everything.casefold()
    assert "Thank you, Lena. I'll note that Lena's number" in t.turns[2].text
    assert "Ask Pavel, he kept them." in t.turns[3].text
    found = privacy_warnings(t)
    assert found == [
        "C1: 'Lena.okafor@example.org' looks like an e-mail address",
        "C1: '07700 900123' looks like a phone number",
        "C1: '+44 20 7946 0958' looks like a phone number",
        "C1: '12/03/1985' looks like a date (of birth?)",
        "T2: '(555) 123-4567' looks like a phone number",
        "T2: '3 March 1985' looks like a date (of birth?)",
        "C2: '1985-03-12' looks like a date (of birth?)"]
    assert len(before) == len(found)


@pytest.mark.parametrize("text", ["We met at 00:01:02 and talked for 45 minutes.", "I'm 58, since 1985 here.",
                                  "Forty pounds, £40 a month, room 12.", "It's 3/4 done.", "Call me on Monday."])
def test_ordinary_words_are_not_flagged(text: str) -> None:
    t = Transcript(id="x", title="Plain", tier="beginner", client="A", therapist="B", context=CONTEXT,
                   turns=[Turn(id="C1", speaker="client", text=text), Turn(id="T1", speaker="therapist", text="Ok.")])
    assert privacy_warnings(t) == []


def test_a_bad_names_file_names_its_lines() -> None:
    with pytest.raises(ImportProblem) as err:
        load_names(FIXTURES / "names-bad.csv")
    assert f"{FIXTURES / 'names-bad.csv'}:1: expected two columns" in str(err.value)
    assert f"{FIXTURES / 'names-bad.csv'}:2: expected two columns" in str(err.value)


# ---------------------------------------------------------------------------------------------- command line


def attune(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_the_import_verb_inside_a_course_made_by_attune_init(tmp_path: Path) -> None:
    assert attune("init", "course", cwd=tmp_path).returncode == 0
    course = tmp_path / "course"
    args = ["import", "text", str(FIXTURES / "contact-details.txt"), "--id", "lena-advice-line",
            "--listener", "Adviser", "--names", str(FIXTURES / "names.csv"), "--title", "Lena: the letters",
            "--context", "Lena, 40, rings an advice line about letters she has been putting off for months."]
    done = attune(*args, cwd=course / "solutions")  # the CLI finds the course around the current folder
    assert done.returncode == 0, done.stderr
    target = course / "content" / "transcripts" / "lena-advice-line.yaml"
    assert "wrote content/transcripts/lena-advice-line.yaml: 5 turns" in done.stdout
    assert "WARNING: C1: '07700 900123' looks like a phone number" in done.stderr
    written = load_transcript(target)
    assert (written.client, written.title) == ("Lena Brandt", "Lena: the letters")
    assert "Maya" not in target.read_text(encoding="utf-8")

    again = attune(*args, cwd=course)  # an existing file is kept
    assert again.returncode == 1 and "exists; nothing was written" in again.stderr
    assert again.stderr.startswith("attune import: ")
    forced = attune(*args, "--force", cwd=course)
    assert forced.returncode == 0, forced.stderr

    wrong = attune("import", "vtt", str(FIXTURES / "broken-timing.vtt"), "--id", "jo", "--listener", "Jo Park",
                   cwd=course)
    assert wrong.returncode == 1
    assert f"attune import: {FIXTURES / 'broken-timing.vtt'}:8: not a cue timing line" in wrong.stderr
    assert not (course / "content" / "transcripts" / "jo.yaml").exists()

    shipped_id = attune("import", "srt", str(FIXTURES / "captions.srt"), "--id", "amira-night-shifts",
                        "--listener", "COUNSELLOR", cwd=course)
    assert shipped_id.returncode == 1 and "already a transcript in" in shipped_id.stderr

    srt_in = attune("import", "srt", str(FIXTURES / "captions.srt"), "--id", "grace-new-flat", "--listener",
                    "COUNSELLOR", cwd=course)
    assert srt_in.returncode == 0, srt_in.stderr
    assert attune("validate", cwd=course).stdout.count("ok  content/transcripts/") == 3


def test_the_import_verb_outside_a_course_of_ones_own_writes_nothing(tmp_path: Path) -> None:
    done = attune("import", "text", str(FIXTURES / "session-notes.txt"), "--id", "tomasz", "--listener",
                  "Counsellor", cwd=tmp_path)
    assert done.returncode == 1 and "inside a course folder of your own" in done.stderr
    assert not (ROOT / "content" / "transcripts" / "tomasz.yaml").exists()


def test_importers_stay_off_the_trainees_path() -> None:
    code = ("import sys, course.transcript, course.library, autograder.cli; "
            "print([m for m in ('webvtt', 'srt', 'docx', 'autograder.authoring.importers') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize(("fmt", "name", "listener", "client"), [
    ("text", "session-notes.txt", "Counsellor", None), ("vtt", "teams-meeting.vtt", "Ruth Adeyemi", None),
    ("vtt", "zoom-cloud.vtt", "Sam Rivera", None), ("srt", "captions.srt", "COUNSELLOR", None),
    ("vtt", "unknown-voices.vtt", "Speaker 1", "Speaker 2")])
def test_written_back_as_plain_text_it_imports_to_the_same_transcript(fmt: str, name: str, listener: str,
                                                                       client: str | None) -> None:
    original, _ = imported(fmt, name, listener, client)
    text = to_text(original)
    again = build_transcript(parse_text(text, Path("round-trip.txt")),
                             Options(id="imported", listener=(original.therapist,), client=client,
                                     title=original.title, context=original.context))
    assert again == original
