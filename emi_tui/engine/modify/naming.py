"""What the modified image will be called, and what it will carry.

From what the image says it is (emi_tui.engine.modify.identity), a modify
settles the recipe, the answers the new image carries, its new version and
file name, and the artifact's final paths. The new version is today's date
unless asked for (today.N when the image is already today's), and the file
name keeps the old one's shape with the new version in it.
"""

from __future__ import annotations

import re
from datetime import date

from emi_tui.engine.answers.model import Answers, ImageFields, Output, PackageChanges, resolve
from emi_tui.engine.answers.packages import package_name_problem
from emi_tui.engine.answers.recipes import RecipeBook
from emi_tui.engine.answers.schema import validate_located
from emi_tui.engine.answers.yamlload import load_located
from emi_tui.engine.build.package import artifact_names
from emi_tui.engine.image import layout
from emi_tui.engine.modify.context import ModifyContext
from emi_tui.engine.modify.identity import ArtifactError


def next_version(old: str | None, today: date, asked: str | None) -> str:
    """The new image_version: as asked, else today's (today.N when the image already is today's)."""
    if asked:
        if asked == old:
            raise ArtifactError(f"--version {asked} is the image's version already", hint="a modified image is a new version: choose another")
        return asked
    day = today.strftime("%Y.%m.%d")
    if old and (old == day or old.startswith(day + ".")):
        tail = old[len(day) + 1:]
        return f"{day}.{int(tail) + 1 if tail.isdigit() else 1}"
    return day


def next_file(old_file: str, old_version: str | None, version: str) -> str:
    """The new image_file: the old one with the new version in place of the old."""
    if old_version and f"-{old_version}-" in old_file:
        return old_file.replace(f"-{old_version}-", f"-{version}-", 1)
    if match := re.match(r"^(.+)-\d[^-]*-([^-]+)\.img$", old_file):
        return f"{match[1]}-{version}-{match[2]}.img"
    return f"{old_file.removesuffix('.img')}-{version}.img"


def settle(ctx: ModifyContext) -> None:
    """Choose the recipe, the answers, the new names and the artifact paths, from the image's identity."""
    request, identity, book = ctx.request, ctx.identity, RecipeBook()
    old, osr = identity.fields, identity.os_release
    stored = stored_answers(ctx, identity.answers)
    ids = [osr.get("ID", "")] + osr.get("ID_LIKE", "").split()
    guesses = [stored.recipe if stored else "", old.get("recipe_name", "")] + [f"{i}-based" for i in ids]
    guesses += ["centos-based"] if {"rhel", "fedora", "centos"} & set(ids) else []
    recipe = next((book.recipes[g] for g in guesses if g in book.recipes), None)
    if recipe is None:
        raise ArtifactError(f"cannot tell which recipe the image follows (recipe_name {old.get('recipe_name')!r}, os-release ID {osr.get('ID')!r})",
                            hint=f"emi-tui knows {', '.join(book.names())}")
    for name in request.add + request.remove:
        if problem := package_name_problem(name, recipe.family):
            raise ArtifactError(problem, hint=f"{recipe.name} images take {recipe.family} package names")
    arch = old.get("image_arch") or (stored.arch if stored else "x86_64")
    old_version = old.get("image_version") or (stored.image.version if stored else None)
    old_file = old.get("image_file") or (stored.image.file if stored else None) or ctx.image.name
    if stored is None:
        ctx.note("no stored answers in the image: answers made from its /etc/image-id and /etc/os-release")
        release = osr.get("VERSION_CODENAME") or osr.get("VERSION_ID") or None
        stored = Answers(version=1, recipe=recipe.name, release=release, arch=arch if arch in recipe.arches else "x86_64",
                         size=f"{identity.fs_bytes // 1024**2}M", kernel=ctx.survey.kind == "tarball")
        stored = resolve(stored, recipe, ctx.today)
    version = next_version(old_version, ctx.today, request.version)
    name = old.get("image_name") or stored.image.name or f"euca-{recipe.distro}-emi"
    file = next_file(old_file, old_version, version)
    try:
        fields = ImageFields(name=name, version=version, file=file)
    except ValueError:
        fields = ImageFields(name=f"euca-{recipe.distro}-emi", version=version, file=f"euca-{recipe.distro}-{version}-{arch}.img")
        ctx.note(f"the old name {name!r} or file {file!r} is not valid in an answer file: using {fields.name} and {fields.file}")
    add = [p for p in stored.packages.add if p not in request.remove] + [p for p in request.add if p not in stored.packages.add]
    remove = [p for p in stored.packages.remove if p not in request.add] + [p for p in request.remove if p not in stored.packages.remove]
    compress = ctx.survey.compress if ctx.survey.kind == "tarball" else stored.output.compress
    ctx.answers = stored.model_copy(update={
        "image": fields, "size": request.grow or stored.size, "packages": PackageChanges(add=add, remove=remove),
        "metadata": request.metadata or stored.metadata, "output": Output(dir=str(ctx.paths.output), compress=compress),
    })
    ctx.recipe = recipe
    if ctx.survey.kind == "tarball":
        ctx.names = artifact_names(ctx)
    else:
        out, new_file = ctx.paths.output, fields.resolved_file
        ctx.names = {"tarball": out / new_file, "sha256": out / f"{new_file}.sha256", "manifest": out / f"{new_file.removesuffix('.img')}.manifest",
                     "answers": out / f"{new_file.removesuffix('.img')}.answers.yaml", "log": out / f"{new_file.removesuffix('.img')}.build.log"}
    if ctx.names["tarball"].resolve() == ctx.survey.path.resolve():
        raise ArtifactError(f"the new artifact would replace the original {ctx.survey.path}", hint="give another --version or --output")


def stored_answers(ctx: ModifyContext, text: str | None) -> Answers | None:
    if not text:
        return None
    located = load_located(text, f"/{layout.ANSWERS}")
    answers, problems = validate_located(Answers, located) if not located.problems else (None, located.problems)
    if answers is None or problems:
        ctx.note(f"the stored answers do not read as format v1 ({problems[0] if problems else 'empty'}): not used")
        return None
    return answers
