"""Render the files emi-tui puts into images from the template files in templates/.

The templates ship as package data beside this module (read through
importlib.resources) and are plain files of their kind: shell scripts, a udev
rule, systemd units, an fstab. Their syntax, line by line:

    #@ text                 a note for whoever reads the template; never rendered
    #@include NAME          the lines of templates/NAME (which includes nothing itself)
    #@if FLAG               the lines up to the matching #@else or #@end are kept
    #@else                  when FLAG is true, those up to #@end when it is false;
    #@end                   sections may nest

and, anywhere in a line, @@NAME@@ is replaced by the value NAME. Into a shell
template (a name ending in .sh) every value goes in shell-quoted (shlex.quote;
a list or tuple becomes one quoted word per item), so that the shell reads back
exactly the value, whatever it holds; in any other template a value must be one
line of printable text. Either way a value never brings a line break into a
comment line. Every placeholder and every flag a template names (in all its
sections, kept or not) must be given, and nothing else may be: a misspelt name
fails the render instead of leaving @@NAME@@ in an image.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from functools import cache
from importlib import resources

__all__ = ["TemplateError", "render"]

_PLACEHOLDER = re.compile(r"@@([A-Za-z0-9_]*)@@")
_IF = re.compile(r"#@if ([a-z0-9_]+)")


class TemplateError(ValueError):
    """A template and the values given for it do not fit together (a defect of emi-tui)."""


def render(name: str, flags: Mapping[str, bool] | None = None, **values: object) -> str:
    """The text of templates/`name` with its sections chosen by `flags` and its @@NAME@@ filled in."""
    lines = _expanded(name)
    flags = dict(flags or {})
    _check_names("flag", {m[1] for line in lines if (m := _IF.fullmatch(line))}, set(flags), name)
    _check_names("placeholder", {n for line in lines for n in _PLACEHOLDER.findall(line)}, set(values), name)
    shell = name.endswith(".sh")
    kept = [_fill(line, values, shell, name) for line in _kept(lines, flags, name)]
    return "".join(line + "\n" for line in kept)


def _fill(line: str, values: Mapping[str, object], shell: bool, name: str) -> str:
    comment = line.lstrip().startswith("#")

    def value_of(match: re.Match[str]) -> str:
        value = values[match[1]]
        words = list(value) if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(word, bool) or not isinstance(word, (str, int)) for word in words):
            raise TemplateError(f"{name}: @@{match[1]}@@ must be text or a number, not {value!r}")
        texts = [str(word) for word in words]
        if shell:
            text = " ".join(shlex.quote(word) for word in texts)
        elif all(word.isprintable() for word in texts):
            text = " ".join(texts)
        else:
            raise TemplateError(f"{name}: @@{match[1]}@@ must be one line of printable text, not {value!r}")
        if comment and "\n" in text:
            raise TemplateError(f"{name}: @@{match[1]}@@ sits in a comment, its value may not break the line")
        return text

    # One pass over the template's own text: an inserted value is never read as a placeholder.
    return _PLACEHOLDER.sub(value_of, line)


def _kept(lines: list[str], flags: Mapping[str, bool], name: str) -> list[str]:
    """The lines of the sections `flags` choose, without the directive lines."""
    kept: list[str] = []
    # One entry per open section: (is its current branch kept, has it seen #@else).
    open_sections: list[tuple[bool, bool]] = []
    for line in lines:
        if match := _IF.fullmatch(line):
            open_sections.append((bool(flags[match[1]]), False))
        elif line == "#@else":
            if not open_sections or open_sections[-1][1]:
                raise TemplateError(f"{name}: #@else without its #@if")
            open_sections[-1] = (not open_sections[-1][0], True)
        elif line == "#@end":
            if not open_sections:
                raise TemplateError(f"{name}: #@end without its #@if")
            open_sections.pop()
        elif line.startswith("#@"):
            raise TemplateError(f"{name}: unknown template directive {line!r}")
        elif all(keep for keep, _ in open_sections):
            kept.append(line)
    if open_sections:
        raise TemplateError(f"{name}: an #@if is never closed by #@end")
    return kept


def _check_names(kind: str, named: set[str], given: set[str], name: str) -> None:
    if named != given:
        missing = ", ".join(sorted(named - given)) or "none"
        unknown = ", ".join(sorted(given - named)) or "none"
        raise TemplateError(f"{name}: {kind}s without a value: {missing}; {kind}s it does not have: {unknown}")


def _expanded(name: str, *, included: bool = False) -> list[str]:
    """The template's lines without its notes, with its includes read in."""
    lines: list[str] = []
    for line in _source(name).split("\n")[:-1]:
        if line.startswith("#@include "):
            if included:
                raise TemplateError(f"{name}: an included template includes nothing itself")
            lines += _expanded(line.removeprefix("#@include "), included=True)
        elif line != "#@" and not line.startswith("#@ "):
            lines.append(line)
    return lines


@cache
def _source(name: str) -> str:
    """The text of templates/`name`, read from the installed package."""
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts):
        raise TemplateError(f"{name!r} is not the name of a template")
    path = resources.files("emi_tui.engine.image").joinpath("templates")
    for part in parts:
        path = path.joinpath(part)
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        raise TemplateError(f"{name}: a template ends with a line break")
    return text
