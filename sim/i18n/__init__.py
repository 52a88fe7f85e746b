"""Words users read, in English and Bahasa Indonesia: one message catalogue per language.

Each language is a flat JSON file beside this module (``en.json``, ``id.json``) mapping a dotted
key to its text; the first part of the key says who shows it (``page.`` the planning page,
``report.`` report.html, ``map.`` the coverage maps, ``figure.`` the figures, ``anim.`` the
animations, ``common.`` any of them, ``number.`` and ``date.`` how numbers and dates are written).
Placeholders are ``{name}`` (``str.format``), the same names in every language; values are filled
in as text, numbers already written by ``Messages.num``. English is complete by definition; a key
missing from another language falls back to English, and ``missing_keys`` lists such gaps (the
tests require there are none).

A writer of pages or figures takes a ``Messages`` (``messages(lang)``) from its caller and asks it
for every word it writes: ``m("report.title", name=...)``, ``m.num(0.5, ".1f")``, ``m.date(when)``.
"""
from __future__ import annotations

import functools
import json
import string
from datetime import datetime
from importlib import resources

from sim.errors import InputError

LANGUAGES = ("en", "id")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia"}


def check_language(lang: object, what: str = "lang") -> str:
    """``lang`` if it is a known language code, else InputError naming the choices."""
    if lang not in LANGUAGES:
        raise InputError(f"{what} {str(lang)[:20]!r}: one of {', '.join(LANGUAGES)} "
                         f"({', '.join(LANGUAGE_NAMES[code] for code in LANGUAGES)})")
    return str(lang)


@functools.lru_cache(maxsize=len(LANGUAGES))
def _file(lang: str) -> dict[str, str]:
    # Package data, read through importlib so it works from a wheel as from a checkout.
    text = (resources.files("sim.i18n") / f"{lang}.json").read_text("utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"sim/i18n/{lang}.json: expected one object of text by key")
    return data


def catalogue(lang: str = DEFAULT_LANGUAGE, prefix: str = "") -> dict[str, str]:
    """Every message of ``lang`` whose key starts with ``prefix``, English where it has none."""
    check_language(lang, "language")
    merged = {**_file(DEFAULT_LANGUAGE), **_file(lang)}
    return {key: text for key, text in merged.items() if key.startswith(prefix)}


class Messages:
    """The words of one language: ``m(key, **values)`` is the message with its placeholders filled;
    ``num`` and ``date`` write numbers and dates as the language does. Made by ``messages(lang)``."""

    __slots__ = ("lang", "_texts", "_swap")

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = check_language(lang, "language")
        self._texts = catalogue(self.lang)
        decimal, group = self._texts["number.decimal"], self._texts["number.group"]
        # Python writes "1,234.5"; a language with other separators swaps them in one pass.
        self._swap = None if (decimal, group) == (".", ",") else str.maketrans({".": decimal, ",": group})

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._texts.get(key)
        if text is None:
            raise KeyError(f"no message {key!r} in sim/i18n/{DEFAULT_LANGUAGE}.json")
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has a message ``key`` (for words of an open set: site kinds, road classes)."""
        return key in self._texts

    def num(self, value: object, spec: str = "g") -> str:
        """``value`` written with the format ``spec`` (as ``format(value, spec)``: ``",.1f"``,
        ``"+.1f"``, ``"g"``, ``".0%"``) and the language's decimal mark and digit grouping."""
        text = format(value, spec)
        return text if self._swap is None else text.translate(self._swap)

    def date(self, when: datetime, time: bool = True) -> str:
        """``Wed 27 Nov 2024 07:00`` (without ``time``: ``Wed 27 Nov 2024``), with the language's
        names of days and months."""
        day, month = self(f"date.day.{when.weekday()}"), self(f"date.month.{when.month}")
        text = f"{day} {when.day:02d} {month} {when.year}"
        return f"{text} {when.hour:02d}:{when.minute:02d}" if time else text

    def __repr__(self) -> str:
        return f"Messages({self.lang!r})"


def messages(lang: str = DEFAULT_LANGUAGE) -> Messages:
    """The ``Messages`` of ``lang`` (InputError naming the choices for an unknown code)."""
    return _messages(check_language(lang, "language"))


@functools.lru_cache(maxsize=len(LANGUAGES))
def _messages(lang: str) -> Messages:
    return Messages(lang)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a message fills."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def missing_keys(lang: str) -> list[str]:
    """Keys of the English catalogue that ``lang`` lacks, or whose placeholders differ from English."""
    english, other = _file(DEFAULT_LANGUAGE), _file(check_language(lang, "language"))
    return sorted(key for key, text in english.items()
                  if key not in other or placeholders(other[key]) != placeholders(text))
