"""Words users read, in English and Bahasa Indonesia: one message catalogue per language.

Each language is a flat JSON file beside this module (``en.json``, ``id.json``) mapping a dotted
key to its text; the first part of the key says who shows it (``page.`` the planning page,
``common.`` any output), so the report and the maps can take their words from the same files.
Placeholders are ``{name}`` (``str.format``), the same names in every language. English is
complete by definition; a key missing from another language falls back to English, and
``missing_keys`` lists such gaps (the tests require there are none).
"""
from __future__ import annotations

import functools
import json
import string
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


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The message ``key`` in ``lang`` with its ``{placeholders}`` filled; KeyError for an unknown key."""
    text = catalogue(lang).get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in sim/i18n/{DEFAULT_LANGUAGE}.json")
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a message fills."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def missing_keys(lang: str) -> list[str]:
    """Keys of the English catalogue that ``lang`` lacks, or whose placeholders differ from English."""
    english, other = _file(DEFAULT_LANGUAGE), _file(check_language(lang, "language"))
    return sorted(key for key, text in english.items()
                  if key not in other or placeholders(other[key]) != placeholders(text))
