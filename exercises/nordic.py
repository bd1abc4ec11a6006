"""Words as a Nordic reader sees them: "samarbeid", "Samarbeidet" and "samarbied" are one word.

Snowball stemmers (PyStemmer: Norwegian for bokmål and nynorsk, Danish, Swedish, English) fold the
inflections; rapidfuzz's optimal string alignment distance folds typos; small stop-word lists leave
out the words that carry no meaning of their own. Everything runs locally: no network, no model."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import Stemmer
from rapidfuzz.distance import OSA

STEMMER_OF = {"nb": "norwegian", "nn": "norwegian", "da": "danish", "sv": "swedish", "en": "english"}

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

# Function words that say nothing about a theme. Written here (no download), the commonest first.
_STOP = {
    "en": """a about after again all also am an and any are as at be because been before being but by can
        could did do does doing down during each even few for from further get gets got had has have
        having he her here hers him his how i if in into is it its just let like make many me more
        most much must my no nor not now of off often on once one only or other our ours out over
        own same she should so some such than that the their theirs them then there these they this
        those through to too under until up us very was we were what when where which while who whom
        why will with would you your yours""",
    "nb": """alle at av bare begge ble bli blir da de deg dem den denne der dere deres det dette di din
        disse ditt du eller en ene eneste enn er et ett etter for fordi fra få før ha hadde han hans
        har hennes henne her hva hvem hver hvilke hvilken hvis hvor hvordan hvorfor i ikke inn inni
        jeg kan kanskje kom kunne man mange med meg men mer mest min mine mitt mot mye må ned noe
        noen nok når og også om opp oss over på sa samme seg selv si sin sine sitt skal skulle slik
        som så til under ut uten var vi ville vil vår våre vårt være vært å""",
    "nn": """alle at av berre begge blei bli blir då dei deim deira deires den denne der dere desse det
        dette di din ditt du dykk dykkar eg ein eit eitt eller elles enn er etter for fordi frå få
        før ha hadde han hans har ho hennar henne her kan kanskje korleis kva kvar kven kvifor kvi i
        ikkje inn kom kunne man mange med meg men meir mest mi min mine mitt mot mykje må ned noko
        nokon nokre nok når og òg også om opp oss over på sa same seg sjølv si sin sine sitt skal
        skulle slik som så til under ut utan var vi ville vil vår våre vårt vere vore vorte å""",
    "da": """af alle alt at blev blive bliver da de dem den denne der deres det dette dig din dine disse
        dit du efter eller en end er et for fordi fra få før ham han hans har havde hende hendes her
        hos hun hvad hvem hver hvilke hvilken hvis hvor hvordan hvorfor i ikke ind jeg jer jeres kan
        kunne man mange med meget men mere mest min mine mit mod må ned noget nogen nogle når og
        også om op os over på sig selv sin sine sit skal skulle som så til ud uden var vi vil ville
        vor vores være været""",
    "sv": """alla allt att av bara blev bli blir de dem den denna deras dess det detta dig din dina ditt
        du efter eller en ett fast från få för hade han hans har hennes henne honom hur här i in
        inte jag kan kanske kom kunde man många med mig min mina mitt mot mycket mer mest måste ner
        någon något några när och också om oss på sig sin sina sitt själv ska skulle som så till
        under upp ut utan var vad vem vi vilka vilken vill våra vårt vår vara varit än är åt""",
}
STOPWORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in _STOP.items()}
STOPWORDS["nn"] = STOPWORDS["nn"] | STOPWORDS["nb"]  # a nynorsk room writes some bokmål too

# Words that can stand in a cloud ("first day") but say nothing about which theme a card is on:
# time, number and amount, and the commonest verbs and judgements. Used when cards are grouped.
_GENERIC = {
    "en": """answer answered send sent call called start started begin began find found stand stood talk
        talked every same before after between short day days time times week weeks month year first
        second third two three four five many lot lots little whole new old good well bad big small
        got get need needed needs know knew come came go went say said take took make made put
        should must always never often now then just really very more most last late early known
        ones thing things way""",
    "nb": """egen eget egne svare svarte svar sende sendt sendes ringe ringte ringer lage lag stå står
        sto stod finnes fantes fant hver hvert samme før etter mellom kort korte snakke snakket
        begynne begynte starte startet ulik ulike dag dagen dager dagene tid tiden gang ganger uke
        uker uka måned år første andre tredje to tre fire fem mange flere mye litt hele ny nye nytt
        god godt gode bra fint fin dårlig stor store liten små fikk fått gjøre gjør gjorde gjort
        trenge trenger trengte trengs kom komme kommer gå går gikk sier sa vite vet visste ta tar
        tok bør burde måtte alltid aldri ofte nå veldig helt mest først sist sent tidlig kjent
        kjente ting måte mens ingen""",
    "nn": """eigen eige eigne svare svarte sende sendt ringje ringde lage lag stå står stod finst fanst
        fann kvar kvart same før etter mellom kort korte snakke snakka byrje byrja starte starta
        ulik ulike dag dagen dagar dagane tid tida gong gonger veke veker månad år første andre
        tredje to tre fire fem mange fleire mykje litt heile ny nye nytt god godt gode bra fint fin
        dårleg stor store liten små fekk fått gjere gjer gjorde gjort trenge treng trong trongte kom
        kome kjem gå går gjekk seier sa vite veit visste ta tek tok bør burde måtte alltid aldri
        ofte no veldig heilt mest først sist seint tidleg kjent kjende ting måte medan ingen""",
    "da": """egen eget egne får svare svarede sende sendt ringe ringede ringer lave står stod findes
        fandtes fandt hver hvert samme før efter mellem kort korte tale talte begynde begyndte
        starte startede forskellig forskellige dag dagen dage dagene tid tiden gang gange uge uger
        måned år første anden andre tredje to tre fire fem mange flere meget lidt hele ny nye nyt
        god godt gode fint fin dårlig stor store lille små fik fået gøre gør gjorde gjort brug behov
        kom komme kommer gå går gik siger sagde vide ved vidste tage tager tog bør burde måtte altid
        aldrig tit ofte nu rigtig helt mest først sidst sent tidligt kendt ting måde mens ingen""",
    "sv": """egen eget egna får svara svarade skicka skickade ringa ringde ringer göra stå står stod
        finns fanns hitta hittade varje samma innan före efter mellan kort korta prata pratade
        pratar ihop börja började börjar starta startade lämna lämnade lämnar känna känns kände
        olika dag dagen dagar dagarna tid tiden gång gånger vecka veckor veckan månad år första
        andra tredje två tre fyra fem många fler mycket lite hela ny nya nytt god bra fint fin dålig
        stor stora liten små fick fått gör gjorde gjort behöva behöver behövde kom komma kommer gå
        går gick säger sa veta vet visste ta tar tog bör borde måste alltid aldrig ofta nu väldigt
        helt mest först sist sent tidigt känd sak sätt medan ingen inget""",
}
GENERIC: dict[str, frozenset[str]] = {k: frozenset(v.split()) | STOPWORDS[k] for k, v in _GENERIC.items()}
GENERIC["nn"] = GENERIC["nn"] | GENERIC["nb"]


@functools.cache
def _stemmer(locale: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(STEMMER_OF.get(locale, "english"))


def tokens(text: str) -> list[str]:
    """The words of a text (letters and digits), case-folded; punctuation left out."""
    return [w.replace("’", "'") for w in _WORD.findall(text.casefold())]


@functools.lru_cache(maxsize=8192)
def stem(word: str, locale: str) -> str:
    return str(_stemmer(locale).stemWord(word.casefold()))


def content_stems(text: str, locale: str, *, themes: bool = False) -> list[str]:
    """The stems of the words that carry meaning, in order; a text of stop words only keeps them.
    `themes` also leaves out the generic words (time, amount, common verbs)."""
    words = tokens(text)
    lists = GENERIC if themes else STOPWORDS
    stop = lists.get(locale, lists["en"])
    kept = [w for w in words if w not in stop] or words
    return [stem(w, locale) for w in kept]


def typo_distance(length: int) -> int:
    """Edits two words of this length may differ by and still be one word: none below six
    letters ("møter" and "måter" differ), one up to nine, two from ten."""
    return 0 if length < 6 else 1 if length < 10 else 2


def near(a: str, b: str) -> bool:
    """The same word, perhaps misspelled: a few edits apart, counting a swap of two letters as one."""
    if a == b:
        return True
    allowed = typo_distance(max(len(a), len(b)))
    return allowed > 0 and abs(len(a) - len(b)) <= allowed and OSA.distance(a, b) <= allowed


def fold_typos(keys: Iterable[tuple[str, int]], surface: dict[str, str] | None = None) -> dict[str, str]:
    """Map each key to the key it is a misspelling of: keys are taken commonest first, and each
    joins the first commoner key that is `near` it, as a stem or as written (`surface`: a key's
    commonest spelling, case-folded)."""
    surface = surface or {}
    heads: list[str] = []
    mapping: dict[str, str] = {}
    for key, _count in sorted(keys, key=lambda kc: (-kc[1], len(kc[0]), kc[0])):
        head = next(
            (h for h in heads if near(key, h) or near(surface.get(key, key), surface.get(h, h))), None
        )
        if head is None:
            heads.append(key)
            head = key
        mapping[key] = head
    return mapping


def _commonest(spellings: Counter[str]) -> str:
    """The commonest spelling, counting case as the same; on a tie the one written first."""
    folded: Counter[str] = Counter()
    for spelling, n in spellings.items():
        folded[spelling.casefold()] += n
    order = {s: i for i, s in enumerate(spellings)}  # a Counter keeps the order of first sight
    return min(spellings, key=lambda s: (-folded[s.casefold()], -spellings[s], order[s]))


@dataclass(frozen=True)
class Merged:
    """One word of a cloud: the spelling most people used, and how many said it in any form."""

    text: str
    count: int
    forms: tuple[str, ...]  # every spelling that went into it, the shown one first


def merge_words(words: Sequence[str], locale: str) -> list[Merged]:
    """Words and short phrases merged across inflections, case, spacing and typos, commonest
    first. The shown text is the commonest spelling (case counts as the same; on a tie, the one
    written first)."""
    by_key: dict[str, Counter[str]] = {}
    for word in words:
        shown = " ".join(word.split())
        if not shown:
            continue
        key = " ".join(content_stems(shown, locale)) or shown.casefold()
        by_key.setdefault(key, Counter())[shown] += 1
    surface = {k: c.most_common(1)[0][0].casefold() for k, c in by_key.items()}
    heads = fold_typos(((k, sum(c.values())) for k, c in by_key.items()), surface)
    members: dict[str, list[str]] = {}
    for key in by_key:
        members.setdefault(heads[key], []).append(key)
    merged = []
    for head, keys in members.items():
        shown = _commonest(by_key[head])  # a misspelling never names the word
        forms: Counter[str] = Counter()
        for key in keys:
            forms.update(by_key[key])
        others = sorted((f for f in forms if f != shown), key=lambda f: (-forms[f], f.casefold(), f))
        merged.append(Merged(shown, sum(forms.values()), (shown, *others)))
    merged.sort(key=lambda m: (-m.count, m.text.casefold()))
    return merged
