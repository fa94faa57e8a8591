"""Problems in the machine-readable forms CI reads: JSON objects and GitHub workflow-command annotations.

`validate --format json|github` and `review --format github` print through
here. An annotation is one line, `::error file=F,line=L,col=C,title=T::MESSAGE`:
GitHub's runner reads `%`, CR and LF in the message as escapes (%25, %0D, %0A),
and in a property also `:` and `,`, which would otherwise end it. What is left
of any other control character is written visibly (`printable`), so that a
hostile file name cannot reach the terminal of whoever reads the log, nor
start a workflow command of its own (`##[` anywhere; the JSON form too).
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

from emi_tui.engine.errors import Problem
from emi_tui.engine.text import printable

FORMATS = ("text", "json", "github")


class ProblemJson(TypedDict):
    """One problem of `validate --format json`."""

    file: str
    line: int
    column: int
    key: str
    severity: str
    message: str


def problem_json(problem: Problem) -> ProblemJson:
    return {
        "file": problem.source, "line": problem.line, "column": problem.column,
        "key": problem.key, "severity": problem.severity, "message": problem.message,
    }


def json_for_logs(value: object) -> str:
    """`value` as indented JSON that is only text in a CI log, whatever its strings hold.

    JSON itself escapes control characters. GitHub's runner reads `##[command]`
    anywhere in a line, so the `#` of a `##[` is written \\u0023 (a JSON reader
    gets the same string). No line can open with `::`: each starts with blanks
    and a quote or a bracket.
    """
    return json.dumps(value, indent=2).replace("##[", "#\\u0023[")


def problems_json(problems: list[Problem]) -> str:
    """The problems as one JSON array, safe in a CI log (`json_for_logs`)."""
    return json_for_logs([problem_json(p) for p in problems])


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A workflow command's property value (file=, title=): the message's escapes, and `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: Literal["error", "warning", "notice"], message: str, title: str, *, file: str = "", line: int = 0, column: int = 0
) -> str:
    """One `::error …::message` line; `file`, `line` and `column` are left out when unknown (0 or "")."""
    properties = [f"file={escape_property(file)}"] if file else []
    if file and line:
        properties.append(f"line={line}")
        if column:
            properties.append(f"col={column}")
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(message)}"


def problem_annotation(problem: Problem, title: str) -> str:
    """`problem` as an annotation on its file, line and column; the key path leads the message, as in the text form."""
    message = f"{problem.key}: {problem.message}" if problem.key else problem.message
    level: Literal["error", "warning"] = "error" if problem.severity == "error" else "warning"
    return annotation(level, message, title, file=problem.source, line=problem.line, column=problem.column)
