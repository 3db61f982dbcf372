"""TFDS builder of the SeqGAN paper's music task: folk tunes as pitch steps.

The tunes come from the corpus shipped inside the `music21` package (an
optional dependency: `pip install "seqgan-tf[music]"`); nothing is ever
downloaded. The collection is music21's `ryansMammoth`: Ryan's Mammoth
Collection (Boston, 1883) of fiddle and dance tunes - reels, hornpipes,
jigs, strathspeys, clogs - transcribed in ABC, one tune a file, 1,059
files (music21 10.5.1). They are the closest thing in music21 to the
paper's data: the paper used the Nottingham folk-tune database (British
and American dance tunes), of which music21 ships only a sample file of two
tunes (`nottingham-dataset/reelsa-c.abc`).

Each tune is encoded by `seqgan_tf.music.encode_tune` (a MIDI pitch per
16th note, chords -> highest pitch, rests -> 0, the first 32 steps) and
stored as text: the 32 pitch numbers separated by spaces ("67 67 0 71
..."), which the whitespace tokeniser of `seqgan_tf.data` reads as they
are. Tunes shorter than 32 steps are dropped, not padded.

| registered name | configs (default first) | splits | features |
|---|---|---|---|
| seqgan_folk_tunes | full, small | train, test | text, index |

Config `full` reads all 1,059 files, `small` the first 40.

Fixed split: the tune of file i (0-based, files sorted by name) goes to
`test` iff i % 10 == 0, else to `train`; dropped tunes keep their number,
so the split of a tune never depends on which others were dropped.
"""

import pathlib

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from seqgan_tf import music
from seqgan_tf.datasets.builders import _RELEASE_NOTES
from seqgan_tf.datasets.builders import _SEQGAN_CITATION
from seqgan_tf.datasets.builders import TextConfig
from seqgan_tf.datasets.builders import _check_max_examples
from seqgan_tf.datasets.builders import _OfflineBuilder

FOLK_COLLECTION = "ryansMammoth"  # A directory of music21's corpus.
FOLK_TEST_EVERY = 10  # tune i goes to test iff i % 10 == 0.
FOLK_STEPS_PER_QUARTER = 4  # a step is a 16th note.
FOLK_SEQUENCE_LENGTH = 32
MUSIC21_VERSION = "10.5.1"  # the version the documented counts are for.
_LOG_EVERY = 100  # tunes between progress messages while building.

_RYAN_CITATION = r"""
@book{ryan1883mammoth,
  title={Ryan's Mammoth Collection: 1050 Reels and Jigs, Hornpipes, Clogs,
         Walk-arounds, Essences, Strathspeys, Highland Flings and Contra
         Dances, with Figures, and How to Play Them},
  author={Ryan, William Bradbury},
  publisher={Elias Howe},
  address={Boston},
  year={1883}
}
"""
_MUSIC21_CITATION = r"""
@inproceedings{cuthbert2010music21,
  title={music21: A Toolkit for Computer-Aided Musicology and Symbolic
         Music Data},
  author={Cuthbert, Michael Scott and Ariza, Christopher},
  booktitle={Proceedings of the 11th International Society for Music
             Information Retrieval Conference (ISMIR)},
  pages={637--642},
  year={2010}
}
"""


def folk_tune_split(index):
    """The fixed split of the tune of file `index` (0-based, sorted)."""
    return "test" if index % FOLK_TEST_EVERY == 0 else "train"


def _import_music21():
    # music21 is optional (the `music` extra): imported only to build.
    try:
        import music21
    except ImportError as error:
        raise ImportError(
            "Building the folk_tunes dataset needs music21 (it parses the "
            'tunes of music21\'s corpus): pip install "seqgan-tf[music]" '
            f"(music21=={MUSIC21_VERSION})."
        ) from error
    return music21


def folk_tune_paths(collection=FOLK_COLLECTION):
    """The ABC files of a collection of music21's corpus, sorted by name."""
    music21 = _import_music21()
    directory = pathlib.Path(music21.__file__).parent / "corpus" / collection
    paths = sorted(directory.glob("*.abc"), key=lambda path: path.name)
    if not paths:
        raise FileNotFoundError(
            f"No ABC files in {directory}: music21 "
            f"{music21.__version__} was installed without its corpus or has "
            f"no collection {collection!r} (expected music21=="
            f'{MUSIC21_VERSION}, as in `pip install "seqgan-tf[music]"`).'
        )
    return paths


class SeqganFolkTunes(_OfflineBuilder):
    """Folk tunes as 32 pitch tokens, one per 16th note (the music task).

    Features: `text` (32 MIDI pitch numbers separated by spaces, 0 for a
    rest; see `seqgan_tf.music.encode_tune`) and `index` (the 0-based
    number of the tune's file in the collection's sorted file list).

    Source: music21's corpus collection `ryansMammoth` (Ryan's Mammoth
    Collection, 1883), one tune per ABC file, files sorted by name; parsed
    with music21 at build time. Tunes shorter than 32 steps are dropped.

    Fixed split: the tune of file i goes to `test` if i % 10 == 0, else to
    `train`. Configs: `full` (default; all 1,059 files) and `small` (the
    first 40 files, split by the same rule). Keys are the file numbers;
    examples keep the files' order.

    Raises (at build time) ImportError if music21 is not installed.
    """

    name = "seqgan_folk_tunes"
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = _RELEASE_NOTES
    BUILDER_CONFIGS = [
        TextConfig(name="full", description="All 1,059 tunes' files."),
        TextConfig(
            name="small",
            max_examples=40,
            description="The first 40 tunes' files (tests).",
        ),
    ]
    DEFAULT_BUILDER_CONFIG_NAME = "full"

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=(
                "Folk tunes for the SeqGAN paper's music task: the 1,059 "
                "ABC tunes of Ryan's Mammoth Collection (1883) shipped in "
                "music21's corpus (ryansMammoth), each encoded as its first "
                "32 sixteenth-note steps, a MIDI pitch number per step "
                "(chords: the highest pitch; rests: 0), as space-separated "
                "text. Tunes shorter than 32 steps are dropped. Fixed "
                "split: the tune of file i (0-based, files sorted by name) "
                "is a test tune iff i % 10 == 0. Built offline by parsing "
                "the corpus with music21."
            ),
            features=tfds.features.FeaturesDict(
                {
                    "text": tfds.features.Text(),
                    "index": tfds.features.Scalar(
                        dtype=np.int32,
                        doc="0-based number of the tune's file (sorted)",
                    ),
                }
            ),
            supervised_keys=None,
            disable_shuffling=True,  # Keep the files' order.
            homepage="https://www.music21.org/music21docs/about/referenceCorpus.html",
            citation=_SEQGAN_CITATION + _MUSIC21_CITATION + _RYAN_CITATION,
            license="Public domain (1883 tunes); music21 corpus terms",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # Offline: the tunes are in the music21 package.
        _check_max_examples(self.builder_config)
        tunes = self._encoded_tunes()
        return {
            split: self._generate_examples(tunes, split)
            for split in ("train", "test")
        }

    def _encoded_tunes(self):
        """(index, text) of every kept tune, parsing each file once."""
        # music21 is optional (the `music` extra): imported only to build.
        from music21 import converter

        paths = folk_tune_paths()[: self.builder_config.max_examples]
        tunes = []
        for index, path in enumerate(paths):
            score = converter.parseFile(
                path, format="abc", forceSource=True, storePickle=False
            )
            tokens = music.encode_tune(
                score,
                steps_per_quarter=FOLK_STEPS_PER_QUARTER,
                length=FOLK_SEQUENCE_LENGTH,
            )
            if tokens is not None:
                tunes.append((index, music.tokens_to_text(tokens)))
            if (index + 1) % _LOG_EVERY == 0:
                logging.info(
                    "seqgan_folk_tunes: parsed %d / %d tunes",
                    index + 1,
                    len(paths),
                )
        logging.info(
            "seqgan_folk_tunes: %d tunes kept, %d shorter than %d steps "
            "dropped",
            len(tunes),
            len(paths) - len(tunes),
            FOLK_SEQUENCE_LENGTH,
        )
        return tunes

    def _generate_examples(self, tunes, split):
        for index, text in tunes:
            if folk_tune_split(index) == split:
                yield index, {"text": text, "index": index}
