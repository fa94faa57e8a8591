"""The catalog file (format 1): a family of images released together, and its JSON Schema.

A catalog names the release's shared settings once (any answer-file key:
image version, mirror, metadata, output folder and compression …), then its
images: a `matrix` of recipes × arches × sizes with an `exclude` list, and/or
a list of `entries`, with `overrides` that change any answer key of the
images they match. Every image resolves to one answer file's worth of
settings, validated by the answer file's own rules (emi_tui.engine.answers),
so a catalog never accepts what an answer file would refuse.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from emi_tui.engine.answers import schemarules as rules
from emi_tui.engine.answers.model import Answers, Size
from emi_tui.engine.answers.schema import complete_examples

CATALOG_FORMAT = 1
#: The top-level key that makes a YAML file a catalog rather than an answer file.
MARKER = "catalog"
#: Answer keys a catalog does not take: the answer-file format is the catalog's own.
NOT_SHARED = ("version",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


def _optional_fields() -> dict[str, tuple[object, object]]:
    """Every answer key but `version`, optional: the shape of shared settings and of an override."""
    fields: dict[str, tuple[object, object]] = {}
    for name, info in Answers.model_fields.items():
        if name in NOT_SHARED:
            continue
        optional = info.annotation | None  # type: ignore[operator]  # a type made at run time, from the answer model's
        fields[name] = (optional, Field(None, description=info.description, examples=info.examples,
                                                       json_schema_extra=info.json_schema_extra))
    return fields


#: Answer keys, each optional: what an entry, the shared settings and an override may set.
AnswerSettings: type[BaseModel] = create_model(  # type: ignore[call-overload]  # fields made at run time
    "AnswerSettings", __base__=_Strict, __doc__="Any answer-file key (but version): the settings of an image.", **_optional_fields()
)


class Match(_Strict):
    """Which images an exclude or an override concerns: every key given must match."""

    recipe: str | None = Field(None, description="a recipe name", examples=["debian-based"], json_schema_extra={"pattern": rules.RECIPE_NAME})
    release: str | None = Field(None, description="a release of the recipe", examples=["bookworm"])
    arch: str | None = Field(None, description="an architecture", examples=["i386"])
    size: Size | None = Field(None, description="an image size", examples=["4.5G"])
    heading: str | None = Field(None, description="the catalog heading of one image", examples=["debian i386 12"])


class Matrix(_Strict):
    """Every combination of recipes × releases × arches × sizes is an image, but those excluded."""

    recipes: list[str] = Field(min_length=1, description="recipe names", examples=[["debian-based", "ubuntu-based"]])
    releases: list[str] | None = Field(None, description="releases (default: each recipe's default release)", examples=[["bookworm"]])
    arches: list[str] = Field(["x86_64"], min_length=1, description="architectures", examples=[["x86_64", "i386"]])
    sizes: list[Size] = Field(["1.3G"], min_length=1, description='image sizes: 1.3G (standard), 4.5G ("large")', examples=[["1.3G", "4.5G"]])
    exclude: list[Match] = Field(default_factory=list, description="combinations not built", examples=[[{"arch": "i386", "size": "4.5G"}]])


class Override(_Strict):
    """Answer keys set on every image that `match` selects (a later override wins)."""

    match: Match = Field(description="the images it applies to")
    set: AnswerSettings = Field(description="answer keys, as in an answer file")


class Entry(AnswerSettings):
    """One image listed by hand: its answer keys (recipe at least), and its catalog heading."""

    heading: str | None = Field(
        None, description='the line above its image-id in EMI-IDs (default: derived, e.g. "debian x86_64 12")',
        examples=["debian x86_64 12", "debian large x86_64 12"],
        json_schema_extra={"pattern": rules.whole(r"[A-Za-z0-9][A-Za-z0-9._+ -]{0,79}")},
    )


class Catalog(AnswerSettings):
    """A catalog file, format 1: shared settings (any answer key), then its images."""

    catalog: Literal[1] = Field(description="the catalog-file format")
    matrix: Matrix | None = Field(None, description="recipes × arches × sizes, each combination an image")
    entries: list[Entry] = Field(default_factory=list, description="images listed one by one")
    overrides: list[Override] = Field(default_factory=list, description="answer keys changed for the images they match")


#: The keys of a catalog that are not answer keys.
CATALOG_KEYS = ("catalog", "matrix", "entries", "overrides")


def is_catalog(data: object) -> bool:
    """Whether a loaded YAML document is a catalog (it has `catalog:`, `matrix:` or `entries:`), not an answer file."""
    return isinstance(data, dict) and any(key in data for key in (MARKER, "matrix", "entries"))


def json_schema() -> dict[str, object]:
    """The JSON Schema of catalog format 1, for editors (catalog.schema.json is generated from it)."""
    schema = Catalog.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "emi-tui catalog file, format 1"
    rules.add_pattern_words(schema)
    return complete_examples(schema, {})
