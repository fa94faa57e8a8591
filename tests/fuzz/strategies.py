"""Hypothesis strategies for the fuzz suite (its checks are in harness.py).

Everything here builds inputs from the real formats: key names come from the
pydantic models themselves (so a new field is fuzzed the day it is added),
seeds are the project's own good files, and mutations are the edits a person
or a bad copy makes (delete, duplicate or swap lines, stray characters,
broken indentation, truncation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from emi_tui.engine import paths
from emi_tui.engine.answers.model import Answers
from emi_tui.engine.answers.recipes import Recipe
from emi_tui.engine.image.imageid import FIELDS, ImageId

TESTS = Path(__file__).resolve().parent.parent
DATA = TESTS / "data"
MIRROR = "http://mirror.example/debian"

#: One settings profile for every generated test: reproducible in CI, timed by the tests themselves.
FUZZ = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example],
}


def fuzz_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, **FUZZ)


# --------------------------------------------------------------------------- key names


def model_keys(model: type[BaseModel]) -> list[str]:
    """Every field name of `model` and of the models nested in it."""
    found: list[str] = []
    todo: list[Any] = [model]
    while todo:
        current = todo.pop()
        for name, info in current.model_fields.items():
            if name not in found:
                found.append(name)
            stack = [info.annotation]
            while stack:
                annotation = stack.pop()
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    todo.append(annotation)
                stack.extend(getattr(annotation, "__args__", ()) or ())
    return found


ANSWER_KEYS = model_keys(Answers)
RECIPE_KEYS = model_keys(Recipe)


@st.composite
def typos(draw, words: list[str]) -> str:
    """A real key with one typing mistake in it."""
    word = draw(st.sampled_from(words))
    if not word:
        return "x"
    i = draw(st.integers(0, len(word) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "case", "neighbour", "plural", "dash", "space"]))
    if kind == "drop":
        return word[:i] + word[i + 1:] or word + "_"
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "case":
        return word[:i] + word[i].swapcase() + word[i + 1:]
    if kind == "neighbour":
        return word[:i] + chr(ord(word[i]) + 1) + word[i + 1:]
    if kind == "plural":
        return word + "s"
    if kind == "dash":
        return word.replace("_", "-") if "_" in word else word + "-"
    return word + " "


def keys(words: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(words),
        st.sampled_from(words),
        typos(words),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=8),
    )


# --------------------------------------------------------------------------- values

#: Characters that mean something to a shell, to apt or to YAML, and look-alikes.
NASTY = ";$`|&<>(){}[]'\"\\*?~#!%@,:=\n\r\t\x00\x7f\x85\u2028\u202e\u00a0\uff0e\u0441"

REALISTIC = [
    "debian-based", "ubuntu-based", "centos-based", "tiny-debian", "bookworm", "trixie", "bullseye", "noble", "jammy",
    "9-stream", "10-stream", "x86_64", "aarch64", "i386", "amd64", "1.3G", "4.5G", "2G", "1500M", "600M", "0G", "-1G",
    "1.3", "2 GiB", MIRROR, "https://mirror.example/debian/", "file:///srv/mirror", "ftp://mirror.example/x",
    "http://169.254.169.254", "http://169.254.169.254:8080/latest", "root", "ec2-user", "none", "gzip", "zstd", "xz",
    "htop", "tmux", "vim-tiny", "man-db", "NetworkManager-tui", "gcc-c++", "Htop", "curl; rm -rf /",
    "deb http://extra.example/debian bookworm main", "baseurl http://extra.example/el9/", "/etc/passwd", "./images",
    "euca-debian-emi", "2026.11.28", "euca-debian-2026.11.28-x86_64.img", "../x.img", "a.img", "true", "null", "~", "1",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(REALISTIC),
    st.sampled_from(REALISTIC),
    st.text(st.sampled_from(NASTY + "abcxyz019.-_/ "), max_size=12),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
)


def yaml_values(words: list[str], max_leaves: int = 12) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys(words), children, max_size=5)),
        max_leaves=max_leaves,
    )


def documents(words: list[str]) -> st.SearchStrategy[Any]:
    """A random document: usually a mapping of (mostly real) keys, sometimes anything at all."""
    values = yaml_values(words)
    mapping = st.dictionaries(keys(words), values, max_size=8)
    return st.one_of(mapping, mapping, mapping, values)


@st.composite
def dumped(draw, doc_strategy: st.SearchStrategy[Any]) -> bytes:
    """A document written out as YAML text, in one of the styles a person or a tool would use."""
    doc = draw(doc_strategy)
    text = yaml.safe_dump(
        doc,
        default_flow_style=draw(st.sampled_from([False, True, None])),
        allow_unicode=draw(st.booleans()),
        sort_keys=draw(st.booleans()),
        width=draw(st.sampled_from([80, 20, 4096])),
        indent=draw(st.sampled_from([2, 4])),
        explicit_start=draw(st.booleans()),
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig"]))
    return text.encode(encoding, "surrogatepass")


# --------------------------------------------------------------------------- near-valid answer files

_pkg_names = st.one_of(
    st.sampled_from(["htop", "tmux", "man-db", "vim-tiny", "less", "psmisc", "NetworkManager-tui", "gcc-c++", "python3.11", "a"]),
    st.from_regex(r"\A[a-z0-9][a-z0-9+.-]{1,12}\Z"),
    st.text(st.sampled_from(NASTY + "abc-."), max_size=8),
    scalars,
)
_urls = st.one_of(
    st.sampled_from([MIRROR, "https://mirror.example/debian/", "file:///srv/mirror/debian", "http://mirror.example/centos"]),
    st.builds(lambda tail: MIRROR + tail, st.text(st.sampled_from(NASTY + "ab/"), max_size=4)),
    scalars,
)


_RECIPE_RELEASES = {"debian-based": ["bookworm", "trixie", "bullseye"], "ubuntu-based": ["noble", "jammy"], "centos-based": ["9-stream", "10-stream"]}
_GOOD_FIELDS = {
    "arch": st.sampled_from(["x86_64", "aarch64"]),
    "size": st.sampled_from(["1.3G", "4.5G", "2G", "1500M", "2GiB", " 3g "]),
    "packages": st.fixed_dictionaries({}, optional={"add": st.lists(st.sampled_from(["htop", "tmux", "man-db", "python3.11", "gcc-c++"]), max_size=3, unique=True),
                                                    "remove": st.lists(st.sampled_from(["psmisc", "less", "rsync"]), max_size=2, unique=True)}),
    "repositories": st.lists(st.fixed_dictionaries({"line": st.sampled_from(["deb http://extra.example/debian bookworm main", "deb-src http://extra.example/d trixie main contrib"])},
                                                   optional={"key": st.just("/etc/passwd")}), max_size=2),
    "metadata": st.fixed_dictionaries({}, optional={"url": st.sampled_from(["http://169.254.169.254", "http://10.0.0.1:8773/latest"]),
                                                    "ssh_key": st.sampled_from(["root", "ec2-user", "none"]), "swap": st.booleans(), "hostname": st.booleans()}),
    "image": st.fixed_dictionaries({}, optional={"name": st.sampled_from(["my-emi", "euca-debian-emi"]), "version": st.sampled_from(["7.1", "2026.11.28"]),
                                                 "file": st.sampled_from(["my.img", "euca-x-1-x86_64.img"])}),
    "kernel": st.booleans(),
    "output": st.fixed_dictionaries({}, optional={"dir": st.sampled_from(["./images", "/srv/images", "out dir", "ünï"]), "compress": st.sampled_from(["gzip", "zstd", "xz", "none"])}),
}
#: Values that break a field: wrong types, near misses, hostile text, whole random structures.
_GARBAGE = st.one_of(
    scalars,
    yaml_values(ANSWER_KEYS, 6),
    _pkg_names.map(lambda name: {"add": [name]}),
    _urls,
    st.sampled_from(["bokworm", "i386", "100M", "0G", "Htop", "a b", "x/y", "1..2", "../x.img", "-x.img", "bzip2", "Root", "keys/a.gpg"]),
)


@st.composite
def near_valid_answers(draw) -> dict:
    """A valid answer file with at most a few fields broken (and sometimes none)."""
    recipe = draw(st.sampled_from(sorted(_RECIPE_RELEASES)))
    doc: dict = {"version": 1, "recipe": recipe}
    if recipe != "debian-based" or draw(st.booleans()):
        doc["mirror"] = draw(st.sampled_from([MIRROR, "https://mirror.example/x/", "file:///srv/mirror"]))
    if draw(st.booleans()):
        doc["release"] = draw(st.sampled_from(_RECIPE_RELEASES[recipe]))
    for key in sorted(_GOOD_FIELDS):
        if draw(st.booleans()):
            doc[key] = draw(_GOOD_FIELDS[key])
    if recipe == "centos-based" and "packages" in doc:
        doc["packages"]["add"] = doc["packages"].get("add", []) + ["NetworkManager-tui"]
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(sorted(doc) + ANSWER_KEYS), typos(ANSWER_KEYS)))
        doc[key] = draw(_GARBAGE)
    return doc


# --------------------------------------------------------------------------- near-valid recipes


def shipped_recipe_texts() -> list[str]:
    folders = [paths.shipped_dir("recipes"), DATA / "recipes" / "good"]
    return [p.read_text(encoding="utf-8") for folder in folders for p in sorted(folder.glob("*.yaml"))]


_deb_base = yaml.safe_load((paths.shipped_dir("recipes") / "debian-based.yaml").read_text(encoding="utf-8"))


_RECIPE_GARBAGE = st.one_of(
    scalars,
    yaml_values(RECIPE_KEYS, 6),
    st.sampled_from([[], {}, ["bookworm"], {"x86_64": 1}, [["apt-get", "clean"], "rm"], ["Bad_Name"], "rpm", "apt", "10Q", "Debian"]),
)


@st.composite
def near_valid_recipes(draw) -> dict:
    """The debian-based recipe with at most a few fields dropped or broken (and sometimes none)."""
    doc = dict(_deb_base)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["break", "break", "drop", "add"]))
        key = draw(st.sampled_from(sorted(_deb_base)))
        if action == "drop":
            doc.pop(key, None)
        elif action == "add":
            doc[draw(keys(RECIPE_KEYS))] = draw(_RECIPE_GARBAGE)
        else:
            doc[key] = draw(_RECIPE_GARBAGE)
    return doc


# --------------------------------------------------------------------------- image-ids and catalogs

_FIELD_VALUES = [
    "euca-debian-emi", "euca-large-centos-emi", "my-emi", "2011.08.15", "2026.11.28", "7.1", "x86_64", "i386", "armv9",
    "euca-debian-2011.08.15-x86_64.img", "euca-debian-2011.08.15-i386.img", "x.tgz", "082d-d3a4", "0724-69cf", "ZZZZ-0000",
    "20110815122021", "20261128115215", "20111332250000", "2011081512202", "debian-based", "centos-based", "Debian_based", "",
]


_field_keys = st.one_of(st.sampled_from(FIELDS), typos(list(FIELDS)), st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z"))
_field_values = st.one_of(st.sampled_from(_FIELD_VALUES), st.text(st.sampled_from(NASTY + "ab01.-"), max_size=10))


@st.composite
def _field_line(draw) -> str:
    key, value = draw(_field_keys), draw(_field_values)
    quote = draw(st.sampled_from(['"', '"', "'", "", '"-open', "'-open"]))
    value = quote[0] + value if quote.endswith("-open") else f"{quote}{value}{quote}"
    return f"{key}{draw(st.sampled_from(['', ' ', '  ']))}={value}"


image_id_lines = st.one_of(
    _field_line(),
    _field_line(),
    _field_line(),
    st.tuples(st.sampled_from(["date", "stamp"]), st.sampled_from(_FIELD_VALUES[14:19])).map(" ".join),
    st.sampled_from(["euca-centos-2011.07.02-i386.tgz", "euca-large-debian-2011.07.02-i386.tar.bz2", "a.TAR.XZ", "x-y-z.img"]),
    st.text(max_size=20).map(lambda t: "# " + t),
    st.sampled_from(["", "   ", "\t", "debian x86_64 6:", "centos:", "a:", "x = y:", ":", "#c:"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
)
_headings = st.one_of(st.sampled_from(["debian x86_64 6:", "centos i386 5: ", "a:", "x:", "euca-debian-emi:"]), st.text(min_size=1, max_size=10).map(lambda t: t + ":"))


@st.composite
def image_id_texts(draw) -> bytes:
    """A loose image-id or a catalog (headings, each followed by indented lines), with every kind of mistake."""
    if draw(st.booleans()):
        lines = draw(st.lists(image_id_lines, max_size=12))
    else:
        lines = draw(st.lists(image_id_lines, max_size=3))  # the preamble
        indent = draw(st.sampled_from(["\t", "  ", "        "]))
        for _ in range(draw(st.integers(1, 4))):
            lines.append(draw(_headings))
            lines += [indent + line for line in draw(st.lists(image_id_lines, min_size=1, max_size=8))]
    text = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])).join(lines) + draw(st.sampled_from(["", "\n"]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


def review_seeds() -> list[bytes]:
    seeds = [p.read_bytes() for p in sorted((DATA / "review").iterdir()) if p.is_file()]
    seeds += [p.read_bytes() for p in sorted((DATA / "imageid").iterdir()) if p.is_file()]
    seeds.append(
        ImageId.stamped(name="euca-debian-emi", version="2026.11.28", arch="x86_64", file="euca-debian-2026.11.28-x86_64.img",
                        recipe="debian-based", epoch_seconds=1_796_000_000).render().encode()
    )
    return seeds


# --------------------------------------------------------------------------- mutations

_INSERTS = [b":", b": ", b"- ", b"-", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!str ", b"!!binary ", b"!x ", b"|", b">", b"'", b'"',
            b"#", b"%YAML 1.1\n", b"---\n", b"...\n", b"\t", b"\n", b"\r", b"\x00", b"\xff", b"\xc3", b"\xe2\x80\xa8", b"?", b",",
            b"@", b"`", b"=", b"\\", b"\\x", b'\\"']


@st.composite
def mutated(draw, seeds: list[bytes], max_ops: int = 4) -> bytes:
    """One of `seeds` after 1 to `max_ops` random edits."""
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, max_ops))):
        lines = data.split(b"\n")
        op = draw(st.sampled_from(["delete_line", "duplicate_line", "swap_lines", "insert", "insert", "indent", "truncate",
                                   "delete_bytes", "replace_byte", "tab_indent"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete_line" and lines:
            del lines[i]
        elif op == "duplicate_line" and lines:
            lines.insert(i, lines[i])
        elif op == "swap_lines" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op in ("indent", "tab_indent") and lines:
            line = lines[i]
            stripped = line.lstrip(b" \t")
            if op == "tab_indent":
                lines[i] = b"\t" + stripped
            else:
                depth = len(line) - len(stripped)
                lines[i] = b" " * max(0, depth + draw(st.sampled_from([-4, -2, -1, 1, 2, 3]))) + stripped
        else:
            pos = draw(st.integers(0, len(data)))
            if op == "insert":
                piece = draw(st.one_of(st.sampled_from(_INSERTS), st.binary(min_size=1, max_size=6)))
                data = data[:pos] + piece + data[pos:]
            elif op == "truncate":
                data = data[:pos]
            elif op == "delete_bytes":
                data = data[:pos] + data[pos + draw(st.integers(1, 10)):]
            elif op == "replace_byte" and pos < len(data):
                data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
            continue
        data = b"\n".join(lines)
    return data


#: Bytes that are not made from YAML at all: raw binary, random text, and a soup of YAML tokens.
random_bytes = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(_INSERTS + [b"version", b"recipe", b"1", b"debian-based", b" ", b"\n  ", b"packages", b"add"]), max_size=60).map(b"".join),
)
