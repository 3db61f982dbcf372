"""Tokenisers: one line of text <-> a list of token strings.

Four kinds, chosen by name with `get_tokenizer`: whitespace, word, character
and tagged (`word/TAG` corpora).
"""

from __future__ import annotations

import abc
import inspect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


class TokenizerError(ValueError):
    """A line cannot be tokenised; the message names the token and the fix."""


class Tokenizer(abc.ABC):
    """Splits one line into tokens and joins tokens back into a line.

    A tokeniser sees one line with its line break removed; it does not split
    sentences. `get_config()` returns the options, so that
    `get_tokenizer(t.name, **t.get_config())` rebuilds `t` (e.g. from a run
    directory's config).

    Examples:
        A tokenizer of one's own implements `tokenize` and `detokenize`:

        >>> from seqgan_tf.data import Tokenizer
        >>> class CommaTokenizer(Tokenizer):
        ...     name = "comma"
        ...     def tokenize(self, line):
        ...         return [token.strip() for token in line.split(",")]
        ...     def detokenize(self, tokens):
        ...         return ", ".join(tokens)
        >>> CommaTokenizer().tokenize("C4, E4 , G4")
        ['C4', 'E4', 'G4']
    """

    name = None

    @abc.abstractmethod
    def tokenize(self, line: str) -> list[str]:
        """Returns the tokens of `line` (an empty list for a blank line)."""

    @abc.abstractmethod
    def detokenize(self, tokens: Iterable[str]) -> str:
        """Joins `tokens` back into one line of text."""

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"get_tokenizer({self.name!r}{', ' if options else ''}{options})"

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and other.get_config() == self.get_config()
        )

    def __hash__(self):
        return hash((self.name, tuple(sorted(self.get_config().items()))))


class WhitespaceTokenizer(Tokenizer):
    """Tokens are the runs of non-space characters: for pre-tokenised text.

    `detokenize(tokenize(x)) == x` for any line whose tokens are separated
    by single spaces, with no leading or trailing space (the format of
    pre-tokenised corpora such as COCO captions).

    Examples:
        >>> from seqgan_tf.data import WhitespaceTokenizer
        >>> WhitespaceTokenizer().tokenize("a  dog , running")
        ['a', 'dog', ',', 'running']
    """

    name = "whitespace"

    def tokenize(self, line: str) -> list[str]:
        return line.split()

    def detokenize(self, tokens: Iterable[str]) -> str:
        return " ".join(tokens)


class WordTokenizer(Tokenizer):
    """English words and punctuation, Penn Treebank style (NLTK).

    Uses `nltk.tokenize.TreebankWordTokenizer` and its detokeniser, which are
    rule-based and need no downloaded NLTK data. The line is treated as one
    sentence: a period is split off only at the end of the line. Double
    quotes become the tokens ``` `` ``` and `''`; `detokenize` turns them
    back, so
    `tokenize(detokenize(tokenize(x))) == tokenize(x)` even though
    `detokenize(tokenize(x))` may differ from `x` in spacing.

    Args:
        lowercase: lowercase the line before tokenising.

    Examples:
        >>> from seqgan_tf.data import WordTokenizer
        >>> WordTokenizer(lowercase=True).tokenize("The dog didn't bark.")
        ['the', 'dog', 'did', "n't", 'bark', '.']
    """

    name = "word"

    def __init__(self, lowercase: bool = False):
        # NLTK is needed by this tokenizer only: imported when it is built.
        try:
            from nltk.tokenize import TreebankWordTokenizer
            from nltk.tokenize.treebank import TreebankWordDetokenizer
        except ImportError:
            raise TokenizerError(
                "the 'word' tokenizer needs NLTK; install it with "
                "`pip install nltk` or use the 'whitespace' tokenizer for "
                "pre-tokenised text."
            ) from None
        self.lowercase = bool(lowercase)
        self._tokenizer = TreebankWordTokenizer()
        self._detokenizer = TreebankWordDetokenizer()

    def tokenize(self, line: str) -> list[str]:
        if self.lowercase:
            line = line.lower()
        return self._tokenizer.tokenize(line)

    def detokenize(self, tokens: Iterable[str]) -> str:
        return self._detokenizer.detokenize(list(tokens))

    def get_config(self) -> dict[str, Any]:
        return {"lowercase": self.lowercase}


class CharacterTokenizer(Tokenizer):
    """Every non-space character is a token: for Chinese and similar text.

    Spaces are ignored, so "床前明月光，" and the space-separated
    "床 前 明 月 光 ，" (the quatrains corpus) give the same six tokens.

    Args:
        joiner: the string `detokenize` puts between characters: "" gives
            running text, " " the space-separated form. With the joiner that
            matches the corpus, `detokenize(tokenize(x)) == x` for a line
            without leading or trailing space.

    Examples:
        >>> from seqgan_tf.data import CharacterTokenizer
        >>> CharacterTokenizer(joiner=" ").tokenize("床前 明月光")
        ['床', '前', '明', '月', '光']
    """

    name = "character"

    def __init__(self, joiner: str = ""):
        if not isinstance(joiner, str):
            raise TokenizerError(
                f"joiner must be a string such as '' or ' ', got {joiner!r}."
            )
        self.joiner = joiner

    def tokenize(self, line: str) -> list[str]:
        return [c for c in line if not c.isspace()]

    def detokenize(self, tokens: Iterable[str]) -> str:
        return self.joiner.join(tokens)

    def get_config(self) -> dict[str, Any]:
        return {"joiner": self.joiner}


TAGGED_MODES = ("words", "tags", "pairs")


class TaggedTokenizer(Tokenizer):
    """Space-separated `word/TAG` tokens, e.g. a part-of-speech tagged corpus.

    Each token is split on its LAST '/', so "1/2/CD" is the word "1/2" with
    the tag "CD", and "//SYM" is the word "/" with the tag "SYM". A token
    with no '/', an empty word or an empty tag is an error (`TokenizerError`
    naming the token; `read_corpus` adds the line number): a corpus with
    untagged tokens is usually the wrong file or the wrong tokeniser, and
    skipping them silently would misalign words and tags.

    Args:
        mode: "words" (the words only), "tags" (the tags only) or "pairs"
            (the "word/TAG" strings as they are). The three modes give the
            same number of tokens for a line.

    Examples:
        >>> from seqgan_tf.data import TaggedTokenizer
        >>> TaggedTokenizer("tags").tokenize("generative/JJ models/NNS")
        ['JJ', 'NNS']
        >>> TaggedTokenizer("words").tokenize("1/2/CD cup/NN")
        ['1/2', 'cup']
    """

    name = "tagged"

    def __init__(self, mode: str = "words"):
        if mode not in TAGGED_MODES:
            raise TokenizerError(
                f"mode must be one of {', '.join(TAGGED_MODES)}, got {mode!r}."
            )
        self.mode = mode

    def split_pairs(self, line: str) -> list[tuple[str, str]]:
        """Returns the (word, tag) pairs of `line`."""
        pairs = []
        for token in line.split():
            word, slash, tag = token.rpartition("/")
            if not slash or not word or not tag:
                problem = (
                    "has no '/'"
                    if not slash
                    else "has an empty word"
                    if not word
                    else "has an empty tag"
                )
                raise TokenizerError(
                    f"token {token!r} {problem}; the 'tagged' tokenizer "
                    "expects space-separated word/TAG tokens such as "
                    "'models/NNS' (use 'whitespace' for untagged text)."
                )
            pairs.append((word, tag))
        return pairs

    def tokenize(self, line: str) -> list[str]:
        pairs = self.split_pairs(line)
        if self.mode == "words":
            return [word for word, _ in pairs]
        if self.mode == "tags":
            return [tag for _, tag in pairs]
        return [f"{word}/{tag}" for word, tag in pairs]

    def detokenize(self, tokens: Iterable[str]) -> str:
        return " ".join(tokens)

    def get_config(self) -> dict[str, Any]:
        return {"mode": self.mode}


_REGISTRY = {
    cls.name: cls
    for cls in (
        WhitespaceTokenizer,
        WordTokenizer,
        CharacterTokenizer,
        TaggedTokenizer,
    )
}


def tokenizer_names() -> list[str]:
    """The names `get_tokenizer` accepts.

    Examples:
        >>> from seqgan_tf.data import tokenizer_names
        >>> tokenizer_names()
        ['character', 'tagged', 'whitespace', 'word']
    """
    return sorted(_REGISTRY)


def get_tokenizer(name: str | Tokenizer, **options: Any) -> Tokenizer:
    """Returns the tokeniser called `name`, built with `options`.

    A `Tokenizer` instance passes through unchanged (when no options are
    given), so functions can take either a name or an instance.

    Args:
        name: "whitespace", "word", "character" or "tagged".
        **options: the tokeniser's arguments, e.g. `lowercase=True` for
            "word", `joiner=" "` for "character", `mode="tags"` for "tagged".

    Examples:
        >>> from seqgan_tf.data import get_tokenizer
        >>> get_tokenizer("tagged", mode="pairs").tokenize("a/DT cat/NN")
        ['a/DT', 'cat/NN']
    """
    if isinstance(name, Tokenizer):
        if options:
            raise TokenizerError(
                f"options {sorted(options)} were given with a tokenizer "
                f"instance ({name!r}); pass its name instead."
            )
        return name
    if name not in _REGISTRY:
        raise TokenizerError(
            f"unknown tokenizer {name!r}; choose one of "
            f"{', '.join(tokenizer_names())}."
        )
    cls = _REGISTRY[name]
    allowed = sorted(inspect.signature(cls).parameters)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TokenizerError(
            f"the {name!r} tokenizer has no option(s) {unknown}; its options "
            f"are: {', '.join(allowed) if allowed else 'none'}."
        )
    return cls(**options)
