"""Problems with a scenario, each placed at its file, line and YAML path: ``FILE:LINE: a.b[2]: ...``."""
from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from sim.config.option_names import API_NAMES, OptionNames
from sim.config.yaml_reader import Lines, YamlPath
from sim.errors import InputError, shown
from sim.plugins.registry import Variants


#: The error type of a problem placed by ``located``: its message is shown as written.
PLACED = "placed"


def dotted(path: YamlPath) -> str:
    """``('plans', 2, 'units', 0, 'at')`` -> ``plans[2].units[0].at``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def suggest(name: str, known: list[str]) -> str:
    """"; did you mean 'x'?" for the closest known name, else the short list of known names."""
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if known and len(known) <= 12:
        return f" (known: {', '.join(known)})"
    return ""


def located(problems: list[tuple[YamlPath, str]], title: str = "scenario") -> ValidationError:
    """One validation error per (path, message), the paths relative to the value being validated:
    what a validator raises to report several problems, or one deeper than where it runs."""
    return ValidationError.from_exception_data(title, [
        {"type": PydanticCustomError(PLACED, "{message}", {"message": message}), "loc": path, "input": None}
        for path, message in problems])


def raise_located(problems: list[tuple[YamlPath, str]]) -> None:
    """Raise ``located(problems)`` if there are any: a validator's several problems at once."""
    if problems:
        raise located(problems)


class Report:
    """Collects problems; each is placed at the YAML line of its path (or of its nearest parent).

    ``lines`` is empty for data given in code: problems then name the path without a line.
    ``names`` say how the user gave values by dotted path (``--set`` on the command line).
    """

    def __init__(self, label: str, lines: Lines, names: OptionNames = API_NAMES):
        self.label = label
        self.lines = lines
        self.names = names
        self.overridden: list[tuple[YamlPath, str]] = []  # (path set, override key as given)
        self._items: list[tuple[int, str]] = []  # (sort line, text); line 0 sorts first

    def general(self, message: str) -> None:
        """A problem without a place in the file (e.g. a bad override path)."""
        self._items.append((0, message))

    def at(self, path: YamlPath, message: str) -> None:
        where = f"{dotted(path)}: " if path else ""
        for set_path, key in self.overridden:
            if path[: len(set_path)] == set_path:
                # the file's line would show a value that is not the one being checked
                self._items.append((0, f"{self.label}: {where}{message} "
                                       f"(value given {self.names.set_where} for {key})"))
                return
            if set_path[: len(path)] == path and path not in self.lines and self.lines:
                # a key the override created: the file has no line for it
                self._items.append((0, f"{self.names.sets} {key}: {where}{message}"))
                return
        if not self.lines:
            self._items.append((0, f"{self.label}: {where}{message}"))
            return
        line = self.line(path)
        self._items.append((line, f"{self.label}:{line}: {where}{message}"))

    def placed(self, path: YamlPath, message: str) -> str:
        """``message`` placed at ``path`` as a problem would be, without recording it (for warnings)."""
        before = len(self._items)
        self.at(path, message)
        return self._items.pop(before)[1]

    def line(self, path: YamlPath) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def raise_if_any(self) -> None:
        if self._items:
            ordered = sorted(self._items, key=lambda item: item[0])  # stable within a line
            raise InputError(list(dict.fromkeys(text for _, text in ordered)))

    # -- the schema's findings ------------------------------------------------------------------

    def pydantic_errors(self, exc: ValidationError, schema: type[BaseModel]) -> None:
        """Each pydantic error as a problem at its YAML path."""
        for err in exc.errors(include_url=False):
            loc, variant_of = _clean_loc(schema, tuple(p for p in err["loc"] if p != "[key]"), err["type"] != PLACED)
            self.at(*_message(err, loc, variant_of, schema))


def _close(name: Any, known: list[str]) -> str:
    """"; did you mean 'x'?" when a known name is close to ``name``, else ""."""
    close = difflib.get_close_matches(name, known, n=1) if isinstance(name, str) else []
    return f"; did you mean '{close[0]}'?" if close else ""


def _message(err: dict[str, Any], loc: YamlPath, variant_of: dict[YamlPath, tuple[str, str, list]],
             schema: type[BaseModel]) -> tuple[YamlPath, str]:
    kind = err["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = err["ctx"]["discriminator"].strip("'")
        if kind == "union_tag_not_found":
            return loc + (field,), "missing (required)"
        tags = [t.strip().strip("'") for t in err["ctx"]["expected_tags"].split(",")]
        choices = " or ".join([", ".join(map(repr, tags[:-1])), repr(tags[-1])]) if len(tags) > 1 else repr(tags[0])
        return loc + (field,), f"input should be {choices}, got {shown(err['ctx']['tag'])}" + _close(err["ctx"]["tag"], tags)
    if kind == "plugin_name":  # a name that is not in a plug-in registry (sim.plugins.registry.named_in)
        return loc, f"input should be {err['ctx']['expected']}, got {shown(err['input'])}" \
            + _close(err["input"], list(err["ctx"]["known"]))
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = loc[:-1]
        if parent in variant_of:  # a key of another variant of a tagged union (another mode, dist)
            field, tag, variants = variant_of[parent]
            owners = [name for name, cls in variants if key in cls.model_fields and name != tag]
            if owners:
                return loc, f"'{key}' is only for {field} {' or '.join(owners)}, not {tag}"
            known = list(dict(variants)[tag].model_fields)
            return loc, f"unknown key '{key}'" + suggest(key, known)
        return loc, f"unknown key '{key}'" + suggest(key, allowed_keys(schema, parent))
    if kind == PLACED:
        return loc, err["msg"]
    if kind == "missing":
        return loc, "missing (required)"
    if "[key]" in err["loc"]:
        return loc, f"keys here must be text, got {shown(err['input'])}"
    if kind == "model_type":  # pydantic would name our schema class
        return loc, f"expected a mapping of keys, got {shown(err['input'])}"
    message = err["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    value = err.get("input")
    if not isinstance(value, (dict, list)) and kind != "value_error":
        message += f", got {shown(value)}"
    return loc, message


# -- walking the schema along a YAML path ----------------------------------------------------------


def _without_none(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X`` (a plug-in point's type -> the union of
    the classes registered now); anything else unchanged."""
    while hasattr(annotation, "__metadata__"):
        variants = next((m for m in annotation.__metadata__ if isinstance(m, Variants)), None)
        annotation = variants.union() if variants is not None else annotation.__origin__
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and len(args) == 1:
        return _without_none(args[0])
    return annotation


def _union_variants(annotation: Any) -> tuple[str, list[tuple[str, type[BaseModel]]]] | None:
    """(tag field, [(tag, class)]) of a tagged union of models, else None."""
    options = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    if get_origin(annotation) not in (Union, types.UnionType) or len(options) < 2:
        return None
    for field in options[0].model_fields:
        tags = [get_args(cls.model_fields[field].annotation) for cls in options if field in cls.model_fields]
        if len(tags) == len(options) and all(len(t) == 1 and isinstance(t[0], str) for t in tags):
            return field, [(t[0], cls) for t, cls in zip(tags, options)]
    return None


def _step(annotation: Any, part: Any) -> Any:
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        variants = next((m for m in field.metadata if isinstance(m, Variants)), None)  # a plug-in point
        return variants.union() if variants is not None else field.annotation
    if get_origin(annotation) in (list, dict, tuple):
        return get_args(annotation)[-1] if get_origin(annotation) is not tuple else get_args(annotation)[0]
    return None


def _clean_loc(schema: type[BaseModel], loc: YamlPath, tagged: bool = True) -> tuple[YamlPath, dict]:
    """The YAML path of a pydantic location (the tags pydantic adds for tagged unions dropped),
    and for each path that holds a union variant: (tag field, tag, variants). A location that is
    not ``tagged`` (placed by a check, not by pydantic) names a tag only where it validated inside one."""
    annotation: Any = schema
    out: list = []
    variant_of: dict[YamlPath, tuple[str, str, list]] = {}
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        out.append(part)
        annotation = _step(annotation, part)
        union = _union_variants(_without_none(annotation)) if annotation is not None else None
        if union is not None and parts and (tagged or parts[0] in dict(union[1])):
            field, variants = union
            tag = parts.pop(0)
            variant_of[tuple(out)] = (field, str(tag), variants)
            annotation = dict(variants).get(tag)
    return tuple(out), variant_of


def allowed_keys(schema: type[BaseModel], loc: YamlPath) -> list[str]:
    """The keys the schema allows at ``loc`` (for did-you-mean on unknown keys)."""
    annotation: Any = schema
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    union = _union_variants(annotation)
    return sorted({key for _, cls in union[1] for key in cls.model_fields}) if union else []
