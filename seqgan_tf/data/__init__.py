"""Real-data input: tokenisers, the vocabulary and corpus reading.

Text file -> `read_corpus` (token lists) -> `Vocabulary` (int32 ids, PAD=0).
"""

from seqgan_tf.data.corpus import CorpusError
from seqgan_tf.data.corpus import CorpusReport
from seqgan_tf.data.corpus import read_corpus
from seqgan_tf.data.tokenizers import CharacterTokenizer
from seqgan_tf.data.tokenizers import TaggedTokenizer
from seqgan_tf.data.tokenizers import Tokenizer
from seqgan_tf.data.tokenizers import TokenizerError
from seqgan_tf.data.tokenizers import WhitespaceTokenizer
from seqgan_tf.data.tokenizers import WordTokenizer
from seqgan_tf.data.tokenizers import get_tokenizer
from seqgan_tf.data.tokenizers import tokenizer_names
from seqgan_tf.data.vocabulary import BOS_ID
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.data.vocabulary import UNK_ID
from seqgan_tf.data.vocabulary import Vocabulary
from seqgan_tf.data.vocabulary import VocabularyError
from seqgan_tf.data.vocabulary import VocabularyMismatchError

__all__ = [
    "BOS_ID",
    "CharacterTokenizer",
    "CorpusError",
    "CorpusReport",
    "EOS_ID",
    "PAD_ID",
    "TaggedTokenizer",
    "Tokenizer",
    "TokenizerError",
    "UNK_ID",
    "Vocabulary",
    "VocabularyError",
    "VocabularyMismatchError",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "get_tokenizer",
    "read_corpus",
    "tokenizer_names",
]

from seqgan_tf.data.pipeline import EncodeReport  # noqa: E402
from seqgan_tf.data.pipeline import discriminator_dataset  # noqa: E402
from seqgan_tf.data.pipeline import encode_corpus  # noqa: E402
from seqgan_tf.data.pipeline import padding_mask  # noqa: E402
from seqgan_tf.data.pipeline import real_dataset  # noqa: E402
from seqgan_tf.data.pipeline import text_file_dataset  # noqa: E402

__all__ += [
    "EncodeReport",
    "discriminator_dataset",
    "encode_corpus",
    "padding_mask",
    "real_dataset",
    "text_file_dataset",
]
