"""Writing answer files back out, with a comment that explains every key.

Operators edit answer files by hand, so a saved file reads like the format's
own documentation: each key carries the description from the model.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml
from pydantic import BaseModel

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers, Output
from emi_tui.engine.text import redact_secrets

HEADER = """\
# emi-tui answer file (format v1).
# Build it with `emi-tui build FILE`, check it with `emi-tui validate FILE`,
# or open it in the wizard with `emi-tui --answers FILE`.
"""


def _scalar(value: object) -> str:
    """`value` as a YAML scalar that reads back as exactly the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    try:
        plain_reads_back = text == text.strip() and "#" not in text and yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain_reads_back = False
    # JSON strings are YAML double-quoted scalars: a date, a number or a newline stays text.
    return text if plain_reads_back and "\n" not in text else json.dumps(text)


def _render_model(model: BaseModel, indent: int) -> list[str]:
    lines: list[str] = []
    pad = "  " * indent
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        comment = f"  # {info.description}" if info.description else ""
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{name}:{comment}")
            lines += _render_model(value, indent + 1)
        elif isinstance(value, list):
            if not value:
                lines.append(f"{pad}{name}: []{comment}")
                continue
            lines.append(f"{pad}{name}:{comment}")
            for item in value:
                if isinstance(item, BaseModel):
                    item_lines = _render_model(item, indent + 2)
                    first = item_lines[0].lstrip()
                    lines.append(f"{pad}  - {first}")
                    lines += item_lines[1:]
                else:
                    lines.append(f"{pad}  - {_scalar(item)}")
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}{comment}")
    return lines


def render_answers(answers: Answers) -> str:
    """The answer file's text: every key, with its comment."""
    return HEADER + "\n".join(_render_model(answers, 0)) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stored_answers(answers: Answers) -> Answers:
    """`answers` as an image (and the answers published beside it) may carry them: no secret, no host path.

    A URL's password becomes ***; a repository's keyring is named by its base
    name only (the image has its own copy); the output folder, a place on the
    build's workstation, goes back to the default.
    """
    repositories = [r.model_copy(update={"line": redact_secrets(r.line), "key": Path(r.key).name if r.key else None}) for r in answers.repositories]
    return answers.model_copy(update={
        "mirror": redact_secrets(answers.mirror) if answers.mirror else answers.mirror,
        "repositories": repositories,
        "output": answers.output.model_copy(update={"dir": Output.model_fields["dir"].default}),
    })


def render_stored_answers(answers: Answers) -> str:
    """The answers' text as the image stores them and the artifact's companion publishes them (`stored_answers`)."""
    return render_answers(stored_answers(answers))


SCHEMA_FILE = "answers.schema.json"


def schema_modeline() -> str:
    """The first line of a saved answer file: it points editors (the YAML language server) at the format's JSON Schema.

    The schema ships with emi-tui (emi_tui/_data in a wheel, the top of a
    checkout), so a file URL names the copy that matches this version; no
    line at all when the file is missing, rather than a pointer to nothing.
    """
    schema = paths.shipped_file(SCHEMA_FILE)
    return f"# yaml-language-server: $schema={schema.resolve().as_uri()}\n" if schema.is_file() else ""


def save_answers(answers: Answers, path: Path) -> None:
    """Save `answers` with comments and the schema modeline, atomically."""
    write_atomic(path, schema_modeline() + render_answers(answers))
