"""The base cache: keys, misses explained, atomic entries, a lock whose wait a cancel ends."""

import threading

import pytest

from emi_tui.engine.build.cache import BaseCache, cache_inputs, cache_key
from emi_tui.engine.run.runner import Cancelled


def _inputs(**change):
    values = dict(recipe_name="debian-based", release="bookworm", arch="x86_64", mirror="http://mirror.example/debian",
                  base_packages=["udev", "curl"], tool="debootstrap", version="debootstrap 1.0")
    values.update(change)
    return cache_inputs(**values)


def test_the_key_changes_with_every_input_that_changes_the_base():
    base = cache_key(_inputs())
    assert cache_key(_inputs(base_packages=["curl", "udev"])) == base  # order does not matter
    for change in (dict(release="trixie"), dict(arch="aarch64"), dict(mirror="http://other.example/debian"),
                   dict(base_packages=["udev"]), dict(version="debootstrap 1.1"), dict(recipe_name="ubuntu-based")):
        assert cache_key(_inputs(**change)) != base, change


def test_commit_lookup_explain_and_clear(tmp_path):
    cache = BaseCache(tmp_path)
    inputs = _inputs()
    key = cache_key(inputs)
    assert cache.lookup(key) is None
    assert cache.explain_miss(inputs) == "the cache is empty"
    partial = cache.temporary_tarball(key)
    partial.write_bytes(b"base")
    entry = cache.commit(key, partial, inputs)
    assert entry.tarball.read_bytes() == b"base" and not partial.exists()
    assert [e.key for e in cache.entries()] == [key]
    other = _inputs(release="trixie")
    assert cache.explain_miss(other) == f"closest cached base {key} differs in: release"
    assert cache.clear() > 0
    assert cache.entries() == []


def test_a_partial_without_metadata_is_not_an_entry(tmp_path):
    cache = BaseCache(tmp_path)
    cache.tarball("abc").write_bytes(b"half")
    assert cache.lookup("abc") is None


def test_a_wait_for_a_held_base_says_so_and_ends_when_cancelled(tmp_path):
    # A catalog's second image waits on the build that bootstraps its base: Cancel must not wait for that build too.
    cache = BaseCache(tmp_path)
    release_first = cache.lock("k")
    cancel, told, outcome = threading.Event(), [], []

    def second() -> None:
        try:
            cache.lock("k", cancel, lambda: told.append("waiting"))()
            outcome.append("got the lock")
        except Cancelled as error:
            outcome.append(str(error))

    waiter = threading.Thread(target=second)
    waiter.start()
    for _ in range(100):  # the waiter says it waits before the cancel: a bounded look, no fixed sleep
        if told:
            break
        threading.Event().wait(0.05)
    assert told == ["waiting"] and outcome == []
    cancel.set()
    waiter.join(5)
    assert not waiter.is_alive() and outcome == ["cancelled while waiting for another build to store the same base"]
    release_first()
    # The lock was never taken by the cancelled waiter: the next build gets it at once, without waiting.
    again = []
    cache.lock("k", threading.Event(), lambda: again.append("waiting"))()
    assert again == []
    with pytest.raises(Cancelled):
        held = cache.lock("k")
        try:
            stop = threading.Event()
            stop.set()
            cache.lock("k", stop)
        finally:
            held()


def test_a_free_base_lock_is_taken_without_a_word(tmp_path):
    told = []
    release = BaseCache(tmp_path).lock("k", threading.Event(), lambda: told.append("waiting"))
    release()
    release()  # twice is harmless: the writer and the failure path may both release
    assert told == []
