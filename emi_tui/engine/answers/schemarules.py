"""The answer file's single-value rules written as regular expressions, for the JSON Schema editors read.

Each pattern mirrors one Python check of `validate` (named beside it) and says
no more and no less than that check does without a recipe or the filesystem:
tests/test_schema_agrees.py runs a corpus of values through both. The patterns
are read by three regex engines: Python's `re` (pydantic's "python-re" engine
and the `jsonschema` library), and ECMA-262 (editors, the YAML language
server). So they use only what all three read alike: no `\\Z`, no
possessive or atomic groups, and `$(?!\\n)` for the end of the text, because
Python's `$` also matches before a final line break.
"""

from __future__ import annotations

from pydantic.config import JsonDict

from emi_tui.engine.sizes import MAX_BYTES


def whole(body: str) -> str:
    """A pattern that `body` must match from the first character to the last, in every engine."""
    return f"^(?:{body})$(?!\\n)"


#: Any character but the control characters (C0 and DEL), which `validate` refuses in every free text.
NO_CONTROL = r"[^\x00-\x1f\x7f]"
#: Whitespace that is not a control character (a tab or a line break is one).
_SPACE = r"[^\S\x00-\x1f\x7f]"

#: A package name valid in either family (packages.package_name_problem with family "any";
#: the Debian rule is stricter, and which one applies needs the recipe).
PACKAGE = whole(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")

#: model._safe_word: letters, digits and . _ + -, starting with a letter or digit, no "..", at most 64 characters.
SAFE_WORD = whole(r"(?![A-Za-z0-9._+-]*\.\.)[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
#: model._image_file: a safe word of at most 128 characters that ends in .img.
IMAGE_FILE = whole(r"(?![A-Za-z0-9._+-]*\.\.)[A-Za-z0-9][A-Za-z0-9._+-]{0,123}\.img")

#: recipes.Recipe.name: every recipe's name has this form.
RECIPE_NAME = whole(r"[a-z0-9][a-z0-9-]*")
#: recipes.Recipe._arch_names: every recipe's architecture names have this form.
ARCH = whole(r"[a-z0-9_]+")
#: A release is one of the recipe's; every one is a word of text without control characters.
RELEASE = whole(f"{NO_CONTROL}+")

_URL = r"(?:https?|file)://[A-Za-z0-9._~:/\[\]%@+-]"
#: valuechecks._URL: a mirror is an http, https or file URL of plain characters.
MIRROR = whole(_URL + "*")
#: valuechecks._METADATA_URL: a plain http URL, a host and an optional path (no query, no shell characters).
METADATA_URL = whole(r"https?://[A-Za-z0-9.:\[\]-]+(?:/[A-Za-z0-9._~/-]*)?")

#: valuechecks._folder_problem: not blank, no control characters, no component over 255 characters.
#: (validate counts bytes, which a pattern cannot: a name of many non-ASCII characters may pass here and not there.)
OUTPUT_DIR = whole(rf"(?!.*[^/]{{256}}){NO_CONTROL}*[^\s\x00-\x1f\x7f]{NO_CONTROL}*")
OUTPUT_DIR_MAX = 1024

_NOT_DOTDOT = r"(?!(?:.*/)?\.\.(?:/|$))"
#: keyrings.read_keyring, before it opens the file: an absolute path without a ".." component,
#: to a .gpg, .asc or .pgp file (any file under /etc/pki/).
KEYRING = whole(
    rf"{_NOT_DOTDOT}(?:/etc/pki/{NO_CONTROL}*|/(?:{NO_CONTROL}*/)?[^/\x00-\x1f\x7f]+\.(?:gpg|asc|pgp)(?:/+\.?)*)"
)

_OPTION = r"[a-z][a-z-]*[+-]?=[A-Za-z0-9._/:,=+-]+"
_WORD = r"[A-Za-z0-9][A-Za-z0-9._/+-]*"
_SUITE = r"[A-Za-z0-9](?:[A-Za-z0-9._/+-]*[A-Za-z0-9._+-])?"
_DEB_LINE = (
    rf"(?:deb|deb-src){_SPACE}+(?:\[{_SPACE}*(?:{_OPTION}(?:{_SPACE}+{_OPTION})*)?{_SPACE}*\]{_SPACE}+)?{_URL}+{_SPACE}+"
    rf"(?:[A-Za-z0-9._/+-]*/|{_SUITE}(?:{_SPACE}+{_WORD})*){_SPACE}*"
)
_RPM_LINE = rf"{_SPACE}*baseurl{_SPACE}+{_URL}+{_SPACE}*"
#: sources.source_line_problem of either family: an apt line "deb URL SUITE COMPONENT…" or a yum "baseurl URL".
REPOSITORY_LINE = whole(f"{_DEB_LINE}|{_RPM_LINE}")



def _any_case(word: str) -> str:
    """`word` in any letter case, without a flag (JSON Schema has none)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


_APT_NO = "|".join(_any_case(word) for word in ("no", "false", "without", "off", "disable", "0"))
#: sources.unsigned_options, on a line REPOSITORY_LINE accepts: an option that switches off or weakens apt's signature checks.
UNSIGNED_LINE = (
    r"^(?:deb|deb-src)\s+\[(?:[^\]]*\s)?(?:trusted|allow-insecure|allow-weak|allow-downgrade-to-insecure)[+-]*="
    rf"(?!(?:{_APT_NO})[\s\]])"
)


def unsigned_rule() -> JsonDict:
    """A repository whose line lets apt skip signature checks needs `allow_unsigned: true` (valuechecks._UNSIGNED).

    validate asks this of Debian-family recipes only, but a line with options is
    never a valid yum source, so the rule needs no recipe. Stated on `line`, so
    that an editor marks the line, where validate puts the problem.
    """
    return {
        "if": {"not": {"required": ["allow_unsigned"], "properties": {"allow_unsigned": {"const": True}}}},
        "then": {"properties": {"line": {"not": {"type": "string", "pattern": UNSIGNED_LINE}}}},
    }


def _at_most(limit: int) -> str:
    """A pattern for the decimal numbers from 0 to `limit` (a whole number), leading zeros and fractions allowed."""
    digits = str(limit)
    below = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for index, digit in enumerate(digits):
        low = 1 if index == 0 and len(digits) > 1 else 0
        if int(digit) > low:
            rest = len(digits) - index - 1
            choice = f"[{low}-{int(digit) - 1}]" if int(digit) - 1 > low else str(low)
            below.append(digits[:index] + choice + (f"[0-9]{{{rest}}}" if rest else ""))
    return rf"0*(?:(?:{'|'.join(below)})(?:\.[0-9]+)?|{digits}(?:\.0+)?)"


def _size() -> str:
    """sizes.parse_size: a number above zero with a unit K, M, G or T (and an optional B or iB), at most 2T."""
    units = {"K": 1024**3, "M": 1024**2, "G": 1024, "T": 1}
    per_unit = "|".join(rf"(?:{_at_most(MAX_BYTES // 1024**4 * count)})\s*[{u}{u.lower()}]" for u, count in units.items())
    # The lookahead asks for a digit other than 0 before the unit: "0G" and "0.0M" are zero.
    return whole(rf"\s*(?=[0-9.]*[1-9])(?:{per_unit})(?:[iI]?[bB])?\s*")


#: sizes.parse_size without the recipe's minimum (which needs the recipe).
SIZE = _size()

#: What each pattern asks for, in words: validate's message when the model enforces it, and the
#: `patternErrorMessage` editors (the YAML language server) show instead of the pattern itself.
WORDS = {
    SIZE: "a size above zero and at most 2T such as 1.3G, 4.5G or 1500M (digits 0-9 and a unit K, M, G or T)",
    SAFE_WORD: "a word of letters, digits and . _ + - (no '..', at most 64 characters)",
    IMAGE_FILE: "a file name of letters, digits and . _ + - ending in .img (no '..', at most 128 characters)",
    PACKAGE: "a package name: letters, digits and . _ + - (Debian: lower case, at least two characters)",
    RECIPE_NAME: "a recipe name: lower-case letters, digits and -",
    ARCH: "an architecture name such as x86_64 or aarch64",
    RELEASE: "a release name of the recipe, such as bookworm, without control characters",
    MIRROR: "a mirror URL: http://…, https://… or file:///…, without spaces or shell characters",
    METADATA_URL: "a plain http URL such as http://169.254.169.254 (a host and a path, no query)",
    OUTPUT_DIR: "a folder name: not blank, no control characters or line breaks, at most 255 characters a component",
    KEYRING: "an absolute path to a .gpg, .asc or .pgp keyring file, without '..'",
    REPOSITORY_LINE: 'one source line: "deb URL SUITE COMPONENT…" (apt) or "baseurl URL" (yum)',
}
UNSIGNED_WORDS = (
    "this option makes apt install the source's packages without checking their signatures: "
    "give the repository's keyring as key: and drop the option, or add `allow_unsigned: true` to accept that"
)


def add_pattern_words(node: object) -> None:
    """Give every `pattern` in the schema `node` its words (`patternErrorMessage`), and the unsigned rule its message."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern in WORDS:
            node["patternErrorMessage"] = WORDS[pattern]
        negated = node.get("not")
        if isinstance(negated, dict) and negated.get("pattern") == UNSIGNED_LINE:
            node["errorMessage"] = UNSIGNED_WORDS
        for value in node.values():
            add_pattern_words(value)
    elif isinstance(node, list):
        for value in node:
            add_pattern_words(value)
