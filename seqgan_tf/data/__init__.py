"""Real data: vocabulary, tokenizers, corpus reading, tf.data pipelines."""

from seqgan_tf.data.corpus import CorpusError
from seqgan_tf.data.corpus import CorpusReport
from seqgan_tf.data.corpus import read_corpus
from seqgan_tf.data.masks import padding_mask
from seqgan_tf.data.pipeline import EncodeReport
from seqgan_tf.data.pipeline import discriminator_dataset
from seqgan_tf.data.pipeline import encode_corpus
from seqgan_tf.data.pipeline import ordered_batches
from seqgan_tf.data.pipeline import real_dataset
from seqgan_tf.data.pipeline import text_file_dataset
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
from seqgan_tf.data.vocabulary import NUM_SPECIAL
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.data.vocabulary import UNK_ID
from seqgan_tf.data.vocabulary import Vocabulary
from seqgan_tf.data.vocabulary import VocabularyError

__all__ = [
    "BOS_ID",
    "CharacterTokenizer",
    "CorpusError",
    "CorpusReport",
    "EOS_ID",
    "EncodeReport",
    "NUM_SPECIAL",
    "PAD_ID",
    "TaggedTokenizer",
    "Tokenizer",
    "TokenizerError",
    "UNK_ID",
    "Vocabulary",
    "VocabularyError",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "discriminator_dataset",
    "encode_corpus",
    "get_tokenizer",
    "ordered_batches",
    "padding_mask",
    "read_corpus",
    "real_dataset",
    "text_file_dataset",
    "tokenizer_names",
]
