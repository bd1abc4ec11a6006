"""Statement: the tovholder drafts one shared text live; participants agree or suggest an adjustment.

State: `{"text": str, "revision": int}`. A flow's draft is where the tovholder starts writing, on
the console only (revision 0: nothing to react to yet); showing the text makes it version 1, and
every change after that is a new revision. An answer names the
revision it reacts to; a reaction to an older one is refused, and the results count each
person's latest reaction to the current revision only."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from exercises.base import N_, AnswerInvalid, Entry, Exercise, LocalText, StepContext, Strict, clean_text
from exercises.markdown import md_item, md_lines, no_answers
from exercises.poster import PosterPart, PosterSlot
from exercises.words import Words

HARD_CAP = 2000
COMMENT_CAP = 500
MAX_REACTIONS = 20  # a person may react again to each new revision
REACTIONS = {"agree": N_("Agree"), "adjust": N_("Adjust")}


class StatementSettings(Strict):
    draft: LocalText | None = None
    max_length: int = Field(default=600, ge=50, le=HARD_CAP)
    comment_length: int = Field(default=280, ge=10, le=COMMENT_CAP)

    @model_validator(mode="after")
    def _draft_fits(self) -> StatementSettings:
        for locale, text in (self.draft or {}).items():
            if len(text) > self.max_length:
                raise ValueError(
                    f"the draft in '{locale}' is {len(text)} characters; max_length is {self.max_length}"
                )
        return self


class StatementAnswer(Strict):
    reaction: Literal["agree", "adjust"]
    comment: str = Field(default="", max_length=COMMENT_CAP)
    revision: int = Field(ge=1)


class Comment(BaseModel):
    reaction: Literal["agree", "adjust"]
    text: str


class StatementResult(BaseModel):
    text: str
    revision: int
    agree: int  # people whose latest reaction to this revision is "agree"
    adjust: int
    comments: list[Comment]  # newest first
    earlier: int  # people who reacted to an earlier revision only

    @property
    def count(self) -> int:
        return self.agree + self.adjust

    @property
    def agree_share(self) -> int:
        """The agreeing share in steps of 5 (0-100), for the bar classes."""
        return round(20 * self.agree / self.count) * 5 if self.count else 0


def read_state(state: Mapping[str, Any]) -> tuple[str, int]:
    text, revision = state.get("text"), state.get("revision")
    if not isinstance(text, str) or not isinstance(revision, int) or isinstance(revision, bool):
        return "", 0
    return text, max(revision, 0)


def _draft(settings: StatementSettings, locale: str) -> str:
    if not settings.draft:
        return ""
    return settings.draft.get(locale) or settings.draft.get("en") or next(iter(settings.draft.values()))


def _optional_text(raw: str, max_length: int) -> str:
    """A cleaned text, or "" when nothing visible is left; too long is still refused."""
    try:
        return clean_text(raw, max_length=max_length)
    except AnswerInvalid as exc:
        if exc.params:
            raise
        return ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class Statement(Exercise[StatementSettings, StatementAnswer, StatementResult]):
    name = "statement"
    takes_text = True
    settings_model = StatementSettings
    answer_model = StatementAnswer
    result_model = StatementResult
    has_actions = True
    reacts_again = True

    def max_answers(self, settings: StatementSettings, ctx: StepContext) -> int:
        _, revision = read_state(ctx.state)
        return MAX_REACTIONS if revision else 0

    def initial_state(self, settings: StatementSettings, ctx: StepContext) -> dict[str, Any]:
        # The draft is a start for the tovholder's writing, not a version people can agree with.
        return {"text": _draft(settings, ctx.locale), "revision": 0}

    def parse_answer(
        self, settings: StatementSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> StatementAnswer:
        _, current = read_state(ctx.state)
        if not current:
            raise AnswerInvalid(N_("There is no text to react to yet. Wait for the tovholder's draft."))
        reaction = form.get("reaction")
        if reaction not in ("agree", "adjust"):
            raise AnswerInvalid(N_("Please choose: agree, or suggest an adjustment."))
        revision = _int(form.get("revision"))
        if revision is None:
            raise AnswerInvalid(
                N_("The form did not say which version of the text you read. Reload the page.")
            )
        if revision != current:
            raise AnswerInvalid(N_("The text changed while you answered; read it again."))
        raw = form.get("comment")
        if raw is not None and not isinstance(raw, str):
            raise AnswerInvalid(N_("Please write your comment as text."))
        comment = _optional_text(raw or "", settings.comment_length)
        if reaction == "adjust" and not comment:
            raise AnswerInvalid(N_("Please write what you would change."))
        return StatementAnswer(reaction=reaction, comment=comment, revision=revision)

    def aggregate(
        self, settings: StatementSettings, entries: Sequence[Entry[StatementAnswer]], ctx: StepContext
    ) -> StatementResult:
        text, revision = read_state(ctx.state)
        latest: dict[int, Entry[StatementAnswer]] = {}
        reacted: set[int] = set()
        for entry in sorted(entries, key=lambda e: e.id):
            reacted.add(entry.participant)
            if revision and entry.answer.revision == revision:
                latest[entry.participant] = entry  # a later reaction replaces an earlier one
        current = sorted(latest.values(), key=lambda e: e.id, reverse=True)
        return StatementResult(
            text=text,
            revision=revision,
            agree=sum(1 for e in current if e.answer.reaction == "agree"),
            adjust=sum(1 for e in current if e.answer.reaction == "adjust"),
            comments=[
                Comment(reaction=e.answer.reaction, text=e.answer.comment)
                for e in current
                if e.answer.comment
            ],
            earlier=len(reacted - set(latest)),
        )

    def act(
        self,
        settings: StatementSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        if action != "edit":
            raise AnswerInvalid(N_("This step has no such action."))
        text, revision = read_state(state)
        raw = form.get("text")
        new = _optional_text(raw, settings.max_length) if isinstance(raw, str) else ""
        if not new:
            raise AnswerInvalid(N_("Please write the text before you update it."))
        if new == text and revision:
            return {"text": text, "revision": revision}  # nothing changed: the reactions still hold
        return {"text": new, "revision": revision + 1}  # the first time: version 1 for everyone

    def final_state(
        self, settings: StatementSettings, samples: Sequence[str], ctx: StepContext
    ) -> dict[str, Any]:
        """The demo's end: the first sample is the text the tovholder showed (else the draft)."""
        text = _draft(settings, ctx.locale)
        if samples and samples[0].strip():
            text = " ".join(samples[0].split())[: settings.max_length].strip()
        return {"text": text, "revision": 1 if text else 0}

    def simulate(
        self, settings: StatementSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[StatementAnswer]:
        final = self.final_state(settings, samples, ctx)["revision"]
        if not final:
            return []
        comments = [" ".join(s.split())[: settings.comment_length] for s in samples[1:] if s.strip()]
        return [self._reaction(rng, comments, final, agree=0.75)]

    @staticmethod
    def _reaction(
        rng: random.Random, comments: Sequence[str], revision: int, agree: float
    ) -> StatementAnswer:
        if not comments or rng.random() < agree:
            # Now and then an agreement comes with a word of its own.
            comment = rng.choice(list(comments)) if comments and rng.random() < 0.2 else ""
            return StatementAnswer(reaction="agree", comment=comment, revision=revision)
        return StatementAnswer(reaction="adjust", comment=rng.choice(list(comments)), revision=revision)

    def simulate_state(
        self,
        settings: StatementSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[StatementAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        return self.final_state(settings, samples, ctx)

    def card_text(self, settings: StatementSettings, answer: StatementAnswer) -> str:
        return answer.comment

    def answer_text(
        self, settings: StatementSettings, answer: StatementAnswer, result: StatementResult, words: Words
    ) -> str:
        word = words.gettext(REACTIONS[answer.reaction])
        return f"{word} — {answer.comment}" if answer.comment else word

    def markdown(self, settings: StatementSettings, result: StatementResult, words: Words) -> list[str]:
        if not result.revision:
            return no_answers(words)
        agree, adjust = (words.gettext(REACTIONS[reaction]) for reaction in ("agree", "adjust"))
        lines = ["> " + line for line in md_lines(result.text)]
        lines += ["", f"{agree}: {result.agree} · {adjust}: {result.adjust}"]
        if result.comments:
            lines.append("")
            for comment in result.comments:
                word = agree if comment.reaction == "agree" else adjust
                lines.append(f"- *{word}:* {md_item(comment.text)}")
        return lines

    def poster(
        self,
        settings: StatementSettings,
        result: StatementResult,
        entries: Sequence[Entry[StatementAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The text the room ended with, as the poster's statement."""
        return PosterPart(statement=result.text if result.text.strip() else None)
