"""The build screen over the fake build: steps, live log, cancel, failure, retry, batching."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

# fake_build sits beside this file; importing it by folder keeps working whatever tests/ becomes.
sys.path.insert(0, str(Path(__file__).parent))

from fake_build import LOG_PATH, FakeBuild, async_test, wait_for
from fake_build import build_screen_app as make_app
from fake_build import static_text as text_of
from textual.widgets import ProgressBar

from emi_tui.engine.run.events import OutputLine
from emi_tui.tui.screens.job.confirm_cancel import ConfirmCancel
from emi_tui.tui.screens.job.done import DoneScreen
from emi_tui.tui.widgets.log_view import FOLLOWING, PAUSED, LogView
from emi_tui.tui.workers.build_worker import EventBatcher


@async_test
async def test_a_good_build_shows_every_step_done_then_the_done_screen():
    fake = FakeBuild(lines_per_step=5)
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        screen = app.screen_under_test
        assert screen.status == "done"
        assert [row.state for row in screen._rows.values()] == ["done"] * 8
        assert screen.query_one(ProgressBar).percentage == 1.0
        log = screen.query_one(LogView)
        assert log.line_count == fake.emitted_lines == 40
        assert log.lines[0].startswith("preflight") and "│ running as root" in log.lines[0]
        assert fake.calls[0].retry is False and fake.calls[0].dry_run is False


@async_test
async def test_the_log_follows_the_tail_pauses_on_scroll_up_and_resumes_at_the_bottom():
    fake = FakeBuild(lines_per_step=40, hold_at="zerofree")
    app = make_app(fake)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: fake.holding.is_set() and app.screen_under_test.lines_received >= 7 * 40)
        screen = app.screen_under_test
        log = screen.query_one(LogView)
        assert log.following and log.scroll_y == log.max_scroll_y > 0
        assert log.border_subtitle == FOLLOWING

        log.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert not log.following and log.border_subtitle == PAUSED
        where = log.scroll_y
        # New lines while paused leave the reader where they are.
        log.add_lines([f"extra {n}" for n in range(50)])
        await pilot.pause()
        assert log.scroll_y == where and not log.following
        assert any(b.binding.action == "follow_log" and b.enabled for b in screen.active_bindings.values())

        await pilot.press("end")
        await pilot.pause()
        assert log.following and log.scroll_y == log.max_scroll_y
        assert log.border_subtitle == FOLLOWING

        await pilot.press("up")
        await pilot.pause()
        assert not log.following
        await pilot.press("f")  # the screen's "Follow log" binding
        await pilot.pause()
        assert log.following and log.scroll_y == log.max_scroll_y


@async_test
async def test_cancel_asks_first_then_sets_the_event_and_shows_cancelled():
    fake = FakeBuild(hold_at="chroot")
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, fake.holding.is_set)
        screen = app.screen_under_test
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmCancel)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and not screen._cancel.is_set() and screen.status == "running"

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmCancel)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.status == "cancelled")
        assert screen._cancel.is_set()
        assert screen._rows["chroot"].state == "cancelled"
        assert screen.query_one("#failure").has_class("-shown", "-cancelled")
        assert "cancelled during step chroot" in text_of(screen, "#failure-text")


@async_test
async def test_a_failure_names_the_step_its_last_lines_and_the_log():
    fake = FakeBuild(lines_per_step=6, fail_at="chroot")
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen_under_test.status == "failed")
        screen = app.screen_under_test
        assert screen._rows["chroot"].state == "failed"
        assert [screen._rows[s].state for s in ("preflight", "bootstrap", "hygiene")] == ["done", "done", "pending"]
        assert "step chroot failed: apt-get install exited with status 100" in text_of(screen, "#failure-text")
        assert "Unable to locate package" in text_of(screen, "#failure-text")
        tail = text_of(screen, "#failure-tail")
        assert "last lines of chroot" in tail and "Setting up curl" in tail
        assert str(LOG_PATH) in text_of(screen, "#failure-log")
        keys = {b.binding.action: key for key, b in screen.active_bindings.items()}
        assert keys["retry"] == "r" and keys["back"] == "escape" and "cancel_build" not in keys


@async_test
async def test_retry_by_mouse_reruns_with_retry_true_and_reaches_the_done_screen():
    fake = FakeBuild(fail_at="chroot")
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen_under_test.status == "failed")
        await pilot.click("#retry")
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        assert [options.retry for options in fake.calls] == [False, True]
        screen = app.screen_under_test
        assert not screen.query_one("#failure").has_class("-shown")
        assert any("retry: starting again" in line for line in screen.query_one(LogView).lines)


@async_test
async def test_retry_by_key_and_back_to_summary():
    fake = FakeBuild(fail_at="bootstrap", fail_times=2)
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen_under_test
        await wait_for(pilot, lambda: screen.status == "failed")
        await pilot.press("r")
        await wait_for(pilot, lambda: len(fake.calls) == 2 and screen.status == "failed")
        assert fake.calls[1].retry is True
        await pilot.press("escape")
        await pilot.pause()
        assert app.dismissed == ["failed"] and app.screen is not screen


@async_test
async def test_ten_thousand_lines_arrive_batched_and_none_is_lost():
    fake = FakeBuild(lines_per_step=1250)
    app = make_app(fake, max_log_lines=20_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        screen = app.screen_under_test
        assert fake.emitted_lines == screen.lines_received == 10_000
        assert screen.query_one(LogView).line_count == 10_000
        # At most one message per 50 lines on average (in practice a handful of large batches).
        assert screen.batches_received <= 10_000 / 50


@async_test
async def test_the_log_keeps_only_its_line_limit():
    fake = FakeBuild(lines_per_step=250)
    app = make_app(fake, max_log_lines=500)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        log = app.screen_under_test.query_one(LogView)
        assert log.lines_received == 2000 and log.line_count == 500
        assert log.lines[-1].startswith("package")


@async_test
async def test_a_runner_that_raises_is_shown_as_a_failure_not_lost():
    def broken(answers, recipe, sink, cancel, options, answers_path=None):
        raise RuntimeError("mke2fs vanished")

    app = make_app(broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen_under_test.status == "failed")
        assert "RuntimeError: mke2fs vanished" in text_of(app.screen_under_test, "#failure-text")


@async_test
async def test_a_dry_run_says_so_and_ends_on_the_done_screen():
    fake = FakeBuild()
    app = make_app(fake, dry_run=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DoneScreen))
        assert fake.calls[0].dry_run is True and app.screen.dry_run
        assert app.screen_under_test.sub_title.startswith("Dry run of")


def test_the_batcher_holds_the_build_back_until_the_screen_acknowledges():
    delivered: list[list] = []
    unacked: list = []
    arrived = threading.Condition()
    auto_ack = threading.Event()

    def deliver(events, ack):
        with arrived:
            delivered.append(events)
            if auto_ack.is_set():
                ack()
            else:
                unacked.append(ack)
            arrived.notify_all()
        return True

    batcher = EventBatcher(deliver, interval=0.01, max_batch=50, max_buffer=100, max_in_flight=1).start()
    sent: list[int] = []

    def build():
        for n in range(1000):
            batcher(OutputLine("chroot", str(n)))
            sent.append(n)

    producer = threading.Thread(target=build)
    producer.start()
    with arrived:
        assert arrived.wait_for(lambda: delivered, timeout=60)  # a hang guard
    producer.join(timeout=0.3)
    # One batch in flight and a full buffer: the build waits instead of piling up events.
    assert producer.is_alive() and len(sent) <= 50 + 100 + 1 and len(delivered) == 1

    auto_ack.set()
    with arrived:
        pending = list(unacked)
    for ack in pending:
        ack()
        ack()  # a second ack of the same batch must not open extra room
    producer.join(timeout=60)  # a hang guard
    assert not producer.is_alive()
    batcher.close()
    texts = [event.text for batch in delivered for event in batch]
    assert texts == [str(n) for n in range(1000)]
    assert all(len(batch) <= 50 for batch in delivered) and batcher.peak_buffer <= 100
