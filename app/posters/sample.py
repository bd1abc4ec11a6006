"""Built-in sample posters for eyeballing the templates (a home-care service with three units).

    python -m app.posters.sample --kind core-task --lang nb --out /tmp/core-task.pdf
    python -m app.posters.sample --out-dir docs/posters --ppi 60      # every kind and language, PNG

The format follows the file name (.pdf or .png).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal, cast, get_args

from app.posters.model import Commitment, Heatmap, PosterData, PosterItem, PosterKind, PosterSection
from app.posters.render import Format, Orientation, Paper, render

Lang = Literal["en", "nb"]
KINDS: tuple[PosterKind, ...] = ("core-task", "coordination", "lessons")  # the kinds with a sample
LANGS: tuple[Lang, ...] = get_args(Lang)


def _items(prefix: str, rows: list[tuple[str, str | None]]) -> list[PosterItem]:
    return [PosterItem(id=f"{prefix}-{i}", text=text, note=note) for i, (text, note) in enumerate(rows, 1)]


def _core_task(lang: Lang) -> PosterData:
    if lang == "nb":
        return PosterData(
            kind="core-task",
            language="nb",
            title="Kjerneoppgaven vår",
            team="Hjemmetjenesten Nordre Åsen",
            subtitle="Samlingene 12. mars og 2. april 2027",
            statement_heading="Sammen er vi her for å",
            statement=(
                "gi hver bruker trygghet og mestring i eget hjem, slik at de kan leve det livet de ønsker "
                "så lenge som mulig, med pårørende som partnere."
            ),
            sections=[
                PosterSection(
                    id="themes",
                    heading="Det som betyr mest",
                    style="cards",
                    items=_items(
                        "t",
                        [
                            ("Brukerens egne mål styrer det vi gjør", "14 prikker"),
                            ("Kontinuitet: færre nye ansikter i døra", "11 prikker"),
                            ("Tid til å se hele mennesket, ikke bare oppgaven", "9 prikker"),
                            ("Pårørende som vet hva de kan forvente", "6 prikker"),
                        ],
                    ),
                ),
                PosterSection(
                    id="who",
                    heading="Hvem vi er til for",
                    style="list",
                    items=_items(
                        "w",
                        [
                            ("Eldre som bor hjemme", None),
                            ("Pårørende og familier", None),
                            ("Personer med demens", None),
                            ("Utskrevne pasienter", None),
                            ("Hverandre", None),
                        ],
                    ),
                ),
                PosterSection(
                    id="units",
                    heading="Slik bidrar hver enhet",
                    style="quotes",
                    items=_items(
                        "u",
                        [
                            (
                                "Vi kjenner brukerne best om morgenen og fanger opp endringer tidlig.",
                                "Dagteamet",
                            ),
                            (
                                "Vi gir ro og trygghet før natta, og vi ser det andre ikke ser.",
                                "Kveldsteamet",
                            ),
                            ("Vi gjør hjemmet til et sted der brukeren klarer mer selv.", "Terapeutene"),
                        ],
                    ),
                ),
            ],
            commitments_heading="Våre første steg",
            commitments_labels=("Hva", "Hvem", "Innen"),
            commitments=[
                Commitment(what="Fast primærkontakt for alle nye brukere", who="Dagteamet", when="1. mai"),
                Commitment(
                    what="Kort overlapp mellom dag og kveld hver onsdag",
                    who="Åse og Øystein",
                    when="15. april",
                ),
                Commitment(what="Spør hver bruker: hva er viktig for deg nå?", who="Alle", when="Fra i dag"),
            ],
            follow_up="Oppfølgingsmøte: tirsdag 4. mai 2027 kl. 13.00 på Grønnåsen",
            footer="Laget med Tovholder · 2. april 2027",
        )
    return PosterData(
        kind="core-task",
        language="en",
        title="Our core task",
        team="North Ridge home care",
        subtitle="Sessions of 12 March and 2 April 2027",
        statement_heading="Together we are here to",
        statement=(
            "give every client safety and mastery in their own home, so they can live the life they want "
            "for as long as possible, with their relatives as partners."
        ),
        sections=[
            PosterSection(
                id="themes",
                heading="What matters most",
                style="cards",
                items=_items(
                    "t",
                    [
                        ("The client's own goals steer what we do", "14 dots"),
                        ("Continuity: fewer new faces at the door", "11 dots"),
                        ("Time to see the whole person, not just the task", "9 dots"),
                        ("Relatives who know what to expect", "6 dots"),
                    ],
                ),
            ),
            PosterSection(
                id="who",
                heading="Who we are here for",
                style="list",
                items=_items(
                    "w",
                    [
                        ("Older citizens living at home", None),
                        ("Relatives and families", None),
                        ("People with dementia", None),
                        ("People home from hospital", None),
                        ("Each other", None),
                    ],
                ),
            ),
            PosterSection(
                id="units",
                heading="How each unit contributes",
                style="quotes",
                items=_items(
                    "u",
                    [
                        ("We know the clients best in the morning and notice changes early.", "Day team"),
                        (
                            "We bring calm and safety before the night, and see what others miss.",
                            "Evening team",
                        ),
                        ("We make the home a place where the client can do more alone.", "Therapists"),
                    ],
                ),
            ),
        ],
        commitments_heading="Our first steps",
        commitments_labels=("What", "Who", "By when"),
        commitments=[
            Commitment(what="A named contact person for every new client", who="Day team", when="1 May"),
            Commitment(
                what="A short day/evening overlap every Wednesday", who="Åse and Øystein", when="15 April"
            ),
            Commitment(what="Ask every client: what matters to you now?", who="Everyone", when="From today"),
        ],
        follow_up="Follow-up meeting: Tuesday 4 May 2027 at 13:00 at Green Ridge",
        footer="Made with Tovholder · 2 April 2027",
    )


def _coordination(lang: Lang) -> PosterData:
    cells: list[list[float | None]] = [[None, 3.1, 4.2], [2.6, None, 3.4], [None, None, None]]
    if lang == "nb":
        return PosterData(
            kind="coordination",
            language="nb",
            title="Slik jobber vi sammen",
            team="Hjemmetjenesten Nordre Åsen",
            subtitle="Samlingen 2. april 2027",
            heatmap_heading="Samarbeidet mellom enhetene (1 = stemmer ikke, 5 = stemmer helt)",
            heatmap=Heatmap(
                units=["Dagteamet", "Kveldsteamet", "Terapeutene"],
                cells=cells,
                note="Grått: færre enn 5 har svart, så raden vises ikke",
            ),
            sections=[
                PosterSection(
                    id="handoffs",
                    heading="Overleveringene som betyr mest",
                    style="cards",
                    items=_items(
                        "h",
                        [
                            ("Endringer i medisinering fra dag til kveld", "12 prikker"),
                            ("Hjelpemidler som er bestilt, men ikke kommet", "8 prikker"),
                            ("Beskjeder fra pårørende", "5 prikker"),
                        ],
                    ),
                ),
                PosterSection(
                    id="stop",
                    heading="Dette slutter vi med",
                    style="list",
                    items=_items(
                        "s",
                        [
                            ("Gule lapper på kontoret", None),
                            ("Å ringe terapeutene i lunsjen", None),
                            ("Dobbel dokumentasjon i to systemer", None),
                        ],
                    ),
                ),
                PosterSection(
                    id="agreements",
                    heading="Avtalene våre",
                    style="cards",
                    items=_items(
                        "a",
                        [
                            ("Rapport kl. 14.45 med en fast sjekkliste", "10 prikker"),
                            ("Terapeutene har en kontakttelefon kl. 8–16", "7 prikker"),
                            ("Vi sier fra direkte når noe glipper, uten å lete etter skyld", "6 prikker"),
                        ],
                    ),
                ),
            ],
            commitments_heading="Hvem gjør hva",
            commitments_labels=("Hva", "Hvem", "Innen"),
            commitments=[
                Commitment(what="Lage sjekklisten for rapporten", who="Sølvi og Jørgen", when="20. april"),
                Commitment(what="Sette opp kontakttelefonen", who="Terapeutene", when="1. mai"),
            ],
            follow_up="Oppfølgingsmøte: tirsdag 4. mai 2027 kl. 13.00",
            footer="Laget med Tovholder · 2. april 2027",
        )
    return PosterData(
        kind="coordination",
        language="en",
        title="How we work together",
        team="North Ridge home care",
        subtitle="Session of 2 April 2027",
        heatmap_heading="Working together between units (1 = not true, 5 = fully true)",
        heatmap=Heatmap(
            units=["Day team", "Evening team", "Therapists"],
            cells=cells,
            note="Grey: fewer than 5 answered, so the row is hidden",
        ),
        sections=[
            PosterSection(
                id="handoffs",
                heading="The hand-offs that matter most",
                style="cards",
                items=_items(
                    "h",
                    [
                        ("Changes in medication from day to evening", "12 dots"),
                        ("Aids that were ordered but have not arrived", "8 dots"),
                        ("Messages from relatives", "5 dots"),
                    ],
                ),
            ),
            PosterSection(
                id="stop",
                heading="What we stop doing",
                style="list",
                items=_items(
                    "s",
                    [
                        ("Sticky notes on the office wall", None),
                        ("Calling the therapists during lunch", None),
                        ("Writing the same thing in two systems", None),
                    ],
                ),
            ),
            PosterSection(
                id="agreements",
                heading="Our agreements",
                style="cards",
                items=_items(
                    "a",
                    [
                        ("Hand-over at 14:45 with a fixed checklist", "10 dots"),
                        ("The therapists keep a contact phone 8–16", "7 dots"),
                        ("We speak up at once when something slips, without looking for blame", "6 dots"),
                    ],
                ),
            ),
        ],
        commitments_heading="Who does what",
        commitments_labels=("What", "Who", "By when"),
        commitments=[
            Commitment(what="Write the hand-over checklist", who="Sølvi and Jørgen", when="20 April"),
            Commitment(what="Set up the contact phone", who="Therapists", when="1 May"),
        ],
        follow_up="Follow-up meeting: Tuesday 4 May 2027 at 13:00",
        footer="Made with Tovholder · 2 April 2027",
    )


def _lessons(lang: Lang) -> PosterData:
    if lang == "nb":
        return PosterData(
            kind="lessons",
            language="nb",
            title="Det vi lærte",
            team="Hjemmetjenesten Nordre Åsen",
            subtitle="Refleksjon etter tre måneder, 30. juni 2027",
            statement_heading="Det viktigste",
            statement="Når vi snakker sammen før noe går galt, slipper vi å rydde opp etterpå.",
            sections=[
                PosterSection(
                    id="worked",
                    heading="Dette fungerte",
                    style="quotes",
                    items=_items(
                        "w",
                        [
                            ("Overlappet på onsdager har gjort kveldene roligere.", "Kveldsteamet"),
                            ("Brukerne merker at de møter færre nye ansikter.", "Dagteamet"),
                        ],
                    ),
                ),
                PosterSection(
                    id="hard",
                    heading="Dette var vanskelig",
                    style="quotes",
                    items=_items(
                        "h",
                        [
                            ("Sjekklisten ble for lang, og vi hoppet over den når det var travelt.", None),
                            ("Vikarer visste ikke om avtalene.", "Terapeutene"),
                        ],
                    ),
                ),
                PosterSection(
                    id="next",
                    heading="Dette gjør vi annerledes",
                    style="list",
                    items=_items(
                        "n",
                        [
                            ("Kort sjekkliste: fem punkter, ikke femten", None),
                            ("Avtalene henger i vaktrommet og står i opplæringen for vikarer", None),
                        ],
                    ),
                ),
            ],
            commitments_heading="Neste steg",
            commitments_labels=("Hva", "Hvem", "Innen"),
            commitments=[Commitment(what="Korte ned sjekklisten", who="Sølvi", when="15. august")],
            footer="Laget med Tovholder · 30. juni 2027",
        )
    return PosterData(
        kind="lessons",
        language="en",
        title="What we learned",
        team="North Ridge home care",
        subtitle="Reflection after three months, 30 June 2027",
        statement_heading="The main lesson",
        statement="When we talk before something goes wrong, we do not have to clean up afterwards.",
        sections=[
            PosterSection(
                id="worked",
                heading="What worked",
                style="quotes",
                items=_items(
                    "w",
                    [
                        ("The Wednesday overlap has made the evenings calmer.", "Evening team"),
                        ("Clients notice that they meet fewer new faces.", "Day team"),
                    ],
                ),
            ),
            PosterSection(
                id="hard",
                heading="What was hard",
                style="quotes",
                items=_items(
                    "h",
                    [
                        ("The checklist got too long, and we skipped it on busy days.", None),
                        ("Temps did not know about the agreements.", "Therapists"),
                    ],
                ),
            ),
            PosterSection(
                id="next",
                heading="What we will do differently",
                style="list",
                items=_items(
                    "n",
                    [
                        ("A short checklist: five points, not fifteen", None),
                        ("The agreements hang in the staff room and are part of the temps' induction", None),
                    ],
                ),
            ),
        ],
        commitments_heading="Next steps",
        commitments_labels=("What", "Who", "By when"),
        commitments=[Commitment(what="Shorten the checklist", who="Sølvi", when="15 August")],
        footer="Made with Tovholder · 30 June 2027",
    )


def sample(kind: PosterKind, lang: Lang = "en") -> PosterData:
    """A built-in sample poster of this kind, in English or Norwegian (bokmål)."""
    build = {"core-task": _core_task, "coordination": _coordination, "lessons": _lessons}[kind]
    return build(lang)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.posters.sample", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=KINDS, default="core-task")
    parser.add_argument("--lang", choices=LANGS, default="en")
    parser.add_argument("--paper", choices=("a3", "a4"), default="a3")
    parser.add_argument("--orientation", choices=("portrait", "landscape"), default="portrait")
    parser.add_argument("--ppi", type=int, default=144, help="for PNG output")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="a .pdf or .png file")
    target.add_argument("--out-dir", type=Path, help="render every kind and language as KIND-LANG.png here")
    args = parser.parse_args(argv)
    paper = cast(Paper, args.paper)
    orientation = cast(Orientation, args.orientation)
    jobs: list[tuple[PosterKind, Lang, Path]]
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        jobs = [(k, lg, args.out_dir / f"{k}-{lg}.png") for k in KINDS for lg in LANGS]
    else:
        jobs = [(args.kind, args.lang, args.out)]
    for kind, lang, out in jobs:
        fmt: Format = "png" if out.suffix.lower() == ".png" else "pdf"
        out.write_bytes(
            render(sample(kind, lang), paper=paper, orientation=orientation, fmt=fmt, ppi=args.ppi)
        )
        sys.stdout.write(f"{out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
