"""Tests for seqgan_tf.datasets: TFDS builders built offline from package data.

Every test passes `data_dir=tmp_path` (never ~/tensorflow_datasets) and runs
with Python sockets disabled, so nothing can be downloaded.
"""

import hashlib
import importlib.resources

import numpy as np
import pytest
import tensorflow_datasets as tfds

from seqgan_tf import datasets
from seqgan_tf import sampler
from seqgan_tf.datasets import builders
from seqgan_tf.models import OracleLSTM

SHA256 = {
    "oracle/target_params.npz": (
        "4f1a3c02bcce12b528caa4f38505393ab6d276c8501b18539b69023e34c433d4"
    ),
    "coco/train.txt": (
        "2c0fd1f0f43aac6a9dc3926a535516ccf395de535e15ac1fd17cd569420736f5"
    ),
    "coco/test.txt": (
        "72e25c9fb4d2cd43182ac602c92f6ffc377762147f9709572943b0b09174bcae"
    ),
    "poems/quatrains.txt": (
        "ac03c5fbb07776f0e43cb1ccfc74732f5313ab3d832df81c8e0db327df35e666"
    ),
}
NUM_QUATRAINS = 16394


# Building datasets must never touch the network.
pytestmark = pytest.mark.usefixtures("no_network")


def _resource(relative):
    return importlib.resources.files("seqgan_tf").joinpath(
        "resources", relative
    )


def _file_lines(relative):
    return _resource(relative).read_text(encoding="utf-8").split("\n")


def _examples(dataset):
    return list(dataset.as_numpy_iterator())


@pytest.mark.parametrize("relative", sorted(SHA256))
def test_shipped_files_match_documented_sha256(relative):
    digest = hashlib.sha256(_resource(relative).read_bytes()).hexdigest()
    assert digest == SHA256[relative]
    readme = _resource("README.md").read_text(encoding="utf-8")
    assert SHA256[relative] in readme


def test_short_names_map_to_prefixed_builders():
    assert datasets.DATASETS == {
        "coco": "seqgan_coco_captions",
        "chinese_quatrains": "seqgan_chinese_quatrains",
        "oracle": "seqgan_oracle_sequences",
        "folk_tunes": "seqgan_folk_tunes",
    }
    # TFDS's own coco_captions is untouched; ours are registered beside it.
    assert tfds.builder_cls("coco_captions") is not datasets.SeqganCocoCaptions
    for name, cls in datasets.BUILDERS.items():
        assert tfds.builder_cls(name) is cls
        assert str(cls.VERSION) == "1.0.0"
        assert "1.0.0" in cls.RELEASE_NOTES


@pytest.mark.slow
def test_coco_small_builds_offline(tmp_path):
    builder = datasets.prepare("coco/small", data_dir=tmp_path)
    assert builder.info.full_name == "seqgan_coco_captions/small/1.0.0"
    assert str(builder.data_dir).startswith(str(tmp_path))
    assert builder.info.citation and builder.info.description
    for split in ("train", "test"):
        examples = _examples(datasets.load("coco/small", split, tmp_path))
        assert len(examples) == 200
        expected = _file_lines(builders.COCO_FILES[split].split("/", 1)[1])
        assert [e["text"].decode("utf-8") for e in examples] == expected[:200]
        assert [int(e["index"]) for e in examples] == list(range(200))
    assert (
        datasets.text_lines(
            "seqgan_coco_captions/small",
            "test",
            data_dir=tmp_path,
            max_lines=3,
        )
        == _file_lines("coco/test.txt")[:3]
    )


@pytest.mark.slow
def test_quatrains_small_follows_the_split_rule(tmp_path):
    builder = datasets.prepare("chinese_quatrains/small", data_dir=tmp_path)
    assert builder.info.splits["train"].num_examples == 180
    assert builder.info.splits["test"].num_examples == 20
    poems = _file_lines("poems/quatrains.txt")
    for split in ("train", "test"):
        examples = _examples(
            datasets.load("chinese_quatrains/small", split, tmp_path)
        )
        indices = [int(e["index"]) for e in examples]
        assert indices == [
            i for i in range(200) if datasets.quatrain_split(i) == split
        ]
        for example, index in zip(examples, indices):
            text = example["text"].decode("utf-8")
            assert text == poems[index]
            assert len(text.split()) == 24


@pytest.mark.slow
def test_quatrains_full_split_counts(tmp_path):
    builder = datasets.prepare("chinese_quatrains", data_dir=tmp_path)
    assert builder.builder_config.name == "full"
    test_count = len(range(0, NUM_QUATRAINS, 10))
    assert test_count == 1640
    assert builder.info.splits["test"].num_examples == test_count
    assert builder.info.splits["train"].num_examples == NUM_QUATRAINS - 1640


@pytest.mark.slow
def test_oracle_tiny_matches_sample_many(tmp_path):
    examples = _examples(datasets.load("oracle/tiny", "train", tmp_path))
    tokens = np.stack([e["tokens"] for e in examples])
    assert tokens.shape == (64, 20)
    assert tokens.dtype == np.int32
    assert tokens.min() >= 0 and tokens.max() < 5000
    expected = sampler.sample_many(OracleLSTM.from_paper(), 64, seed=(88, 0))
    np.testing.assert_array_equal(tokens, expected)


def test_custom_size_config(tmp_path):
    config = datasets.TextConfig(name="first_7", max_examples=7)
    builder = datasets.SeqganCocoCaptions(config=config, data_dir=tmp_path)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False)
    )
    assert builder.info.splits["train"].num_examples == 7


def test_prepared_dataset_is_reused(tmp_path):
    datasets.prepare("coco/small", data_dir=tmp_path)
    assert datasets.builder("coco/small", data_dir=tmp_path).is_prepared()


def test_unknown_tfds_dataset_gives_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no_such_dataset_xyz.*not found"):
        datasets.text_lines("no_such_dataset_xyz", "train", data_dir=tmp_path)


def test_unprepared_tfds_dataset_is_not_downloaded(tmp_path):
    with pytest.raises(ValueError, match="'imdb_reviews' is not prepared"):
        datasets.load("imdb_reviews", "train", data_dir=tmp_path)
    assert not (tmp_path / "imdb_reviews").exists()
    assert not (tmp_path / "downloads").exists()


def test_namespaced_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="huggingface:foo"):
        datasets.load("huggingface:foo", "train", data_dir=tmp_path)


@pytest.mark.slow
def test_bad_config_split_and_text_key(tmp_path):
    with pytest.raises(ValueError, match="unknown config 'huge'"):
        datasets.load("coco/huge", "train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="no split 'test'; splits: train"):
        datasets.load("oracle/tiny", "test", data_dir=tmp_path)
    with pytest.raises(ValueError, match="no feature 'text'; features: tokens"):
        datasets.text_lines("oracle/tiny", "train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="not a text"):
        datasets.text_lines(
            "coco/small", "train", data_dir=tmp_path, text_key="index"
        )
