"""Pydantic validation that speaks in located problems instead of exceptions.

Answer files and recipes are both validated here: each pydantic error becomes
a `Problem` at the line and column of the offending key or value, unknown keys
get a did-you-mean from the model's own field names, and literal choices name
the closest allowed value.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from emi_tui.engine.answers import schemarules as rules
from emi_tui.engine.answers.yamlload import KeyPath, Located, YamlValue
from emi_tui.engine.errors import Problem, did_you_mean, one_of

M = TypeVar("M", bound=BaseModel)


def _fields_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    """Names of the fields allowed at `path` in `model` (for did-you-mean on unknown keys)."""
    current = model
    for part in path:
        if isinstance(part, int):
            continue
        fields = current.model_fields
        if part not in fields:
            return []
        inner = _model_in(fields[part].annotation)
        if inner is None:
            return []
        current = inner
    return list(current.model_fields.keys())


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


#: What each field pattern of the models means, in words.
PATTERN_WORDS = {
    r"^[a-z0-9]+$": "lower-case letters and digits only",
    r"^[a-z0-9][a-z0-9-]*$": "lower-case letters, digits and -, starting with a letter or digit",
    **rules.WORDS,
}


def describe(error: ErrorDetails, model: type[BaseModel]) -> tuple[str, bool]:
    """A human sentence for one pydantic error, and whether it points at the key (not the value)."""
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed)
        if not hint and allowed:
            hint = f" (known keys here: {', '.join(allowed)})"
        return f"unknown key{hint}", True
    if kind == "missing":
        return "is required but missing", True
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        return f"{value!r} is not one of {one_of(choices)}{did_you_mean(str(value), choices)}", False
    if kind == "bool_type" or kind == "bool_parsing":
        return f"{value!r} is not true or false", False
    if kind in ("string_type",):
        return f"expected text, got {_kind(value)}", False
    if kind in ("list_type",):
        return f"expected a list, got {_kind(value)}", False
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys, got {_kind(value)}", False
    if kind in ("int_type", "int_parsing"):
        return f"expected a whole number, got {_kind(value)}", False
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        form = PATTERN_WORDS.get(pattern, f"text matching {pattern}")
        return f"{value!r} is not {form}", False
    if kind == "too_short":
        return "must not be empty", False
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"])), False
    return error["msg"], False


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping"}
    return f"{names.get(type(value), type(value).__name__)} ({value!r})" if not isinstance(value, (list, dict)) else names[type(value)]


def validate_located(model: type[M], located: Located, data: YamlValue = None) -> tuple[M | None, list[Problem]]:
    """Validate `data` (default: the located document) against `model`, as located problems."""
    payload = located.data if data is None else data
    try:
        return model.model_validate(payload), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for error in exc.errors(include_url=False):
            loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
            error["loc"] = loc  # exc.errors() hands out fresh dicts: changing one changes nothing else
            message, of_key = describe(error, model)
            problems.append(located.problem(loc, message, of_key=of_key))
        return None, problems


def complete_examples(schema: dict[str, object], sections: dict[str, object]) -> dict[str, object]:
    """`schema` with examples on every property that has none: the choices of a choice, both of a switch, `sections[key]` of a section.

    The model gives examples of free text itself; these follow from the type, so that a new key gets them too.
    """
    defs = schema.get("$defs")
    holders = [schema, *(defs.values() if isinstance(defs, dict) else [])]
    for holder in holders:
        properties = holder.get("properties") if isinstance(holder, dict) else None
        for key, prop in (properties or {}).items():
            if not isinstance(prop, dict) or "examples" in prop:
                continue
            if "enum" in prop:
                prop["examples"] = list(prop["enum"])
            elif "const" in prop:
                prop["examples"] = [prop["const"]]
            elif prop.get("type") == "boolean":
                prop["examples"] = [prop.get("default", True), not prop.get("default", True)]
            elif holder is schema and key in sections:
                prop["examples"] = [sections[key]]
    return schema
