# ruff: noqa: E501  (YAML written by hand, as an instructor would: one line per turn, however long)
"""Content of an instructor's own course, written by hand as YAML, for the course-folder tests.

Two transcripts, one item file (response ratings), one scenario, their keys, and an own rubric (six codes, a
1-7 empathy scale). Invented for these tests; the people in them are fictional.
"""

from __future__ import annotations

TRANSCRIPT_JOAO = """\
id: joao-night-porter
title: "João: the night porter who stopped sleeping"
tier: beginner
client: João
therapist: Nurse
context: >-
  João, 61, works nights as a hotel porter in Lisbon and came to the practice nurse about his blood pressure. At the
  end of the appointment he mentions, almost in passing, that he hardly sleeps since his wife moved into a care home.
turns:
  - id: C1
    speaker: client
    text: "It's nothing, really. I just don't sleep much these days. Since Inês went into the home."
  - id: T1
    speaker: therapist
    text: "What are the nights like for you now?"
  - id: C2
    speaker: client
    text: "I do my shift, I come home at seven, and the flat is very quiet. I sit in her chair with the radio on. Then it's noon and I haven't slept."
  - id: T2
    speaker: therapist
    text: "You come home to a quiet flat, sit in her chair with the radio, and the morning goes by without sleep."
  - id: C3
    speaker: client
    text: "(pause) Forty years we slept in the same bed. Now I visit on Sundays and she asks me who I am."
  - id: T3
    speaker: therapist
    text: "You're losing her bit by bit, and nobody calls it grief because she is still here."
  - id: C4
    speaker: client
    text: "Yes. Nobody calls it anything."
  - id: T4
    speaker: therapist
    text: "You should try to keep the same bedtime every day, even on your nights off."
"""

TRANSCRIPT_AYO = """\
id: ayo-exam-resit
title: "Ayo: a resit she has not told anyone about"
tier: intermediate
client: Ayo
therapist: Tutor
context: >-
  Ayo, 20, a second-year nursing student, asked her personal tutor for ten minutes after a seminar. She failed a
  pharmacology exam and must resit it in three weeks, while working weekends at a supermarket.
turns:
  - id: C1
    speaker: client
    text: "I failed the pharmacology exam. I have the resit in three weeks and I haven't told my parents."
  - id: T1
    speaker: therapist
    text: "Did you use the revision sessions before the exam?"
  - id: C2
    speaker: client
    text: "I couldn't, they're on Saturdays and I work Saturdays. I need the money for rent."
  - id: T2
    speaker: therapist
    text: "Of course the sessions didn't work for you: they sit right on top of the shifts that pay your rent."
  - id: C3
    speaker: client
    text: "My mum thinks I'm top of the class. She tells everyone at church."
  - id: T3
    speaker: therapist
    text: "You came and told me today, when keeping quiet would have been easier; that is not nothing."
"""

ITEMS = """\
id: first-replies
kind: rating
title: "Rating first replies"
intro: "Rate each reply on the empathy scale, then pick the one you would want to hear."
items:
  - id: R01
    tier: beginner
    who: "Wen, 34, warehouse shift lead, after a night of stock counts"
    statement: "They changed the rota again without asking. I've got my son's parents' evening on Thursday and now I'm on lates."
    responses:
      a: "Rotas change everywhere; you'll find a way round it."
      b: "The rota moved under you again, and this time it lands on your son's parents' evening."
      c: "Have you spoken to your manager?"
  - id: R02
    tier: beginner
    who: "Margaret, 79, retired teacher, at a community lunch club"
    statement: "My daughter wants me to give up driving. I know she's worried. But the car is how I get to my sister's."
    responses:
      a: "Giving up the car would mean losing the road to your sister, even if you can see why your daughter worries."
      b: "Your daughter is probably right, to be honest."
      c: "How old is the car?"
"""

SCENARIO = """\
id: bea-returns-to-work
title: "Back after a long absence"
tier: beginner
client: Bea
therapist: You
context: >-
  Bea, 45, is back at her desk in a council housing office after four months off following surgery. You are her
  team's peer supporter and she has asked for a coffee.
openness: {start: 2, min: 0, max: 5}
start: p1
nodes:
  p1:
    client: "Everyone's been lovely. It's just that the whole system changed while I was away, and I feel like the new girl."
    options:
      - {text: "You came back to a place that moved on without you, and now you're the one catching up", kind: strong, code: __CR__, feedback: "Adds what she hinted at, that being the one who must catch up stings: a reflection that goes past her words.", openness: 1, next: p2, section: "Reflections"}
      - {text: "Which system changed?", kind: weaker, code: __CQ__, feedback: "A fair question, but it turns to the software and away from feeling like the new girl.", openness: 0, next: p2, section: "Questions"}
      - {text: "Don't worry, you'll be up to speed in no time", kind: roadblock, code: __RS__, feedback: "A promise about how she will feel, which closes the door on how she feels now.", openness: -1, next: p2, section: "Roadblocks"}
  p2:
    client: "I used to be the one people asked. Now I ask a twenty-three-year-old how to log a repair."
    options:
      - {text: "Being the one who asks, after years of being the one who knew, is hard to get used to", kind: strong, code: __CR__, feedback: "Names the change of role she described without saying it outright.", openness: 1, next: p3, section: "Reflections"}
      - {text: "Is there a training session you could go to?", kind: weaker, code: __CQ__, feedback: "Helpful in time, but it fixes the logging and skips the loss of standing.", openness: 0, next: p3, section: "Questions"}
      - {text: "Everybody has to learn new things at work", kind: roadblock, code: __RS__, feedback: "True, and it tells her that her feeling is ordinary rather than hearing it.", openness: -1, next: p3, section: "Roadblocks"}
  p3:
    client: "(laughs) She was very patient with me, to be fair."
    options:
      - {text: "You can laugh about it, and still it matters to you to be good at this job", kind: strong, code: __CR__, feedback: "Holds both sides: the laugh and what sits under it.", openness: 1, next: end, section: "Reflections"}
      - {text: "Did she show you the shortcuts?", kind: weaker, code: __CQ__, feedback: "A closed question about the software again.", openness: 0, next: end, section: "Questions"}
      - {text: "See, it's fine then", kind: roadblock, code: __RS__, feedback: "Closes the conversation on her behalf.", openness: -1, next: end, section: "Roadblocks"}
  end:
    client: "Thanks for this. I feel a bit less like the new girl."
    end: true
    summary: "Bea felt heard about coming back to a changed workplace."
"""

OWN_RUBRIC = """\
version: 1
title: Helpline listening rubric (own)
codes:
  - {id: QO, label: Open question, group: questions, definition: "A question that leaves the shape of the answer to the caller.", example: "What has this week been like?"}
  - {id: QC, label: Closed question, group: questions, definition: "A question answered by yes, no or a single fact the listener asked for.", example: "Did you call your GP?"}
  - {id: RF, label: Reflection, group: reflections, definition: "Hands the caller's own words back, adding nothing of the listener's own.", example: "You've not slept since Tuesday."}
  - {id: RD, label: Deep reflection, group: reflections, definition: "Goes past the caller's words to a feeling or meaning they hinted at.", example: "You've been holding this on your own."}
  - {id: SU, label: Support, group: support, definition: "Credits or validates the caller in a way tied to what they said or did.", example: "It makes sense you're exhausted after that."}
  - {id: DI, label: Directing, group: roadblocks, definition: "Tells the caller what to do or how to feel, unasked.", example: "You should get some rest."}
empathy:
  title: Helpline empathy scale (1-7)
  levels:
    - {level: 1, label: Dismissive, anchor: "Contradicts or brushes aside what the caller said."}
    - {level: 2, label: Off track, anchor: "Moves to the listener's agenda, away from the caller's concern."}
    - {level: 3, label: Factual, anchor: "Stays on the topic but only with facts, none of the feeling."}
    - {level: 4, label: Following, anchor: "Follows the caller's words accurately, adding nothing."}
    - {level: 5, label: Understanding, anchor: "Catches a feeling or meaning close to the surface of the words."}
    - {level: 6, label: Deepening, anchor: "Names a meaning the caller hinted at, and the caller can take it further."}
    - {level: 7, label: Profound, anchor: "Holds both sides of a mixed feeling in the caller's own terms, exactly."}
"""

# Keys: per part, {turn: (shipped code, shipped level, own code, own level)}, so one set of reasons serves both
# rubrics. The reasons are the text that must never reach a trainee.
CODING_KEYS = {
    "joao-night-porter": {
        "T1": ("OQ", 3, "QO", 5, "KEYTEXT-JOAO-1 leaves the whole answer to João and stays with the nights he raised."),
        "T2": ("SR", 3, "RF", 4, "KEYTEXT-JOAO-2 every part of it is in his own words, nothing added."),
        "T3": ("CR", 5, "RD", 7, "KEYTEXT-JOAO-3 names a grief he hinted at and nobody names, which he takes up."),
        "T4": ("AD", 1, "DI", 1, "KEYTEXT-JOAO-4 tells him what to do, unasked, past what he just said."),
    },
    "ayo-exam-resit": {
        "T1": ("CQ", 2, "QC", 3, "KEYTEXT-AYO-1 answered by yes or no, and it looks back at what she did wrong."),
        "T2": ("VA", 4, "SU", 6, "KEYTEXT-AYO-2 ties her missing the sessions to the shifts that pay her rent."),
        "T3": ("AF", 4, "SU", 5, "KEYTEXT-AYO-3 credits a specific thing she did today, telling her tutor."),
    },
}
RATING_KEY = {  # item: (ratings on 1-5, ratings on 1-7, best, reasons)
    "R01": ({"a": 1, "b": 4, "c": 2}, {"a": 1, "b": 6, "c": 3}, "b", "KEYTEXT-R01 the reply that hears the clash."),
    "R02": ({"a": 5, "b": 1, "c": 2}, {"a": 7, "b": 1, "c": 3}, "a", "KEYTEXT-R02 holds both sides of her choice."),
}
# Each key entry's reason starts with a marker, so a test can find it anywhere: {(part, item): marker}.
KEY_REASONS = {**{(part, turn): e[4].split(" ")[0] for part, turns in CODING_KEYS.items() for turn, e in turns.items()},
               **{("first-replies", item): v[3].split(" ")[0] for item, v in RATING_KEY.items()}}
KEY_MARKERS = sorted(KEY_REASONS.values())
OWN_CODES = {"CR": "RD", "CQ": "QC", "RS": "DI"}  # the scenario's codes under the own rubric


def coding_key(transcript: str, own: bool) -> str:
    lines = [f"transcript: {transcript}", "turns:"]
    for turn, (code, level, own_code, own_level, why) in CODING_KEYS[transcript].items():
        lines += [f"  {turn}:", f"    code: {own_code if own else code}", f"    empathy: {own_level if own else level}",
                  f'    why: "{why}"']
    return "\n".join(lines) + "\n"


def rating_key(own: bool) -> str:
    lines = ["items:"]
    for item, (ratings, own_ratings, best, why) in RATING_KEY.items():
        chosen = own_ratings if own else ratings
        lines += [f"  {item}:", f"    ratings: {{{', '.join(f'{k}: {v}' for k, v in chosen.items())}}}",
                  f"    best: {best}", f'    why_best: "{why}"', "    why:"]
        lines += [f'      {k}: "{why} ({k})"' for k in chosen]
    return "\n".join(lines) + "\n"


def scenario(own: bool) -> str:
    text = SCENARIO
    for shipped, own_code in OWN_CODES.items():
        text = text.replace(f"__{shipped}__", own_code if own else shipped)
    return text


EXERCISES = """\
# Written by hand, as an instructor would.
include: [{include}]
exercises:
  - id: week1
    notebook: week-one.ipynb
    title: "Week 1 · First conversations"
    module: 1
    tier: beginner
    intro: >-
      Two first conversations, in a surgery and a tutor's office, and two replies to rate.
    parts:
      - {{part: joao-night-porter, variable: joao}}
      - {{part: ayo-exam-resit, variable: ayo}}
      - {{part: first-replies, variable: replies}}
"""
