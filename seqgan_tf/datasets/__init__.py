"""TFDS datasets for SeqGAN, built offline from the package's own files.

Short name -> registered TFDS builder (prefixed so as not to clobber TFDS's
own `coco_captions`):

| short name | TFDS name | configs | splits |
|---|---|---|---|
| coco | seqgan_coco_captions | full, small | train, test |
| chinese_quatrains | seqgan_chinese_quatrains | full, small | train, test |
| oracle | seqgan_oracle_sequences | paper, tiny | train |
| folk_tunes | seqgan_folk_tunes | full, small | train, test |

See `seqgan_tf.datasets.builders` for the features, sizes and the fixed
quatrain split, and `seqgan_tf.datasets.folk_tunes` for the folk tunes
(parsed from music21's corpus at build time: building them needs the
optional `pip install "seqgan-tf[music]"`).

`load(name, split)` builds one of these if it is not prepared yet (never
downloading anything) and returns a `tf.data.Dataset`; it also reads any
other TFDS dataset, but only if it is already prepared in `data_dir`.
`text_lines(name, split, text_key=...)` returns a split's texts as Python
strings, for tokenising with `seqgan_tf.data`.

Example:

```python
from seqgan_tf import datasets

ds = datasets.load("coco", "train", data_dir="/tmp/tfds")  # dict(text, index)
lines = datasets.text_lines("chinese_quatrains/small", "test")
```
"""

import numpy as np
import tensorflow_datasets as tfds

from seqgan_tf.datasets.builders import OracleConfig
from seqgan_tf.datasets.builders import SeqganChineseQuatrains
from seqgan_tf.datasets.builders import SeqganCocoCaptions
from seqgan_tf.datasets.builders import SeqganOracleSequences
from seqgan_tf.datasets.builders import TextConfig
from seqgan_tf.datasets.builders import quatrain_split
from seqgan_tf.datasets.folk_tunes import SeqganFolkTunes
from seqgan_tf.datasets.folk_tunes import folk_tune_split

# User-facing short name -> registered TFDS name.
DATASETS = {
    "coco": SeqganCocoCaptions.name,
    "chinese_quatrains": SeqganChineseQuatrains.name,
    "oracle": SeqganOracleSequences.name,
    "folk_tunes": SeqganFolkTunes.name,
}
BUILDERS = {
    SeqganCocoCaptions.name: SeqganCocoCaptions,
    SeqganChineseQuatrains.name: SeqganChineseQuatrains,
    SeqganOracleSequences.name: SeqganOracleSequences,
    SeqganFolkTunes.name: SeqganFolkTunes,
}


def _offline_download_config():
    return tfds.download.DownloadConfig(
        try_download_gcs=False,
        compute_stats=tfds.download.ComputeStatsMode.SKIP,
        download_mode=tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS,
    )


def _split_name(name):
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"A dataset name must be a non-empty string, got {name!r}."
        )
    base, _, config = name.strip().partition("/")
    return base, (config or None)


def is_seqgan_dataset(name):
    """True if `name` (optionally "NAME/CONFIG") is one of this package's."""
    base, _ = _split_name(name)
    return base in DATASETS or base in BUILDERS


def builder(name, data_dir=None):
    """The (not necessarily prepared) TFDS builder of one of our datasets,
    by short or TFDS name, optionally with "/CONFIG"."""
    base, config = _split_name(name)
    tfds_name = DATASETS.get(base, base)
    if tfds_name not in BUILDERS:
        raise ValueError(
            f"{name!r} is not a seqgan_tf dataset; known: "
            f"{', '.join(sorted(DATASETS))} "
            f"(or {', '.join(sorted(BUILDERS))})."
        )
    cls = BUILDERS[tfds_name]
    if config is not None and config not in cls.builder_configs:
        raise ValueError(
            f"Dataset {name!r}: unknown config {config!r}; known: "
            f"{', '.join(cls.builder_configs)}."
        )
    return cls(config=config, data_dir=data_dir)


def prepare(name, data_dir=None):
    """Builds one of our datasets offline if needed; returns its builder."""
    dataset_builder = builder(name, data_dir=data_dir)
    if not dataset_builder.is_prepared():
        dataset_builder.download_and_prepare(
            download_config=_offline_download_config()
        )
    return dataset_builder


def _prepared_external_builder(name, data_dir):
    """The builder of a TFDS dataset that must already be prepared locally."""
    base, _ = _split_name(name)
    where = data_dir if data_dir is not None else "the default TFDS data_dir"
    if ":" in base:
        raise ValueError(
            f"TFDS dataset {name!r}: community/namespaced datasets "
            "('namespace:name') are not supported; prepare the dataset "
            "locally and pass its plain name."
        )
    try:
        dataset_builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise ValueError(
            f"TFDS dataset {name!r} not found: it is neither a TFDS builder "
            f"nor prepared in {where}. seqgan_tf never downloads TFDS data; "
            "check the name, or prepare the dataset first and pass the "
            "data_dir it was prepared in. "
            f"(TFDS: {str(error).splitlines()[0]})"
        ) from error
    except Exception as error:  # missing extras, bad builder kwargs, ...
        raise ValueError(
            f"TFDS dataset {name!r} is not available locally in {where}: "
            f"{error}. seqgan_tf never downloads TFDS data; prepare it first, "
            f"e.g. `tfds build {base}`, or pass its data_dir."
        ) from error
    if not dataset_builder.is_prepared():
        raise ValueError(
            f"TFDS dataset {name!r} is not prepared in {where} "
            f"(looked for {dataset_builder.data_dir}). seqgan_tf never "
            "downloads TFDS data; prepare it first, e.g. "
            f"`tfds build {base}`, or pass the data_dir it was prepared in."
        )
    return dataset_builder


def get_prepared_builder(name, data_dir=None):
    """A prepared builder: ours are built offline if needed; any other TFDS
    dataset must already be prepared in `data_dir` (ValueError otherwise)."""
    if is_seqgan_dataset(name):
        return prepare(name, data_dir=data_dir)
    return _prepared_external_builder(name, data_dir)


def _check_split(dataset_builder, name, split):
    splits = dataset_builder.info.splits
    if not isinstance(split, str):
        raise ValueError(
            f"Dataset {name!r}: `split` must be a string, got {split!r}."
        )
    plain = split.isidentifier()
    if plain and split not in splits:
        raise ValueError(
            f"Dataset {name!r} has no split {split!r}; splits: "
            f"{', '.join(sorted(splits))}."
        )


def load(name, split, data_dir=None, shuffle_files=False):
    """`split` of dataset `name` as a `tf.data.Dataset` of feature dicts.

    Args:
        name: a short name ("coco", "chinese_quatrains", "oracle",
            "folk_tunes"), a TFDS name of ours, either optionally with
            "/CONFIG" ("coco/small"), or any other TFDS dataset already
            prepared in `data_dir`.
        split: a split name or TFDS slice ("train", "test[:10%]").
        data_dir: the TFDS data directory (None: TFDS's default).
        shuffle_files: passed to `as_dataset`.

    Raises:
        ValueError: unknown dataset, config or split, or a dataset not of
            this package that is not prepared locally (nothing is downloaded).
    """
    dataset_builder = get_prepared_builder(name, data_dir=data_dir)
    _check_split(dataset_builder, name, split)
    return dataset_builder.as_dataset(split=split, shuffle_files=shuffle_files)


def text_lines(name, split, data_dir=None, text_key="text", max_lines=None):
    """The texts of `split` of a TFDS text dataset, as a list of `str`.

    `name` as for `load`. `text_key` names the string feature holding the
    text (e.g. "text", or "sentence" for glue/sst2). `max_lines` keeps only
    the first lines.

    Raises:
        ValueError: as `load`, or `text_key` is not a string feature.
    """
    dataset_builder = get_prepared_builder(name, data_dir=data_dir)
    _check_split(dataset_builder, name, split)
    features = dataset_builder.info.features
    keys = list(features.keys()) if hasattr(features, "keys") else []
    if text_key not in keys:
        raise ValueError(
            f"Dataset {name!r} has no feature {text_key!r}; features: "
            f"{', '.join(keys) or '(none)'}. Pass the text feature's name."
        )
    feature = features[text_key]
    text_dtype = np.dtype(object)  # TFDS stores strings as NumPy objects.
    if getattr(feature, "shape", None) != () or feature.np_dtype != text_dtype:
        raise ValueError(
            f"Dataset {name!r}: feature {text_key!r} is not a text (string "
            f"scalar) feature: {feature!r}."
        )
    dataset = dataset_builder.as_dataset(split=split).map(
        lambda example: example[text_key]
    )
    if max_lines is not None:
        dataset = dataset.take(max_lines)
    return [value.decode("utf-8") for value in dataset.as_numpy_iterator()]


__all__ = [
    "BUILDERS",
    "DATASETS",
    "OracleConfig",
    "SeqganChineseQuatrains",
    "SeqganCocoCaptions",
    "SeqganFolkTunes",
    "SeqganOracleSequences",
    "TextConfig",
    "builder",
    "folk_tune_split",
    "get_prepared_builder",
    "is_seqgan_dataset",
    "load",
    "prepare",
    "quatrain_split",
    "text_lines",
]
