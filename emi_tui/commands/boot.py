"""`emi-tui metadata-serve` and `emi-tui boot-test ARTIFACT`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from emi_tui.commands.console import err, out, safe_text
from emi_tui.engine.boot.boottest import BootTest, Check, require_tools
from emi_tui.engine.boot.metadata_service import InstanceData, MetadataServer
from emi_tui.engine.errors import EmiError, ExitCode
from emi_tui.engine.sizes import SizeError, parse_size


def _read(path: Path | None, what: str) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EmiError(f"cannot read the {what} file {path}: {exc.strerror}", hint=f"give an existing {what} file") from None


#: What each --imds mode means, in the words of the service's first line.
IMDS_WORDS = {
    "v1": "IMDSv1 only: no session tokens, the token request gets 405",
    "v2": "IMDSv2: session tokens offered, requests without one answered too",
    "v2-required": "IMDSv2 required: requests without a session token get 401",
}


def serve(port: int, key: Path | None, user_data: Path | None, hostname: str, imds: str = "v2") -> ExitCode:
    data = InstanceData(public_key=_read(key, "key").decode(errors="replace"), user_data=_read(user_data, "user-data"), hostname=hostname)
    try:
        server = MetadataServer(data, port=port, log=lambda line: out.print(safe_text(line)), imds=imds)
    except OSError as exc:
        raise EmiError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", hint="choose another --port") from None
    with server:
        out.print(f"metadata service on http://127.0.0.1:{server.port}/latest/meta-data/, {IMDS_WORDS[imds]} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.print("stopped")
    return ExitCode.OK


def _root_size(text: str | None) -> int | None:
    """The bytes of --root-size, or None when it is not given."""
    if text is None:
        return None
    try:
        return parse_size(text)
    except SizeError as exc:
        raise EmiError(f"--root-size: {exc}", hint="give the root disk's size, such as --root-size 4G") from None


def boot_test(artifact: Path, kernel: Path | None, ramdisk: Path | None, ssh_user: str, timeout: float, accel: str, verbose: bool,
              imds: str = "v2", root_size: str | None = None) -> ExitCode:
    size = _root_size(root_size)
    require_tools(None)  # QEMU itself is checked once the artifact has said its arch
    began = time.monotonic()

    def on_check(check: Check) -> None:
        mark = ("pass", "green") if check.passed else ("FAIL", "red")
        at = f"{check.seconds:5.1f}s" if check.seconds is not None else "     "
        # A check's detail may quote the guest (a console line, /etc/image-id): shown, never markup.
        out.print(safe_text(mark, f" {at}  {check.name}  ", (check.detail, "dim")))

    def on_line(line: str) -> None:
        if verbose or line.startswith(("emi-rc.local", "KVM")):
            out.print(safe_text((line, "dim")))  # the guest's words, never markup

    cancel = threading.Event()
    test = BootTest(artifact, kernel=kernel, ramdisk=ramdisk, ssh_user=ssh_user, timeout=timeout, accel=accel,
                    on_line=on_line, on_check=on_check, cancel=cancel, imds=imds, root_size=size)
    try:
        report = test.run()
    except KeyboardInterrupt:
        cancel.set()
        err.print("boot test interrupted; QEMU stopped and temporary files removed")
        return ExitCode.CANCELLED
    for note in report.notes:
        out.print(safe_text(f"note: {note}"))
    for check in report.checks:
        if not check.passed and not check.detail:
            out.print(f"[red]FAIL[/]         {check.name}  [dim]not reached[/]")
    passed = sum(c.passed for c in report.checks)
    summary = f"{passed}/{len(report.checks)} checks passed under {report.accel.upper()} in {time.monotonic() - began:.0f}s; console log: {report.console_log}"
    verdict = ("boot test passed", "green") if report.ok else ("boot test failed", "bold red")
    (out if report.ok else err).print(safe_text(verdict, ": ", summary))
    return ExitCode.OK if report.ok else ExitCode.FAILED
