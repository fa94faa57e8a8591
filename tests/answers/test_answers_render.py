"""Saved answer files: rendered answers round-trip, carry a comment on every key and quote what YAML would misread."""

from __future__ import annotations

import re

import pytest
import yaml
from answers_support import BASE, GOOD, GOOD_FILES, TODAY, check, ok, openpgp_keyring

from emi_tui.engine.answers import storage as answers_io
from emi_tui.engine.answers.model import Answers, validate_file
from emi_tui.engine.answers.storage import HEADER, render_answers, save_answers, schema_modeline

# --- round trip and comments ----------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD_FILES)
def test_rendered_answers_revalidate_to_equal_answers(name, book):
    first = validate_file(GOOD / name, book, TODAY)
    text = render_answers(first.answers)
    again = check(text, book, source="rendered.yaml")
    assert again.ok, [str(p) for p in again.problems] + [text]
    assert again.answers == first.answers
    assert render_answers(again.answers) == text  # a fixed point


def test_rendered_answers_with_repositories_and_keyring_round_trip(book, tmp_path):
    keyring = tmp_path / "k.gpg"
    keyring.write_bytes(openpgp_keyring(armored=True))
    text = BASE + (
        "repositories:\n"
        f"  - line: deb [arch=amd64] http://extra.example/debian bookworm main\n    key: {keyring}\n"
        "  - line: deb-src http://extra.example/debian bookworm main\n"
        "packages:\n  add: [g++, libc6-dev, python3.11]\n"
        "image:\n  version: '1.0'\n  name: '2026'\n"
        "output:\n  dir: 'my images: #1'\n"
    )
    first = ok(text, book)
    again = ok(render_answers(first), book)
    assert again == first


@pytest.mark.parametrize(
    "yaml_line",
    [
        "image:\n  version: '2026-11-28'",     # plain, it reads back as a date
        "packages:\n  add: ['0x1f']",            # plain, it reads back as the number 31
        "image:\n  name: '0b101'",              # plain, it reads back as the number 5
        "output:\n  dir: '.inf'",               # plain, it reads back as a float
        "output:\n  dir: '- x'",                # plain, it starts a sequence
        "output:\n  dir: '? x'",                # plain, it starts a complex key
        "output:\n  dir: 'x: y'",               # plain, it is a mapping
        "output:\n  dir: 'a #b'",               # plain, the rest is a comment
        "output:\n  dir: ' lead'",              # plain, the space is dropped
        "image:\n  version: '1.10'",           # plain, it reads back as the float 1.1
        "image:\n  version: '1_000'",          # plain, YAML 1.1 reads it back as the number 1000
        "image:\n  name: 'null'",              # plain, it reads back as None
        "image:\n  name: 'on'",                # plain, YAML 1.1 reads it back as True
    ],
)
def test_render_quotes_every_value_that_yaml_would_misread(book, yaml_line):
    first = ok(BASE + yaml_line + "\n", book)
    again = check(render_answers(first), book)
    assert again.ok, [str(p) for p in again.problems]
    assert again.answers == first


def _key_lines(text: str) -> list[str]:
    body = text[len(HEADER):]
    return [line for line in body.splitlines() if re.match(r"^\s*(- )?[a-z_0-9]+:", line)]


def test_render_starts_with_the_header_and_parses_as_yaml(book):
    text = render_answers(ok(BASE, book))
    assert text.startswith(HEADER)
    data = yaml.safe_load(text)
    assert data["version"] == 1 and data["recipe"] == "debian-based"
    assert set(data) == set(Answers.model_fields)


def test_rendered_leaf_keys_all_carry_a_comment(book, tmp_path):
    keyring = tmp_path / "k.gpg"
    keyring.write_bytes(openpgp_keyring(armored=True))
    answers = ok(BASE + f"repositories:\n  - line: deb http://extra.example/debian bookworm main\n    key: {keyring}\n", book)
    lines = [line for line in _key_lines(render_answers(answers)) if not line.rstrip().endswith(":")]
    assert len(lines) >= 24
    missing = [line for line in lines if "  # " not in line]
    assert missing == []
    assert "ssh_key: root  # who gets the SSH key of the instance" in render_answers(answers)


def test_rendered_section_keys_carry_a_comment_too(book):
    text = render_answers(ok(BASE, book))
    missing = [line for line in _key_lines(text) if "  # " not in line]
    assert missing == []
    for section in ("packages", "metadata", "image", "output"):
        assert re.search(rf"^{section}:  # \S", text, re.MULTILINE), section


@pytest.mark.parametrize("text", ["a\nb", "tab\there", "bell\x07", " lead", "trail ", "a: b", "#x", "2026-11-28", "0x1f", "", "é"])
def test_scalar_reads_back_as_the_same_text(text):
    rendered = answers_io._scalar(text)
    assert "\n" not in rendered
    assert yaml.safe_load(f"k: {rendered}\n") == {"k": text}


def test_save_answers_writes_a_file_that_validates(book, tmp_path):
    answers = validate_file(GOOD / "full-debian.yaml", book, TODAY).answers
    target = tmp_path / "sub" / "saved.yaml"
    save_answers(answers, target)
    assert target.read_text() == schema_modeline() + render_answers(answers)
    assert schema_modeline() == f"# yaml-language-server: $schema={(GOOD.parents[3] / 'answers.schema.json').as_uri()}\n"
    assert validate_file(target, book, TODAY).answers == answers
    assert [p.name for p in target.parent.iterdir()] == ["saved.yaml"]  # no temporary left behind
