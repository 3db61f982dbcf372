"""TFDS builders for the SeqGAN data, built offline from package files.

Every builder reads files shipped in `seqgan_tf/resources/` (through
`importlib.resources`) or samples the shipped oracle: nothing is ever
downloaded and the download manager is unused.

The builders are registered under prefixed names so that they never clobber
TFDS's own catalogue (which already has a `coco_captions`):

| registered name | configs (default first) | splits | feature(s) |
|---|---|---|---|
| seqgan_coco_captions | full, small | train, test | text, index |
| seqgan_chinese_quatrains | full, small | train, test | text, index |
| seqgan_oracle_sequences | paper, tiny | train | tokens |

Examples per split (train / test) of each config:

| registered name | examples |
|---|---|
| seqgan_coco_captions | full 10,000 / 10,000, small 200 / 200 |
| seqgan_chinese_quatrains | full 14,754 / 1,640, small 180 / 20 |
| seqgan_oracle_sequences | paper 9,984, tiny 64 (train only) |

Sizes other than the shipped configs: pass a config object, e.g.
`SeqganCocoCaptions(config=TextConfig(name="first_1000", max_examples=1000))`
or `SeqganOracleSequences(config=OracleConfig(name="n100k",
num_sequences=100_000))`;
the config name becomes part of the prepared data's directory, so give every
size its own name.

The folk-tune corpus of the paper's music task is built by
`seqgan_tf.datasets.folk_tunes` (it needs music21: the `[music]` extra).
"""

import dataclasses
import importlib.resources
import inspect

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from seqgan_tf import paper

RESOURCE_PACKAGE = "seqgan_tf"
COCO_FILES = {
    "train": "resources/coco/train.txt",
    "test": "resources/coco/test.txt",
}
QUATRAINS_FILE = "resources/poems/quatrains.txt"
QUATRAINS_TEST_EVERY = 10  # poem i goes to test iff i % 10 == 0.
ORACLE_SEED = (88, 0)  # the CLI's real-data seed: (config.seed=88, 0).

_HOMEPAGE = "https://github.com/LantaoYu/SeqGAN"
_SEQGAN_CITATION = r"""
@inproceedings{yu2017seqgan,
  title={SeqGAN: Sequence Generative Adversarial Nets with Policy Gradient},
  author={Yu, Lantao and Zhang, Weinan and Wang, Jun and Yu, Yong},
  booktitle={Proceedings of the AAAI Conference on Artificial Intelligence},
  volume={31},
  number={1},
  year={2017}
}
"""
_TEXYGEN_CITATION = r"""
@inproceedings{zhu2018texygen,
  title={Texygen: A Benchmarking Platform for Text Generation Models},
  author={Zhu, Yaoming and Lu, Sidi and Zheng, Lei and Guo, Jiaxian and
          Zhang, Weinan and Wang, Jun and Yu, Yong},
  booktitle={The 41st International ACM SIGIR Conference on Research \&
             Development in Information Retrieval},
  pages={1097--1100},
  year={2018}
}
"""
_COCO_CITATION = r"""
@inproceedings{lin2014microsoft,
  title={Microsoft COCO: Common Objects in Context},
  author={Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James
          and Perona, Pietro and Ramanan, Deva and Doll{\'a}r, Piotr and
          Zitnick, C. Lawrence},
  booktitle={European Conference on Computer Vision (ECCV)},
  pages={740--755},
  year={2014}
}
"""
_RELEASE_NOTES = {"1.0.0": "Initial release: built offline from package data."}


@dataclasses.dataclass(eq=False)
class TextConfig(tfds.core.BuilderConfig):
    """Config of the text builders: `max_examples` keeps the first lines of
    each source file (None: all of them)."""

    max_examples: int | None = None


@dataclasses.dataclass(eq=False)
class OracleConfig(tfds.core.BuilderConfig):
    """Config of `SeqganOracleSequences`: number of sequences and the seed."""

    num_sequences: int = paper.NUM_REAL
    seed: tuple = ORACLE_SEED


def resource_lines(relative_path, max_examples=None):
    """Lines of a shipped text file, line terminators removed, otherwise as in
    the file (trailing spaces kept); a final empty line is not a line."""
    resource = importlib.resources.files(RESOURCE_PACKAGE).joinpath(
        relative_path
    )
    text = resource.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    if max_examples is not None:
        lines = lines[:max_examples]
    return lines


def _check_max_examples(config):
    value = config.max_examples
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or value < 1
    ):
        raise ValueError(
            f"`max_examples` must be None or an int >= 1, got {value!r} "
            f"(config {config.name!r})."
        )


class _OfflineBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Base of the builders here (not registered itself).

    Overrides `code_path`: TFDS 4.9.10's own implementation imports the
    `importlib_resources` backport, which TFDS does not declare as a
    dependency, so building a dataset defined outside TFDS fails without it.
    """

    @tfds.core.utils.classproperty
    @classmethod
    def code_path(cls):
        try:
            return epath.Path(inspect.getfile(cls))
        except (TypeError, OSError):
            return None


def _text_features():
    return tfds.features.FeaturesDict(
        {
            "text": tfds.features.Text(),
            "index": tfds.features.Scalar(
                dtype=np.int32, doc="0-based line number in the source file"
            ),
        }
    )


class SeqganCocoCaptions(_OfflineBuilder):
    """MS COCO image captions, the Texygen 10,000 / 10,000 train/test split.

    Features: `text` (the caption, a line of the shipped file as it is:
    lowercase, untokenised) and `index` (its 0-based line number).

    Configs: `full` (default; 10,000 train, 10,000 test) and `small` (the
    first 200 lines of each file: 200 train, 200 test). Keys are the line
    numbers; shuffling is disabled, so the example order is the file's.
    """

    name = "seqgan_coco_captions"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = _RELEASE_NOTES
    BUILDER_CONFIGS = [
        TextConfig(name="full", description="All 10,000 + 10,000 captions."),
        TextConfig(
            name="small",
            max_examples=200,
            description="The first 200 captions of each split (tests).",
        ),
    ]
    DEFAULT_BUILDER_CONFIG_NAME = "full"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "MS COCO image captions as used by Texygen and later text-GAN "
                "work: lowercase, one caption a line, 10,000 for training "
                "(Texygen data/image_coco.txt) and 10,000 for testing "
                "(data/testdata/test_coco.txt). Licence: CC BY 4.0 "
                "(cocodataset.org). Built offline from the copies shipped "
                "in seqgan_tf/resources/coco/."
            ),
            features=_text_features(),
            supervised_keys=None,
            disable_shuffling=True,  # Keep the source order.
            homepage="https://github.com/geek-ai/Texygen",
            citation=_COCO_CITATION + _TEXYGEN_CITATION,
            license="CC BY 4.0",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Offline: everything is in the package.
        _check_max_examples(self.builder_config)
        return {
            split: self._generate_examples(path)
            for split, path in COCO_FILES.items()
        }

    def _generate_examples(self, path):
        lines = resource_lines(path, self.builder_config.max_examples)
        for index, line in enumerate(lines):
            yield index, {"text": line, "index": index}


def quatrain_split(index):
    """The fixed split of the poem on line `index` (0-based) of the file."""
    return "test" if index % QUATRAINS_TEST_EVERY == 0 else "train"


class SeqganChineseQuatrains(_OfflineBuilder):
    """16,394 classical Chinese five-character quatrains (SeqGAN's poems).

    Features: `text` (a poem, a line of the shipped file as it is: 24
    space-separated characters including the punctuation, with the file's
    trailing space) and `index` (its 0-based line number).

    Fixed split: the poem on line i goes to `test` if i % 10 == 0, else to
    `train`. Configs: `full` (default; 14,754 train, 1,640 test) and `small`
    (the first 200 poems, split by the same rule: 180 train, 20 test).
    Keys are the line numbers; examples keep the file's order.
    """

    name = "seqgan_chinese_quatrains"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = _RELEASE_NOTES
    BUILDER_CONFIGS = [
        TextConfig(name="full", description="All 16,394 poems."),
        TextConfig(
            name="small",
            max_examples=200,
            description="The first 200 poems (tests).",
        ),
    ]
    DEFAULT_BUILDER_CONFIG_NAME = "full"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "16,394 classical Chinese five-character quatrains, "
                "characters separated by spaces, punctuation kept (24 tokens "
                "a poem): the corpus size of the SeqGAN paper's poem "
                "experiment (Texygen data/shi.txt). Public domain. Fixed "
                "split: line i (0-based) is a test poem iff i % 10 == 0 "
                "(1,640 test, 14,754 train). Built offline from the copy "
                "shipped in seqgan_tf/resources/poems/."
            ),
            features=_text_features(),
            supervised_keys=None,
            disable_shuffling=True,  # Keep the source order.
            homepage="https://github.com/geek-ai/Texygen",
            citation=_SEQGAN_CITATION + _TEXYGEN_CITATION,
            license="Public domain",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Offline: everything is in the package.
        _check_max_examples(self.builder_config)
        return {
            split: self._generate_examples(split) for split in ("train", "test")
        }

    def _generate_examples(self, split):
        lines = resource_lines(QUATRAINS_FILE, self.builder_config.max_examples)
        for index, line in enumerate(lines):
            if quatrain_split(index) == split:
                yield index, {"text": line, "index": index}


class SeqganOracleSequences(_OfflineBuilder):
    """Synthetic data of the SeqGAN paper: sequences of the authors' oracle.

    Feature: `tokens`, int32 [20] in [0, 5000). The sequences are
    `seqgan_tf.sampler.sample_many(OracleLSTM.from_paper(), num_sequences,
    seed=(88, 0))` — the same array `seqgan-tf train` samples as its real
    data with the default seed 88 — sampled in chunks of 4,096. Single split
    `train`; keys are the row numbers and the examples keep the array's
    order.

    Configs: `paper` (default; 9,984 sequences, the authors' code) and
    `tiny` (64 sequences, tests). A tiny set is not a prefix of the paper
    set (each chunk's randomness depends on its size).
    """

    name = "seqgan_oracle_sequences"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = _RELEASE_NOTES
    BUILDER_CONFIGS = [
        OracleConfig(name="paper", description="9,984 sequences."),
        OracleConfig(name="tiny", num_sequences=64, description="64 (tests)."),
    ]
    DEFAULT_BUILDER_CONFIG_NAME = "paper"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "Sequences of 20 tokens (vocabulary 5,000) sampled from the "
                "oracle LSTM of the SeqGAN paper's synthetic experiment (the "
                "authors' target_params, shipped in seqgan_tf/resources/"
                "oracle/). Generated offline, deterministically, by "
                "seqgan_tf.sampler.sample_many(OracleLSTM.from_paper(), "
                "num_sequences, seed=(88, 0))."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "tokens": tfds.features.Tensor(
                        shape=(paper.SEQUENCE_LENGTH,), dtype=np.int32
                    ),
                }
            ),
            supervised_keys=None,
            disable_shuffling=True,  # Keep the source order.
            homepage=_HOMEPAGE,
            citation=_SEQGAN_CITATION,
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Offline: the oracle's parameters are in the package.
        count = self.builder_config.num_sequences
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(
                f"`num_sequences` must be an int >= 1, got {count!r} "
                f"(config {self.builder_config.name!r})."
            )
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        # Imported here so that importing the datasets does not import
        # TensorFlow and Keras (the oracle needs both).
        from seqgan_tf import sampler
        from seqgan_tf.models import OracleLSTM

        config = self.builder_config
        oracle = OracleLSTM.from_paper()
        tokens = sampler.sample_many(
            oracle, config.num_sequences, seed=tuple(config.seed)
        )
        for index, row in enumerate(tokens):
            yield index, {"tokens": row.astype(np.int32)}
