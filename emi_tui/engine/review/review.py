"""Reviewing image-ids: loose /etc/image-id files, catalogs that list many, and built images.

A reviewer points `emi-tui review` at files and folders and gets, per image,
its fields, whether its stamp really belongs to its date, and what is wrong
with it (each finding says how to fix it). Catalogs are the operators' EMI-IDs
lists: a heading line ending in `:` per image, then indented `key="value"`
lines, or in older entries `date …`, `stamp …` and bare tarball names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NotRequired, TypedDict

from emi_tui.engine.artifact.kinds import is_artifact, is_tarball
from emi_tui.engine.artifact.read import HygieneCheck, HygieneCheckJson, ImageFacts, ImageReadError, inspect_image
from emi_tui.engine.artifact.tarball_read import read_from_artifact
from emi_tui.engine.errors import Severity, did_you_mean
from emi_tui.engine.image import layout
from emi_tui.engine.image.imageid import DATE_RE, FIELDS, STAMP_RE
from emi_tui.engine.review import stampcheck
from emi_tui.engine.review.folder import MAX_TEXT_BYTES, TooBig, read_named, scan_folder
from emi_tui.engine.review.naming import TARBALL_EXTENSIONS, check_names, check_versions
from emi_tui.engine.review.stampcheck import (
    SKEW_WINDOW_S,
    UTC_OFFSETS_MIN,
    StampCheck,
    StampCheckJson,
    check_stamp,
    parse_date,
    search_budget,
)

# Past this many unreadable lines the file is surely not an image-id; one summary says so.
_MAX_LINE_FINDINGS = 10


_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
_OLD_LINE = re.compile(r"^(date|stamp)\s+(\S+)$")
_TARBALL = re.compile(rf"^\S+\.(?:{TARBALL_EXTENSIONS})$", re.IGNORECASE)


class FindingJson(TypedDict):
    """`Finding.to_json`."""

    field: str
    severity: Severity
    message: str
    line: NotRequired[int]


class ReviewEntryJson(TypedDict):
    """`ReviewEntry.to_json`: one entry of `review --json`; an image's entry also has hygiene and answers."""

    source: str
    entry: str | None
    fields: dict[str, str]
    stamp_check: StampCheckJson
    problems: list[FindingJson]
    hygiene: NotRequired[list[HygieneCheckJson]]
    answers: NotRequired[str | None]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with an entry; `field` is the image-id key it concerns, "" for the file as a whole.

    `line` is where in the reviewed text file it is (the line that sets the field, else the entry's
    heading), so that a CI annotation lands on it; 0 when there is no such line (an image's entries).
    """

    field: str
    severity: Severity
    message: str
    line: int = 0

    def to_json(self) -> FindingJson:
        data: FindingJson = {"field": self.field, "severity": self.severity, "message": self.message}
        if self.line:
            data["line"] = self.line
        return data


@dataclass
class ReviewEntry:
    """The review of one image-id: a loose file, one catalog entry, or one image.

    `fields` holds what the entry says, as written; an old catalog entry's bare
    tarball names are kept under "tarball", separated by spaces.
    """

    source: str
    entry: str | None
    fields: dict[str, str]
    stamp_check: StampCheck
    problems: list[Finding] = field(default_factory=list)
    hygiene: list[HygieneCheck] | None = None
    answers: str | None = None
    #: A well-formed stamp and date that do not belong together (or were not searched in full): a warning, yet the review fails.
    stamp_unverified: bool = False

    @property
    def ok(self) -> bool:
        """No errors and, for an image, every hygiene check passed."""
        return not any(p.severity == "error" for p in self.problems) and all(h.ok for h in self.hygiene or [])

    @property
    def passes(self) -> bool:
        """What a review's exit status counts: ok, and a stamp that verifies (when the entry has one to check)."""
        return self.ok and not self.stamp_unverified

    def to_json(self) -> ReviewEntryJson:
        data: ReviewEntryJson = {
            "source": self.source,
            "entry": self.entry,
            "fields": dict(self.fields),
            "stamp_check": self.stamp_check.to_json(),
            "problems": [p.to_json() for p in self.problems],
        }
        if self.hygiene is not None:
            data["hygiene"] = [h.to_json() for h in self.hygiene]
            data["answers"] = self.answers
        return data



@dataclass
class _Draft:
    """One entry's lines as they are read, before the field checks."""

    fields: dict[str, str] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    tarballs: list[str] = field(default_factory=list)
    old_style: bool = False
    unreadable: bool = False
    bad_lines: int = 0
    #: The entry's first line (its catalog heading; 1 for a loose file): where findings about the entry as a whole go.
    heading_line: int = 0
    #: The line being read, while lines are read: findings about a line go on it.
    reading: int = 0
    #: The line that set each field (the last one, as the last value wins): findings about a field go on it.
    field_lines: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, severity: Severity, message: str, about: str = "") -> None:
        """One finding on `name`; `about` names another line to place it on (a tarball's: `tarball NAME`)."""
        line = self.reading or self.field_lines.get(about or name) or self.heading_line
        self.problems.append(Finding(name, severity, message, line))

    def set(self, lineno: int, key: str, value: str) -> None:
        if key in self.fields:
            self.add(key, "warning", f"line {lineno}: {key} is set a second time; the later value {value!r} wins: delete one of the lines")
        self.fields[key] = value
        self.field_lines[key] = lineno


def _unquote(draft: _Draft, lineno: int, key: str, raw: str) -> str:
    if raw[:1] in ('"', "'"):
        quote = raw[0]
        if len(raw) > 1 and raw.endswith(quote):
            return raw[1:-1]
        value = raw[1:]
        draft.add(key, "error", f"line {lineno}: the value of {key} opens a {quote} it never closes (read as {value!r}): add the closing {quote}")
        return value
    if raw:
        draft.add(key, "warning", f'line {lineno}: the value of {key} is not quoted: write {key}="{raw}"')
    return raw


def _read_line(draft: _Draft, lineno: int, line: str) -> None:
    text = line.strip()
    if not text or text.startswith("#"):
        return
    if m := _KEY_LINE.match(text):
        key = m.group(1)
        if key not in FIELDS:
            draft.add(key, "warning", f"line {lineno}: {key} is not an image-id field{did_you_mean(key, FIELDS)}: the fields are {', '.join(FIELDS)}")
        draft.set(lineno, key, _unquote(draft, lineno, key, m.group(2).strip()))
    elif m := _OLD_LINE.match(text):
        draft.old_style = True
        draft.set(lineno, f"image_{m.group(1)}", m.group(2))
    elif _TARBALL.match(text):
        draft.old_style = True
        draft.tarballs.append(text)
        draft.field_lines.setdefault(f"tarball {text}", lineno)
    else:
        draft.bad_lines += 1
        if draft.bad_lines <= _MAX_LINE_FINDINGS:
            shown = text if len(text) <= 60 else text[:57] + "..."
            draft.add("", "error", f'line {lineno}: {shown!r} is not a key="value" line: write it like image_name="euca-debian-emi", or delete it')


def _heading(line: str) -> str | None:
    """The entry name when `line` is a catalog heading (not indented, ends in ':'), else None."""
    if line[:1] in ("", " ", "\t", "#") or "=" in line:
        return None
    text = line.rstrip()
    return text[:-1].strip() if len(text) > 1 and text.endswith(":") else None


def _is_catalog(lines: list[str]) -> bool:
    # A heading counts only when indented lines follow it, so a stray "foo:" in an image-id does not.
    # One pass from the end: the next non-blank line after each position (copying the rest per heading was quadratic).
    following = ""
    for line in reversed(lines):
        if _heading(line) is not None and following[:1] in (" ", "\t"):
            return True
        if line.strip():
            following = line
    return False


def _drafts(data: bytes, catalog_allowed: bool = True) -> list[tuple[str | None, _Draft]]:
    """Split a file's bytes into (heading, draft) pairs: one pair with no heading for a loose file."""
    if b"\0" in data:
        draft = _Draft(unreadable=True)
        draft.add("", "error", "binary content: this is not an image-id file or catalog; point the review at the .img or its tarball instead")
        return [(None, draft)]
    text = data.decode("utf-8-sig", "replace")
    lines = text.splitlines()
    catalog = catalog_allowed and _is_catalog(lines)
    pairs: list[tuple[str | None, _Draft]] = [] if catalog else [(None, _Draft(heading_line=1))]
    for lineno, line in enumerate(lines, 1):
        heading = _heading(line) if catalog else None
        if heading is not None:
            pairs.append((heading, _Draft(heading_line=lineno)))
        elif pairs:  # lines before a catalog's first heading are its preamble
            draft = pairs[-1][1]
            draft.reading = lineno
            _read_line(draft, lineno, line)
            draft.reading = 0
    for _, draft in pairs:
        if draft.bad_lines > _MAX_LINE_FINDINGS:
            draft.add("", "error", f"{draft.bad_lines - _MAX_LINE_FINDINGS} more lines are not key=\"value\" lines: is this an image-id file?")
        if "\ufffd" in text:
            draft.add("", "warning", "the file is not valid UTF-8 (undecodable bytes shown as \ufffd): save it as UTF-8")
    return pairs



def _finish(source: str, heading: str | None, draft: _Draft) -> ReviewEntry:
    """Run every field check on a draft and make it an entry."""
    f, add = draft.fields, draft.add
    stamp, date = f.get("image_stamp"), f.get("image_date")
    missing = [name for name in FIELDS if name not in f]
    if draft.old_style and missing:
        # Old catalog entries only ever had date, stamp and tarballs: one note, not a mistake per field.
        add("", "warning", f'an old-style entry without {", ".join(missing)}: rewrite it as the seven key="value" lines of the image\'s /etc/image-id')
    elif not draft.unreadable:
        for name in missing:
            add(name, "error", f'{name} is missing: add a line {name}="…" (copy it from the image\'s /etc/image-id)')
    for name in FIELDS:
        if f.get(name) == "":
            add(name, "error", f"{name} is empty: give it a value")
    if stamp and date and DATE_RE.match(stamp) and STAMP_RE.match(date):
        add("image_stamp", "error", f"image_stamp {stamp!r} looks like a date and image_date {date!r} like a stamp: swap the two values")
        stamp, date = date, stamp  # so that the stamp check still tells whether they belong together
    else:
        if stamp and not STAMP_RE.match(stamp):
            add("image_stamp", "error", f"image_stamp {stamp!r} is not 4 lowercase hex digits, a dash and 4 more (like 082d-d3a4): copy it again from the image")
        if date and not DATE_RE.match(date):
            add("image_date", "error", f"image_date {date!r} is not 14 digits YYYYmmddHHMMSS (like 20110815122021): copy it again from the image")
        elif date and parse_date(date) is None:
            add("image_date", "error", f"image_date {date!r} is not a real date and time: check the month, day and hour")
    check_names(f, add)
    check_versions(f, draft.tarballs, date, add)
    stamp_check = check_stamp(stamp, date) if stamp and date else StampCheck(False, reason="the entry needs both image_stamp and image_date")
    searched = bool(stamp and date and STAMP_RE.match(stamp.strip().lower()) and parse_date(date.strip()))
    if searched and not stamp_check.verified:
        add("image_stamp", "warning", _unverified(stamp or "", date or "", stamp_check.complete))
    fields = dict(f)
    if draft.tarballs:
        fields["tarball"] = " ".join(draft.tarballs)
    return ReviewEntry(source, heading, fields, stamp_check, draft.problems, stamp_unverified=searched and not stamp_check.verified)


def _unverified(stamp: str, date: str, complete: bool) -> str:
    """What was searched for a stamp that verifies nowhere, and what to do."""
    window = f"no second within ±{SKEW_WINDOW_S} s of image_date {date}"
    if not complete:
        return (f"image_stamp {stamp!r} is not verified: {window} at UTC gives it, and the other UTC offsets were not searched "
                "(this review spent its stamp-search time on earlier entries): review --full-stamp-search searches them all")
    first, last = UTC_OFFSETS_MIN[0], UTC_OFFSETS_MIN[-1]
    offsets = f"{'−' if first < 0 else '+'}{abs(first) // 60:02d}:00 to +{last // 60:02d}:00, each quarter hour"
    return f"image_stamp {stamp!r} is not verified: {window}, read in any UTC offset ({offsets}), gives it: copy both again from the same image"


def _failed(source: str, message: str, entry: str | None = None, severity: Severity = "error") -> ReviewEntry:
    return ReviewEntry(source, entry, {}, StampCheck(False, reason="nothing to check"), [Finding("", severity, message)])


def review_bytes(source: str, data: bytes) -> list[ReviewEntry]:
    """Review the contents of a loose image-id file or a catalog (told apart by their contents)."""
    with search_budget():
        return [_finish(source, heading, draft) for heading, draft in _drafts(data)]



def _image_entry(source: str, facts: ImageFacts, in_artifact: bool) -> ReviewEntry:
    label = facts.label if in_artifact else None
    answers = facts.answers.decode("utf-8", "replace") if facts.answers is not None else None
    unread_id = [why for why in facts.unread if why.startswith(f"/{layout.IMAGE_ID} ")]
    if facts.image_id is None:
        entry = _failed(source, unread_id[0] if unread_id else f"the image has no /{layout.IMAGE_ID}: it is not an EMI, or it was built without one", label)
    else:
        _, draft = _drafts(facts.image_id, catalog_allowed=False)[0]
        entry = _finish(source, label, draft)
        # The lines are the image's /etc/image-id's, not the reviewed file's: an annotation on them would land on nothing.
        entry.problems = [replace(p, line=0) for p in entry.problems]
        actual = Path(facts.label).name
        if entry.fields.get("image_file") not in (None, "", actual):
            entry.problems.append(Finding("image_file", "warning", f"image_file is {entry.fields['image_file']!r} but the image is named {actual!r}: rename the file or fix image_file"))
    entry.problems += [Finding("", "error", why) for why in facts.unread if why not in unread_id]
    entry.hygiene, entry.answers = facts.hygiene, answers
    return entry


def _review_image(path: Path) -> list[ReviewEntry]:
    try:
        if is_tarball(path):
            return [_image_entry(str(path), facts, True) for facts in read_from_artifact(path)]
        return [_image_entry(str(path), inspect_image(path), False)]
    except ImageReadError as exc:
        return [_failed(str(path), str(exc))]


def _review_file(path: Path) -> list[ReviewEntry]:
    try:
        data = read_named(path)
    except TooBig:
        return [_too_big(path)]
    return review_bytes(str(path), data)


def _too_big(path: Path) -> ReviewEntry:
    return _failed(str(path), f"over {MAX_TEXT_BYTES >> 20} MiB: too big for an image-id file or catalog; point the review at the image instead")


def _review_folder(folder: Path) -> list[ReviewEntry]:
    scan = scan_folder(folder)
    entries = [e for path, data in scan.found for e in (_review_path(path) if data is None else review_bytes(str(path), data))]
    entries += [_too_big(path) for path in scan.too_big]
    entries += [_failed(str(path), f"skipped: {why}", severity="warning") for path, why in scan.not_image_ids]
    entries += [_failed(str(path), "a link: not followed (a folder review reads only what is in the folder; name it on the command line to review where it points)",
                        severity="warning") for path in scan.links]
    entries += [_failed(str(err.filename or folder), f"cannot read this folder ({err.strerror}): check its permissions") for err in scan.unreadable]
    if not entries:
        entries.append(_failed(str(folder), "no image-id files, catalogs or images (*.img, *.tgz, *.tar.*) found in this folder", severity="warning"))
    return entries


def _review_path(path: Path) -> list[ReviewEntry]:
    try:
        if path.is_dir():
            return _review_folder(path)
        if not path.exists():
            return [_failed(str(path), "no such file or folder: check the path")]
        if not path.is_file():  # a FIFO or a device would block the read or never end
            return [_failed(str(path), "not a regular file: point the review at image-id files, catalogs or images")]
        if is_artifact(path):
            return _review_image(path)
        return _review_file(path)
    except OSError as exc:
        return [_failed(str(path), f"cannot read it ({exc.strerror or exc}): check the path and its permissions")]


def review_paths(paths: list[Path], *, full_stamp_search: bool = False) -> list[ReviewEntry]:
    """Review files, folders (searched recursively), catalogs and images; never raises for bad input.

    A path that does not exist or cannot be read becomes an entry with an error.
    Stamp searches share one budget (see stampcheck) unless `full_stamp_search`.
    """
    with search_budget(None if full_stamp_search else stampcheck.REVIEW_SEARCH_BUDGET):
        return [entry for path in paths for entry in _review_path(Path(path))]
