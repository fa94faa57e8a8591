"""The steps of a modify, in order, each a function of a `ModifyContext` (run by the job runner).

They reuse the build's own pieces: the chroot mounts and hygiene of
build.customize, the package families of build.distro, the kernel copy of
build.filesystem and the checksum and manifest of build.package. What is new
is the loop mount of a copy, reading an image's identity (modify.identity),
settling its new names (modify.naming), the interactive shell (modify.shell)
and the lineage: the new /etc/image-id, the old one kept in
/etc/emi-tui/history, and the stored answers updated with what was changed.
What the hygiene step undoes (files put back, processes stopped, loop
devices detached) is in modify.teardown; the mount step pushes the same
undos onto the context, for the job's teardown on any other exit path.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from emi_tui.engine.answers.mirror import workstation_mirror
from emi_tui.engine.answers.storage import render_stored_answers
from emi_tui.engine.artifact.compress import compressor, program_for, tar_argv
from emi_tui.engine.artifact.extract import check_room, check_unpacked, extract_argv
from emi_tui.engine.artifact.manifest import diff_manifests
from emi_tui.engine.build import customize
from emi_tui.engine.build import filesystem as image_step
from emi_tui.engine.build import preflight as build_preflight
from emi_tui.engine.build.distro import APT_OPTIONS, family_of
from emi_tui.engine.build.package import discard_partials, partial_name, write_companions, written_by_command
from emi_tui.engine.errors import EmiError
from emi_tui.engine.image import layout
from emi_tui.engine.image.files import wants_udev_names
from emi_tui.engine.image.imageid import ImageId
from emi_tui.engine.image.inroot import InRootError, read_in_root, regular_matches
from emi_tui.engine.modify.beside import private_folder, replace_files
from emi_tui.engine.modify.context import ModifyContext, StashedFile, StashedLink, Unpacked
from emi_tui.engine.modify.identity import ArtifactError, look, read_identity
from emi_tui.engine.modify.naming import settle
from emi_tui.engine.modify.shell import shell
from emi_tui.engine.modify.teardown import STASHED, release_loops, restore_stashed, stop_chrooted
from emi_tui.engine.modify.trust import TRUST_STATEMENT
from emi_tui.engine.run.job import Step, StepResult, skipped
from emi_tui.engine.run.logtext import describe_argv
from emi_tui.engine.run.mounts import unmount_all_under
from emi_tui.engine.run.runner import Cancelled
from emi_tui.engine.sizes import human, parse_size

SCRIPT_INSIDE = "tmp/emi-tui-run"
#: The folders a modify mounts on or writes into from outside the chroot.
TOUCHED = ("proc", "sys", "dev", "dev/pts", "etc", "etc/apt", "etc/emi-tui", "etc/ssh", "etc/systemd/system", "etc/udev/rules.d",
           "usr", "usr/sbin", "sbin", "root", "tmp", "var", "var/lib", "var/log", "var/tmp", "boot")
#: The previous image-ids, as a catalog `emi-tui review` reads (one file, whatever layout's name says).
HISTORY = layout.HISTORY_DIR
#: The files a modify puts aside and puts back (resolv.conf, apt sources, policy-rc.d) are a few KiB.
STASH_LIMIT = 1 << 20
#: The history grows by one short entry per modify; an image whose history is bigger is not read, it is started again.
HISTORY_LIMIT = 1 << 20
HISTORY_HEADER = "# The image-ids this image had before, oldest first, written by `emi-tui modify`.\n"
LINEAGE = "# modify: "
TOOLS = {**build_preflight.TOOLS, "debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs", "resize2fs": "e2fsprogs", "losetup": "mount", "cp": "coreutils", "truncate": "coreutils"}


def modify_steps() -> list[Step[ModifyContext]]:
    return [
        Step("preflight", "check root, tools and free space", preflight),
        Step("unpack", "copy the image out of the artifact (the original is only read); read its image-id", unpack),
        Step("grow", "enlarge the filesystem with resize2fs", grow),
        Step("mount", "loop-mount the copy (its commands run contained: own namespaces, fresh /proc, minimal /dev)", mount),
        Step("packages", "upgrade, install and remove packages", packages),
        Step("script", "run the script inside the chroot", script),
        Step("metadata", "rewrite rc.local, the udev rules and the rest from the answers' metadata", metadata),
        Step("shell", "an interactive shell inside the image, everything typed logged", shell),
        Step("image-id", "write the new /etc/image-id, keep the old one in the history, update the answers", stamp),
        Step("kernel", "refresh the kernel and ramdisk beside the image from its /boot", kernel),
        Step("hygiene", "clean caches, history, host keys and machine-id; unmount; detach the loop device", hygiene),
        Step("check", "check the filesystem with e2fsck -fn", check),
        Step("zerofree", "zero the free blocks so the image compresses well", zerofree),
        Step("package", "repack in the same layout; write checksum, manifest, answers and log", package),
    ]


def preflight(ctx: ModifyContext) -> str:
    request, survey = ctx.request, ctx.survey
    problems = []
    if os.geteuid() != 0 and not ctx.dry_run:
        problems.append(("emi-tui modify must run as root to loop-mount the image and chroot into it", "run it with sudo, or add --dry-run to see the plan"))
    tools = ["tar", "cp", "e2fsck", "dumpe2fs", "debugfs", "mount", "umount", "losetup", "unshare"]
    tools += (["zerofree"] if request.zerofree else []) + (["resize2fs", "truncate"] if request.grow else [])
    problems += [(f"{t} is not installed", f"apt-get install {TOOLS.get(t, t)}") for t in tools if shutil.which(t) is None]
    chosen = compressor(survey.compress)
    if chosen.programs and program_for(chosen.name) is None:
        problems.append((f"no {chosen.name} compressor is installed", f"apt-get install {chosen.package}"))
    if problems:
        raise EmiError("; ".join(p for p, _ in problems), hint="; ".join(h for _, h in problems))
    ctx.note(f"modify {survey.path}: {'; '.join(request.changes())}")
    ctx.note(f"artifact: {survey.path} ({survey.kind}{', image ' + survey.image_member if survey.image_member else ''}, {human(survey.image_bytes)})")
    ctx.note(f"the original is only read: the work happens on a copy in {ctx.paths.work}")
    ctx.note(f"trust: {TRUST_STATEMENT}")
    grown = parse_size(request.grow) if request.grow else survey.image_bytes
    artifact = survey.path.stat().st_size
    for folder, need, what in ((ctx.paths.work, grown + 256 * 1024**2, "work folder"), (ctx.paths.output, 2 * artifact + 256 * 1024**2, "output folder")):
        probe = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
        free = shutil.disk_usage(probe).free
        ctx.note(f"{what} {folder}: {human(free)} free, needs about {human(need)}")
        if free < need and not ctx.dry_run:
            raise EmiError(f"the {what} {folder} has {human(free)} free; the modify needs about {human(need)}", hint="free some space, or choose another folder (--work-dir, --output)")
    return "root, tools and space" if not ctx.dry_run else "dry run"


def unpack(ctx: ModifyContext) -> str:
    survey = ctx.survey
    if survey.kind == "tarball":
        unpacked = ctx.paths.work / "unpacked"
        image = unpacked / survey.image_member
        declared = 0
        if not ctx.dry_run:
            unpacked.mkdir(parents=True)
            # The survey refused links, devices and unsafe names; what the members declare must fit where they go.
            declared = check_room(survey, unpacked)
        ctx.run(extract_argv(survey.path, unpacked, compress=survey.compress, preserve=True))
        if not ctx.dry_run:
            check_unpacked(survey, unpacked, declared)
    else:
        image = ctx.paths.work / survey.path.name
        ctx.run(["cp", "--sparse=always", "--", str(survey.path), str(image)])
    # Preen the copy: an image that was mounted since it was made may need its journal replayed.
    fsck = ctx.run(["e2fsck", "-f", "-p", "--", str(image)], check=False)
    if fsck.exit_code >= 4:
        raise ArtifactError(f"the image's filesystem has errors e2fsck -p cannot repair (exit {fsck.exit_code})", hint="repair a copy of it with e2fsck -fy first")
    identity = look(survey, ctx.cancel) if ctx.dry_run else read_identity(image, ctx.cancel)
    ctx.unpacked = Unpacked(image, identity)
    old = identity.fields
    ctx.facts["old_image_id"] = identity.image_id
    ctx.note(f"image: {identity.fs_type}, {human(identity.fs_bytes)}; image-id: " + (
        f"{old.get('image_name')} {old.get('image_version')} stamp {old.get('image_stamp')} ({old.get('recipe_name')})" if old else "none"))
    settle(ctx)
    new = ctx.answers.image
    ctx.note(f"new version {new.version}: {new.file}; artifact {ctx.names['tarball']}")
    return f"{old.get('image_version', '?')} -> {new.version}"


def grow(ctx: ModifyContext) -> StepResult | str:
    if not ctx.request.grow:
        return skipped("skipped (no --grow)")
    target, current = parse_size(ctx.request.grow) // 1024 * 1024, ctx.identity.fs_bytes
    if target < current:
        raise ArtifactError(f"--grow {ctx.request.grow} would shrink the {human(current)} filesystem", hint="emi-tui only grows filesystems")
    if target == current:
        return skipped(f"skipped (already {human(current)})")
    ctx.run(["truncate", "-s", f"{target // 1024}K", "--", str(ctx.image)])
    ctx.run(["resize2fs", "--", str(ctx.image), f"{target // 1024}K"])
    ctx.identity.fs_bytes = target
    return f"{human(current)} -> {human(target)}"


def mount(ctx: ModifyContext) -> str:
    root, tail = ctx.paths.root, ["-o", "loop", str(ctx.image)]
    ctx.note(f"$ mount {describe_argv(tail)} {root}")
    if not ctx.dry_run:
        work, mounts = ctx.paths.work, ctx.mounts
        assert mounts is not None, "a real job sets up its MountStack before any step runs"
        # Undone newest first, on every exit path: what runs inside stops, everything is unmounted, then the loop
        # device that mount -o loop attached is detached (hygiene does the same on success, and these find nothing).
        ctx.undo.push("detach the loop device", lambda: [f"loop device {device}" for device in release_loops(work)])
        mounts.mount(tail, root)
        ctx.undo.push("unmount the image", lambda: mounts.close() + unmount_all_under(work))
        ctx.undo.push("stop what runs inside the image", lambda: stop_chrooted(ctx) if mounts.mounted else None)
        if not any((root / p).exists() for p in ("bin/sh", "usr/bin/sh")):
            raise ArtifactError(f"{ctx.image.name} holds no Linux root (no /bin/sh)", hint="emi-tui modifies the root filesystem of an EMI")
        # Everything below is written from outside, as root: a folder linked out of the image would be followed.
        escaping = [f"/{d}" for d in TOUCHED if os.path.lexists(root / d) and not (root / d).resolve().is_relative_to(root.resolve())]
        if escaping:
            raise ArtifactError(f"{', '.join(escaping)} in the image lead outside it", hint="refusing to mount or write through them as root")
    customize.mount_chroot(ctx)
    _stash(ctx)
    host = Path("/etc/resolv.conf")
    _put(ctx, "etc/resolv.conf", host.read_text() if host.is_file() else "")  # for the mirror; hygiene puts the image's back
    if ctx.dry_run or ctx.stash.get(customize.POLICY_RC_D) is None:
        _put(ctx, customize.POLICY_RC_D, customize.POLICY_RC_D_SCRIPT, 0o755)
    ctx.facts["before"] = _installed(ctx)
    return f"{ctx.identity.fs_type} at {root}" + (f", {len(ctx.facts['before'])} packages" if ctx.facts["before"] else "")


def _installed(ctx: ModifyContext) -> dict[str, str]:
    """The image's packages, or none when its package database cannot be read (the modify goes on, with no manifest)."""
    try:
        return family_of(ctx).installed(ctx)
    except Cancelled:
        raise
    except EmiError as exc:  # distro.query's failure: the database is damaged, or the tool is missing
        ctx.note(f"cannot list the installed packages ({exc}): the manifest stays empty")
        return {}


def _stash(ctx: ModifyContext) -> None:
    for relative in STASHED if not ctx.dry_run else ():
        path = ctx.paths.root / relative
        if path.is_symlink():
            ctx.stash[relative] = StashedLink(os.readlink(path))
        elif path.is_file():
            # Read inside the root and bounded: the image's file may be a sparse giant (InRootError says so and stops the modify).
            content = read_in_root(ctx.paths.root, relative, STASH_LIMIT)
            ctx.stash[relative] = StashedFile(content or b"", path.stat().st_mode & 0o7777)
        else:
            ctx.stash[relative] = None


def _put(ctx: ModifyContext, relative: str, text: str, mode: int = 0o644) -> None:
    """Write a file of the modify's own, remembered so that hygiene can tell whether the operator changed it."""
    ctx.write(relative, text, mode)
    ctx.ours[relative] = text.encode()


def packages(ctx: ModifyContext) -> StepResult | str:
    request, family = ctx.request, family_of(ctx)
    if not (request.upgrade or request.add or request.remove):
        return skipped("skipped (no package changes)")
    _choose_mirror(ctx)
    family.configure_sources(ctx)
    for relative in ("etc/apt/sources.list", "etc/yum.repos.d/emi-tui.repo"):
        written = None if ctx.dry_run else read_in_root(ctx.paths.root, relative, STASH_LIMIT)
        if written is not None:
            ctx.ours[relative] = written
    family.refresh(ctx)
    if request.upgrade:
        ctx.chroot(["apt-get", *APT_OPTIONS, "full-upgrade", "-y"] if ctx.recipe.family == "deb" else [ctx.recipe.bootstrap, "-y", "update"])
    family.install(ctx, request.add)
    family.purge(ctx, request.remove)
    return ", ".join(w for w in request.changes() if w.startswith(("--upgrade", "--add", "--remove")))


def _choose_mirror(ctx: ModifyContext) -> None:
    """The stored answers' mirror, else this workstation's apt sources: the first that answers."""
    answers, recipe = ctx.answers, ctx.recipe
    found = workstation_mirror([r for r in [answers.release] if r] + recipe.releases) if recipe.default_mirror == "apt-sources" else None
    candidates = [m for m in dict.fromkeys([answers.mirror, found]) if m]
    if not candidates:
        raise EmiError(f"no mirror serves the image's {answers.release} packages", hint="set `mirror:` in the image's answers, or add an apt source for it here")
    for mirror in candidates:
        url = f"{mirror.rstrip('/')}/dists/{answers.release}/Release" if recipe.family == "deb" else f"{mirror.rstrip('/')}/{answers.release}/"
        try:
            if not ctx.dry_run:
                build_preflight.probe_url(url)
        except EmiError as exc:
            ctx.note(f"mirror {mirror} does not answer ({exc})")
            continue
        ctx.answers = answers.model_copy(update={"mirror": mirror})
        stored = ctx.identity.answers is not None and mirror == answers.mirror
        source = "the image's stored answers" if stored else "this workstation's apt sources" if mirror == found else "the recipe"
        ctx.note(f"mirror: {mirror} ({source})")
        return
    raise EmiError(f"no mirror answers for {answers.release}: {', '.join(candidates)}", hint="check the network and the mirror")


def script(ctx: ModifyContext) -> StepResult | str:
    path = ctx.request.script
    if path is None:
        return skipped("skipped (no --run)")
    ctx.note(f"script {path} ({path.stat().st_size} bytes)")
    ctx.run(["install", "-m", "0755", "--", str(path), str(ctx.paths.root / SCRIPT_INSIDE)])
    has_shebang = path.read_bytes()[:2] == b"#!"
    ctx.chroot([f"/{SCRIPT_INSIDE}"] if has_shebang else ["/bin/sh", f"/{SCRIPT_INSIDE}"])
    ctx.remove(SCRIPT_INSIDE)
    return f"{path.name} exited 0"


def metadata(ctx: ModifyContext) -> StepResult | str:
    chosen = ctx.request.metadata
    if chosen is None:
        return skipped("skipped (no --answers)")
    customize.write_image_files(ctx, chosen)
    if not wants_udev_names(chosen):
        for relative in (layout.UDEV_RULE, layout.EUCA_UDEV):
            ctx.remove(relative)
    return "rc.local, udev rule and units rewritten"


def stamp(ctx: ModifyContext) -> str:
    identity, image = ctx.identity, ctx.answers.image
    old = identity.fields
    new = ImageId.stamped(name=image.resolved_name, version=image.resolved_version, arch=old.get("image_arch") or ctx.answers.arch, file=image.resolved_file,
                          recipe=old.get("recipe_name") or ctx.recipe.name, epoch_seconds=ctx.epoch)
    if identity.image_id.strip():
        history = HISTORY_HEADER if ctx.dry_run else _history(ctx)
        entry = f"{old.get('image_file') or 'image'}:\n" + "".join(f"  {line.strip()}\n" for line in identity.image_id.splitlines() if line.strip())
        ctx.write(HISTORY, history + ("" if history.endswith("\n") else "\n") + entry)
    else:
        ctx.note("the image had no /etc/image-id: no history to keep")
    ctx.write(layout.IMAGE_ID, new.render())
    lineage = [line for line in (identity.answers or "").splitlines() if line.startswith(LINEAGE)]
    when = datetime.fromtimestamp(ctx.epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lineage.append(f"{LINEAGE}{when} {old.get('image_file') or ctx.survey.path.name} -> {image.file}: {'; '.join(ctx.request.changes())}")
    ctx.facts["answers_text"] = render_stored_answers(ctx.answers) + "\n".join(lineage) + "\n"
    ctx.write(layout.ANSWERS, ctx.facts["answers_text"])
    ctx.facts["image_id"] = new.render()
    before, after = ctx.facts.get("before", {}), _installed(ctx)
    ctx.facts["manifest"] = after
    diff = diff_manifests(before, after)
    ctx.facts["added"], ctx.facts["removed"], ctx.facts["upgraded"] = diff.added, diff.removed, diff.upgraded
    counts = ", ".join(f"{len(ctx.facts[k])} {k}" for k in ("added", "removed", "upgraded"))
    return f"{old.get('image_version', '-')} -> {image.version}, stamp {new.image_stamp}" + (f"; packages: {counts}" if after else "")


def _history(ctx: ModifyContext) -> str:
    """The image's own history of image-ids, read inside its root and bounded; a fresh header when it has none or it is unsafe."""
    try:
        # A link is resolved inside the image (never to a host file); a FIFO, a device or a giant file is not read.
        data = read_in_root(ctx.paths.root, HISTORY, HISTORY_LIMIT)
    except InRootError as exc:
        ctx.note(f"{exc}: the history starts again")
        return HISTORY_HEADER
    return HISTORY_HEADER if data is None else data.decode("utf-8", "replace")


def kernel(ctx: ModifyContext) -> StepResult | str:
    if ctx.survey.kind != "tarball":
        return skipped("skipped (a bare image carries no kernel beside it)")
    beside = ctx.image.parent / "kvm-kernel"
    if ctx.dry_run:
        ctx.note(f"when the artifact has {beside.name}/: copy the newest /boot kernel and ramdisk there")
        return "dry run"
    if not os.path.lexists(beside):
        return skipped("skipped (no kvm-kernel/ in the artifact)")
    private_folder(beside, ctx.paths.work / "unpacked")
    if not regular_matches(ctx.paths.root, ctx.recipe.kernel_files.kernel):  # a link named like a kernel is not one
        return "kept: the image has no kernel in /boot (a link is not followed)"
    image_step.kernel(ctx)
    fresh, old = sorted(ctx.paths.kernel_dir.iterdir()), sorted(p for p in beside.iterdir() if p.name.startswith(("vmlinuz", "initrd")) and not p.is_symlink())
    if [p.name for p in fresh] == [p.name for p in old] and all(filecmp.cmp(a, b, shallow=False) for a, b in zip(fresh, old)):
        return f"unchanged: {', '.join(p.name for p in old)}"
    replace_files(beside, old, fresh)
    return f"refreshed: {', '.join(p.name for p in fresh)}"


def hygiene(ctx: ModifyContext) -> str:
    root = ctx.paths.root
    hook = ctx.dry_run or (root / layout.HOSTKEY_UNIT).is_file()
    removed = customize.clean_root(ctx, remove_host_keys=hook)
    if not hook and any(root.glob("etc/ssh/ssh_host_*")):
        ctx.note("kept the SSH host keys: the image has no first-boot unit that makes new ones (--answers writes it)")
    restore_stashed(ctx)
    stop_chrooted(ctx)
    customize.unmount_chroot(ctx)
    if ctx.dry_run:
        ctx.note("check that no loop device is backed by the copy (losetup)")
        return "dry run"
    stuck = release_loops(ctx.paths.work)
    if stuck:
        raise EmiError(f"loop device still attached: {', '.join(stuck)}", hint="see `emi-tui cleanup`")
    ctx.note("no loop device is backed by the copy (checked losetup)")
    return f"{removed} files removed; nothing mounted"


def check(ctx: ModifyContext) -> str:
    ctx.run(["e2fsck", "-fn", "--", str(ctx.image)])
    return f"clean {ctx.identity.fs_type}"


def zerofree(ctx: ModifyContext) -> StepResult | str:
    if not ctx.request.zerofree:
        ctx.note("zerofree skipped (--no-zerofree): only for measuring what it saves")
        return skipped("skipped (--no-zerofree)")
    ctx.run(["zerofree", "-v", "--", str(ctx.image)])
    return "free blocks zeroed"


def package(ctx: ModifyContext) -> str:
    survey, names, new_file = ctx.survey, ctx.names, ctx.answers.image.resolved_file
    partial = partial_name(names["tarball"])
    ctx.facts["partials"] = [partial_name(p) for p in names.values()]
    if not ctx.dry_run:
        ctx.undo.push("remove the partial artifacts", lambda: discard_partials(ctx, names))  # published ones are gone already
    program = program_for(survey.compress)
    if survey.kind == "tarball":
        unpacked, member = ctx.paths.work / "unpacked", Path(survey.image_member)
        top, new_stem = member.parts[0], new_file.removesuffix(".img")
        renamed_top = new_stem if len(member.parts) == 2 and top == member.stem else top
        members = [renamed_top if m == top else (new_file if m == member.name else m) for m in survey.members]
        ctx.note(f"layout: {'/'.join([renamed_top, new_file] if len(member.parts) > 1 else [new_file])} beside {', '.join(m for m in members if m != renamed_top) or 'nothing else'}"
                 if len(member.parts) == 1 else f"layout: {renamed_top}/ with {new_file} and the artifact's other files")
        if not ctx.dry_run:
            os.replace(ctx.image, ctx.image.with_name(new_file))
            if renamed_top != top:
                os.replace(unpacked / top, unpacked / renamed_top)
        with written_by_command(ctx, partial):
            ctx.run(tar_argv(str(unpacked), members[0], str(partial), program) + members[1:])
    else:
        with written_by_command(ctx, partial):
            ctx.run(["cp", "--sparse=always", str(ctx.image), str(partial)])
    if ctx.dry_run:
        for final in names.values():
            ctx.note(f"write {partial_name(final).name}, then rename it to {final}")
        return "dry run"
    write_companions(ctx, names, partial, answers_text=ctx.facts["answers_text"])
    return f"{partial.stat().st_size / 1024**2:,.0f} MB" + (f" with {program}" if survey.kind == "tarball" else ", sparse")
