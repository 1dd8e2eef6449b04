"""The vector cache by text (graph/embed.py): sharded by the key's first byte, so a look-up reads only
the shards of the texts asked for, and a cache kept in one file (before the shards) is carried over."""
from __future__ import annotations

import numpy as np
import pytest

from wsiskg.graph import embed

TEXTS = [f"Statement {n} on meaningful connectivity and digital skills in region {n}." for n in range(40)]


@pytest.fixture
def model():
    loaded = embed.load_model()
    if loaded is None:
        pytest.skip("no embedding model installed (TF-IDF fallback)")
    loaded.fresh.clear()  # what this process has embedded: cleared, so a cache miss shows as an encode
    return loaded


def shard_files(root, model) -> set[str]:
    return {p.name for p in embed.cache_path(root, model).glob("*.npz")}


def test_texts_are_cached_in_the_shards_of_their_keys_and_read_back_without_encoding(tmp_path, model):
    first = embed.vectors_for(TEXTS, model, tmp_path)
    expected = {f"{embed.text_key(t)[0]:02x}.npz" for t in TEXTS}
    assert shard_files(tmp_path, model) == expected and len(expected) > 20
    model.fresh.clear()
    again = embed.vectors_for(TEXTS[::-1], model, tmp_path)
    assert model.fresh == {}, "texts in the cache were embedded again"
    assert np.array_equal(again, first[::-1])
    # a build prunes the cache to the texts it sees: shards left with none are deleted
    embed.vectors_for(TEXTS[:3], model, tmp_path, prune=True)
    assert shard_files(tmp_path, model) == {f"{embed.text_key(t)[0]:02x}.npz" for t in TEXTS[:3]}
    assert model.fresh == {}


def test_a_cache_kept_in_one_file_is_split_into_shards_once(tmp_path, model):
    vectors = embed.vectors_for(TEXTS, model, tmp_path / "before")
    cache = {embed.text_key(t): v for t, v in zip(TEXTS, vectors)}
    single = embed.cache_path(tmp_path, model).with_suffix(".npz")
    embed._write_cache(single, model, cache)  # the layout before the shards
    model.fresh.clear()
    assert np.array_equal(embed.vectors_for(TEXTS, model, tmp_path), vectors)
    assert model.fresh == {} and not single.exists()
    assert shard_files(tmp_path, model) == shard_files(tmp_path / "before", model)
