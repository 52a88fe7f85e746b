"""The pages' own files (HTML templates, CSS, JavaScript in ``sim/viz/web/``) and filling them in.

The files are package data, read with importlib.resources so they are found in a wheel as well
as in a checkout. Each page is written as one self-contained file: the CSS, the scripts and the
data are put inline, nothing is fetched.
"""
from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib.resources import files

_SLOT = re.compile(r"__([A-Z]+)__")


@cache
def asset(name: str) -> str:
    """The text of ``sim/viz/web/<name>``."""
    return (files("sim.viz") / "web" / name).read_text(encoding="utf-8")


def inline_scripts(*names: str) -> str:
    """Script files joined for one inline <script> element (shared ones first)."""
    texts = [asset(name) for name in names]
    for name, text in zip(names, texts):
        # An inline script ends at the first "</script", wherever it stands.
        if "</script" in text.lower():
            raise ValueError(f"web/{name} contains '</script' and cannot be put inline")
    return "\n".join(texts)


def script_json(data: object) -> str:
    """``data`` as compact JSON for a <script type="application/json"> element."""
    # "</" inside the JSON would end the script element early.
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def page_title(text: str) -> str:
    """Text for the <title> element (quotes need no escaping in element content)."""
    return html.escape(text, quote=False)


def fill(template: str, **slots: str) -> str:
    """``web/<template>`` with each ``__NAME__`` replaced by ``slots["name"]``.

    One pass over the template: text put into a slot (data, scripts) is never read as a slot.
    """
    text = asset(template)
    wanted = {name.lower() for name in _SLOT.findall(text)}
    if wanted != set(slots):
        raise ValueError(f"web/{template} has slots {sorted(wanted)}, given {sorted(slots)}")
    return _SLOT.sub(lambda match: slots[match.group(1).lower()], text)
