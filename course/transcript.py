"""Transcripts: client and therapist turns with stable ids, as a typed model over YAML files."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from course import CONTENT_DIR
from course.loading import check_id_matches_file, load_model, require_unique

TRANSCRIPTS_DIR = CONTENT_DIR / "transcripts"
Tier = Literal["beginner", "intermediate", "advanced"]
TIMESTAMP = r"^[0-9]{2,}:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}$"


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[CT][1-9][0-9]*$", description="C<n> for client turns, T<n> for therapist turns.")
    speaker: Literal["client", "therapist"]
    text: str = Field(min_length=1)
    # Where the turn is in a recording it was imported from (`attune import`), kept so an instructor can go back
    # to the audio; optional, and nothing the trainee sees.
    start: str | None = Field(default=None, pattern=TIMESTAMP, description="HH:MM:SS.mmm into the recording.")
    end: str | None = Field(default=None, pattern=TIMESTAMP, description="HH:MM:SS.mmm into the recording.")

    @model_validator(mode="after")
    def _id_matches_speaker(self) -> Turn:
        expected = "C" if self.speaker == "client" else "T"
        if not self.id.startswith(expected):
            raise ValueError(
                f"turn {self.id!r} is spoken by the {self.speaker}, so its id must start with {expected!r}")
        return self


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=3)
    tier: Tier
    client: str = Field(min_length=1, description="The client's first name, as shown.")
    therapist: str = Field(min_length=1, description="How the listener is shown, e.g. 'Counsellor'.")
    context: str = Field(min_length=20)
    turns: list[Turn] = Field(min_length=2)

    @model_validator(mode="after")
    def _ids_unique_with_therapist_turns(self) -> Transcript:
        require_unique([t.id for t in self.turns], "turn ids")
        if not any(t.speaker == "therapist" for t in self.turns):
            raise ValueError("a transcript needs at least one therapist turn to code")
        return self

    @property
    def therapist_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.speaker == "therapist")

    def speaker_name(self, turn: Turn) -> str:
        """How a turn's speaker is shown: the client's name or the listener's role."""
        return self.client if turn.speaker == "client" else self.therapist

    @property
    def coded_turn_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.therapist_turns)


def load_transcript(source: str | Path) -> Transcript:
    """Load a transcript by id (from the content folders in force, see course.library) or by path, validated."""
    path = Path(source)
    if path.suffix not in (".yaml", ".yml"):
        from course.library import find

        return _cached(find("transcripts", str(source)))
    return _load(path)


@cache
def _cached(path: Path) -> Transcript:
    return _load(path)


def _load(path: Path) -> Transcript:
    return check_id_matches_file(load_model(path, Transcript), path)
