"""The base cache: keys, misses explained, atomic entries."""

from emi_tui.engine.build.cache import BaseCache, cache_inputs, cache_key


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
