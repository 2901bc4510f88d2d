"""Search terms that survive Ukrainian inflection: a light stemmer and vowel alternation.

`Зеленського` and `Зеленський` share the stem `зеленськ`; `Києві` and `Київ` differ inside the
stem (і in a closed syllable, е/о/є in an open one), so each stem also brings its alternate.
Storage matches every alternative as a word prefix.
"""

from __future__ import annotations

import re

MIN_STEM = 3
MAX_TERMS = 8
_UK_ENDINGS = sorted(
    [
        "ого",
        "ому",
        "ими",
        "іми",
        "ий",
        "ій",
        "ая",
        "яя",
        "ою",
        "ею",
        "єю",
        "ої",
        "ей",
        "ую",
        "юю",
        "их",
        "іх",
        "им",
        "ім",
        "ами",
        "ями",
        "ах",
        "ях",
        "ам",
        "ям",
        "ом",
        "ем",
        "єм",
        "ові",
        "еві",
        "єві",
        "ів",
        "їв",
        "ться",
        "ються",
        "ється",
        "ати",
        "ити",
        "іти",
        "ути",
        "яти",
        "ував",
        "ла",
        "ли",
        "ло",
        "ть",
        "ють",
        "ать",
        "ять",
        "ить",
        "ємо",
        "имо",
        "ете",
        "ите",
        "а",
        "я",
        "о",
        "е",
        "є",
        "і",
        "ї",
        "и",
        "у",
        "ю",
        "ь",
    ],
    key=len,
    reverse=True,
)
_EN_ENDINGS = ("'s", "ing", "ed", "es", "s")
_WORD = re.compile(r"[\w'’ʼ-]+")
_CYRILLIC = re.compile(r"[а-яіїєґ]")
_CONSONANTS = "бвгґджзклмнпрстфхцчшщ"
STOPWORDS = frozenset(
    [
        "в",
        "у",
        "на",
        "по",
        "з",
        "із",
        "зі",
        "до",
        "від",
        "за",
        "та",
        "і",
        "й",
        "а",
        "але",
        "що",
        "як",
        "про",
        "для",
        "при",
        "над",
        "під",
        "без",
        "це",
        "чи",
        "не",
        "ні",
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "to",
        "for",
        "and",
        "or",
        "is",
        "are",
        "at",
        "by",
        "with",
        "from",
    ]
)


def stem(word: str) -> str:
    """The word without its inflectional ending, at least MIN_STEM letters long."""
    word = word.casefold().replace("’", "'").replace("ʼ", "'").strip("'-")
    endings = _UK_ENDINGS if _CYRILLIC.search(word) else _EN_ENDINGS
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def alternates(stem_: str) -> list[str]:
    """The stem with its last vowel alternated: київ ↔ києв, львів ↔ львов, миколаїв ↔ миколаєв."""
    m = re.search(rf"([іїоеє])([{_CONSONANTS}])$", stem_)
    if not m or len(stem_) < 4:
        return [stem_]
    head, vowel, tail = stem_[: m.start()], m.group(1), m.group(2)
    swaps = {"і": "ео", "ї": "є", "о": "і", "е": "і", "є": "ї"}[vowel]
    return [stem_] + [head + v + tail for v in swaps]


def search_terms(query: str) -> list[list[str]]:
    """What to match for a reader's query: per word, the prefixes any of which may match."""
    words = _WORD.findall(query)
    words = [w for w in words if w.casefold() not in STOPWORDS] or words
    terms: list[list[str]] = []
    for word in words[:MAX_TERMS]:
        base = stem(word)
        if base:
            terms.append(alternates(base))
    return terms
