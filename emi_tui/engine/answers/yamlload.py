"""YAML loading that remembers where every value came from, and refuses what YAML hides.

Plain `yaml.safe_load` keeps the last of two duplicate keys without a word,
expands alias bombs until memory runs out, and forgets line numbers. Answer
files and recipes are loaded through `load_located` instead: it composes the
node tree, builds plain Python values itself, and records the position of
every key and value by its key path, so that each problem can say FILE:LINE:COL.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeAlias

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emi_tui.engine.errors import Problem, Severity

#: Where a value sits in a document: mapping keys and list indexes, outermost first.
KeyPath: TypeAlias = tuple[str | int, ...]
#: What a scalar node becomes (the safe YAML tags: null, bool, int, float, binary, timestamp, str).
YamlScalar: TypeAlias = str | int | float | bool | bytes | date | None
#: A loaded document: scalars, lists and mappings with plain-word keys.
YamlValue: TypeAlias = YamlScalar | list["YamlValue"] | dict[str, "YamlValue"]
YamlMapping: TypeAlias = dict[str, YamlValue]

#: An answer file is a page of settings: anything larger is a mistake or an attack.
MAX_BYTES = 1024 * 1024
#: Values built from the node tree, aliases counted each time they are used.
MAX_NODES = 20_000


@dataclass
class Located:
    """A loaded YAML document with the position of every key path in it."""

    source: str
    data: YamlValue = None
    value_at: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    key_at: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def position(self, path: KeyPath, *, of_key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of `path`, or of its nearest parent that exists."""
        table = self.key_at if of_key else self.value_at
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.value_at:
                return self.value_at[probe]
            probe = probe[:-1]
        return self.value_at.get((), (1, 1))

    def problem(self, path: KeyPath, message: str, *, of_key: bool = False, severity: Severity = "error") -> Problem:
        """A Problem located at `path`, with the path written as dotted keys."""
        line, column = self.position(path, of_key=of_key)
        return Problem(self.source, line, column, dotted(path), message, severity)


def dotted(path: KeyPath) -> str:
    """('packages', 'add', 2) -> 'packages.add[2]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _TooLarge(Exception):
    pass


class _Builder:
    """Turns a composed node tree into Python values, recording positions."""

    def __init__(self, located: Located) -> None:
        self.located = located
        self.constructor = SafeConstructor()
        self.budget = MAX_NODES

    def build(self, node: Node, path: KeyPath) -> YamlValue:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        self.located.value_at.setdefault(path, _mark(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            # Only scalar nodes get here, and the safe constructor makes only YamlScalar values of them.
            value: YamlScalar = self.constructor.construct_object(node, deep=True)
            return value
        except ConstructorError as exc:
            what = (exc.problem or "unknown tag").splitlines()[0]
            self.located.problems.append(self.located.problem(path, f"cannot read this value: {what}; write a plain value"))
            return None
        except (ValueError, TypeError, OverflowError) as exc:
            self.located.problems.append(self.located.problem(path, f"cannot read this value: {str(exc).splitlines()[0]}"))
            return None

    def _mapping(self, node: MappingNode, path: KeyPath) -> YamlMapping:
        result: YamlMapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                line, column = _mark(key_node)
                self.located.problems.append(
                    Problem(self.located.source, line, column, _d(path), "a key must be a plain word, not a list or mapping")
                )
                continue
            key = key_node.value
            if key in result:
                first_line = self.located.key_at[path + (key,)][0]
                line, column = _mark(key_node)
                self.located.problems.append(
                    Problem(
                        self.located.source, line, column, _d(path + (key,)),
                        f"duplicate key (first at line {first_line}); YAML would silently keep only the last, so remove one",
                    )
                )
                continue
            self.located.key_at[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,))
        return result


def _d(path: KeyPath) -> str:
    return dotted(path)


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


#: libyaml composes a megabyte in a fraction of a second; the pure-Python parser takes many.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ANSWERS_EMPTY = "the file is empty: it needs at least `version: 1` and `recipe:`"


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def load_located(raw: bytes | str, source: str, empty: str = ANSWERS_EMPTY) -> Located:
    """Load one YAML document from `raw`; problems are collected, never raised.

    `empty` is the message for a file with nothing in it (it says what the file needs).
    """
    located = Located(source)
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            located.problems.append(
                Problem(source, 1, 1, "", f"the file is {len(raw):,} bytes; emi-tui reads files of at most {MAX_BYTES:,} bytes")
            )
            return located
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            located.problems.append(
                Problem(source, line, column, "", f"byte 0x{raw[exc.start]:02x} is not UTF-8: save the file as UTF-8 text")
            )
            return located
    else:
        text = raw
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        located.problems.append(Problem(source, 1, 1, "", empty))
        return located
    for offset, char in enumerate(text):
        # YAML allows no control characters but tab and line ends: say where the first one is.
        if (ord(char) < 32 and char not in "\t\n\r") or ord(char) in (0x7F, 0xFFFE, 0xFFFF):
            line, column = _line_column(text, offset)
            located.problems.append(Problem(source, line, column, "", f"the control character {ord(char):#06x} is not allowed in YAML: remove it"))
            return located
    try:
        # Count the events first, stopping early: composing a huge document costs seconds.
        for count, _event in enumerate(yaml.parse(text, Loader=_LOADER)):
            if count > MAX_NODES:
                located.problems.append(
                    Problem(source, 1, 1, "", f"the document holds more than {MAX_NODES:,} values; a settings file holds a few dozen")
                )
                return located
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except RecursionError:
        located.problems.append(Problem(source, 1, 1, "", "the document is nested too deeply to be a settings file"))
        return located
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or str(exc)).splitlines()[0]
        located.problems.append(Problem(source, line, column, "", f"this is not valid YAML: {what}"))
        return located
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        located.problems.append(Problem(source, 1, 1, "", f"this is not valid YAML: {first}"))
        return located
    if len(documents) > 1:
        line, column = _mark(documents[1])
        located.problems.append(Problem(source, line, column, "", "the file holds more than one YAML document (---): keep one"))
        return located
    if not documents:
        located.problems.append(Problem(source, 1, 1, "", empty))
        return located
    try:
        located.data = _Builder(located).build(documents[0], ())
    except _TooLarge:
        located.problems.append(
            Problem(source, 1, 1, "", f"the document expands to more than {MAX_NODES:,} values (an alias bomb?): write it out plainly")
        )
        located.data = None
    except RecursionError:
        located.problems.append(Problem(source, 1, 1, "", "the document is nested too deeply to be a settings file"))
        located.data = None
    return located


def load_located_file(path: Path, empty: str = ANSWERS_EMPTY) -> Located:
    """`load_located` on a file; an unreadable file becomes a problem too."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would hang the read or never end
            located = Located(str(path))
            located.problems.append(Problem(str(path), 1, 1, "", "not a regular file: give the path of a YAML file"))
            return located
        if info.st_size > MAX_BYTES:
            located = Located(str(path))
            located.problems.append(Problem(str(path), 1, 1, "", f"the file is {info.st_size:,} bytes; emi-tui reads files of at most {MAX_BYTES:,} bytes"))
            return located
        raw = path.read_bytes()
    except OSError as exc:
        located = Located(str(path))
        located.problems.append(Problem(str(path), 1, 1, "", f"cannot read the file: {exc.strerror or exc}"))
        return located
    return load_located(raw, str(path), empty)
