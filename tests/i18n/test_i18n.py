"""The message catalogue (sim.i18n): every language says every message, with the same placeholders,
and every message the planning page asks for exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.i18n import LANGUAGES, catalogue, check_language, messages, missing_keys, placeholders

STATIC = Path(__file__).resolve().parents[2] / "sim" / "serve" / "static"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_every_message_with_its_placeholders(lang):
    assert missing_keys(lang) == [], f"sim/i18n/{lang}.json lacks or changes the placeholders of these keys"


#: words Bahasa Indonesia writes as English does (a message of only these may read the same in both)
SHARED_WORDS = {"unit", "target", "kecamatan", "model", "seed"}


def test_indonesian_is_not_english_copied():
    english, indonesian = catalogue("en"), catalogue("id")

    def english_words(text: str) -> list[str]:
        return [word for word in re.findall(r"[A-Za-z]{4,}", re.sub(r"\{\w+\}", "", text))
                if word.lower() not in SHARED_WORDS]
    same = [key for key in english if english[key] == indonesian[key] and english_words(english[key])]
    assert same == [], f"these messages are not translated: {same}"


def test_every_message_the_page_asks_for_exists():
    text = "\n".join(path.read_text(encoding="utf-8") for path in STATIC.glob("*.js")) + \
        (STATIC / "index.html").read_text(encoding="utf-8")
    fixed = set(re.findall(r"""["']((?:page)\.[A-Za-z0-9_.]+)["']""", text))
    # keys built from a value: page.mode.${mode} and the like, with every value the page can give them
    built = {f"page.mode.{m}" for m in ("post", "circuit", "base", "random")} | \
        {f"page.figure.{k}" for k in ("within", "late", "prevented", "mean", "p90", "lateRun", "preventedRun")} | \
        {f"page.unit.{u}" for u in ("min", "pts", "perWeek")} | \
        {f"page.vs.{v}" for v in ("before", "saved", "beside")} | \
        {f"page.verdict.{v}" for v in ("better", "worse", "unclear")} | \
        {f"page.play.unit.{u}" for u in ("standing", "patrolling", "toIncident", "onScene", "returning")} | \
        {f"page.play.incident.{i}" for i in ("waiting", "onTheWay", "onScene", "cleared", "deterred", "spotted")}
    known = set(catalogue("en"))
    assert sorted((fixed | built) - known) == []


def test_messages_fill_placeholders_and_refuse_unknown_keys():
    assert messages("id")("page.unit.group", n=3) == "Unit 3"
    assert messages("en")("page.status.running", done=2, total=10) == "simulating: 2 of 10 replications"
    assert placeholders("{a} and {b}") == {"a", "b"}
    with pytest.raises(KeyError):
        messages()("page.no.such.key")
    with pytest.raises(InputError, match="one of en, id"):
        check_language("fr")
