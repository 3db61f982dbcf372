"""Token <-> id mapping with fixed special tokens, saved as plain text.

Ids are int32-sized and PAD is 0, so padded batches are `token_ids != 0`.
"""

from __future__ import annotations

import collections
import os
import tempfile
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Sequence

PAD_ID = 0
BOS_ID = 1
EOS_ID = 2
UNK_ID = 3
NUM_SPECIAL = 4

_SPECIAL_NAMES = ("PAD", "BOS", "EOS", "UNK")


class VocabularyError(ValueError):
    """A vocabulary or vocabulary file is invalid; the message names the fix."""


class Vocabulary:
    """A fixed token list; ids 0..3 are PAD, BOS, EOS and UNK, in that order.

    Regular tokens follow the four special tokens. Build one from tokenised
    sequences with `Vocabulary.build`, or read one written by `save` with
    `Vocabulary.load`. The file format is one token a line, line 1 holding
    id 0, so `wc -l` gives the vocabulary size and `sed -n 5p` the token of
    id 4.

    Args:
        tokens: the regular tokens (not the special ones), in id order from
            id 4. Must be unique, non-empty and free of line breaks.
        pad_token: string of id 0 (padding).
        bos_token: string of id 1 (beginning of sequence).
        eos_token: string of id 2 (end of sequence).
        unk_token: string of id 3 (any token not in the vocabulary).
        path: the file this vocabulary was read from or saved to, if any;
            used in error messages only.

    Examples:
        >>> from seqgan_tf.data import Vocabulary
        >>> vocabulary = Vocabulary.build([["a", "cat"], ["a", "dog"]])
        >>> vocabulary.tokens
        ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'cat', 'dog']
        >>> vocabulary.encode(["a", "cow"])
        [4, 3, 2]
        >>> vocabulary.decode([4, 5, 2, 0, 0])
        ['a', 'cat']
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        *,
        pad_token: str = "<pad>",
        bos_token: str = "<bos>",
        eos_token: str = "<eos>",
        unk_token: str = "<unk>",
        path: str | os.PathLike | None = None,
    ):
        special = [pad_token, bos_token, eos_token, unk_token]
        all_tokens = special + list(tokens)
        index = {}
        for i, token in enumerate(all_tokens):
            where = (
                f"the {_SPECIAL_NAMES[i]} token"
                if i < NUM_SPECIAL
                else f"token {i - NUM_SPECIAL} of `tokens`"
            )
            _check_token(token, where)
            if token in index:
                first = index[token]
                raise VocabularyError(
                    f"{where} ({token!r}) repeats id {first}"
                    + (
                        f", the {_SPECIAL_NAMES[first]} token"
                        if first < NUM_SPECIAL
                        else ""
                    )
                    + "; every token must appear once (special tokens must "
                    "not appear among the regular tokens)."
                )
            index[token] = i
        self._tokens = all_tokens
        self._index = index
        self.path = None if path is None else os.fspath(path)

    @classmethod
    def build(
        cls,
        sequences: Iterable[Sequence[str]],
        *,
        min_frequency: int = 1,
        max_size: int | None = None,
        **special_tokens: str,
    ) -> Vocabulary:
        """Counts tokens in `sequences` and keeps the frequent ones.

        Order is deterministic: frequency, highest first, then the token
        string in code-point order.

        Args:
            sequences: an iterable of token lists (e.g. the `sequences` of a
                `CorpusReport`).
            min_frequency: keep tokens seen at least this many times.
            max_size: the largest vocabulary size, the four special tokens
                included (so `max_size` is the model's `vocabulary_size`);
                `None` keeps every token that passes `min_frequency`.
            **special_tokens: `pad_token`, `bos_token`, `eos_token`,
                `unk_token` strings, as in the constructor.

        Examples:
            >>> from seqgan_tf.data import Vocabulary
        >>> Vocabulary.build([["b", "a", "b", "c"]], max_size=6).tokens[4:]
            ['b', 'a']
        """
        if not isinstance(min_frequency, int) or min_frequency < 1:
            raise VocabularyError(
                f"min_frequency must be an integer >= 1, got {min_frequency!r}."
            )
        if max_size is not None and (
            not isinstance(max_size, int) or max_size < NUM_SPECIAL
        ):
            raise VocabularyError(
                f"max_size must be an integer >= {NUM_SPECIAL} (it counts the "
                f"{NUM_SPECIAL} special tokens), or None; got {max_size!r}."
            )
        if isinstance(sequences, str):
            raise VocabularyError(
                "sequences must be an iterable of token lists, got a string; "
                "tokenise it first (e.g. get_tokenizer('whitespace'))."
            )
        counts = collections.Counter()
        for sequence in sequences:
            if isinstance(sequence, str):
                raise VocabularyError(
                    f"sequences must hold token lists, got the string "
                    f"{sequence[:40]!r}; tokenise each line first."
                )
            counts.update(sequence)
        defaults = cls.__init__.__kwdefaults__
        special = {
            name: special_tokens.get(name, defaults[name])
            for name in ("pad_token", "bos_token", "eos_token", "unk_token")
        }
        unknown = sorted(set(special_tokens) - set(special))
        if unknown:
            raise VocabularyError(
                f"unknown argument(s) {unknown}; special tokens are set with "
                "pad_token, bos_token, eos_token and unk_token."
            )
        for token in special.values():
            counts.pop(token, None)  # the data's own "<unk>" maps to UNK.
        ranked = sorted(
            (item for item in counts.items() if item[1] >= min_frequency),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            ranked = ranked[: max_size - NUM_SPECIAL]
        return cls([token for token, _ in ranked], **special)

    @property
    def tokens(self) -> list[str]:
        """All tokens in id order, the special tokens first (a copy)."""
        return list(self._tokens)

    @property
    def size(self) -> int:
        """Number of tokens, special ones included: the `vocabulary_size`."""
        return len(self._tokens)

    def __len__(self):
        return len(self._tokens)

    def __contains__(self, token):
        return token in self._index

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __hash__(self):
        return hash(tuple(self._tokens))

    def __repr__(self):
        where = f", path={self.path!r}" if self.path else ""
        return f"Vocabulary(size={self.size}{where})"

    @property
    def pad_token(self) -> str:
        return self._tokens[PAD_ID]

    @property
    def bos_token(self) -> str:
        return self._tokens[BOS_ID]

    @property
    def eos_token(self) -> str:
        return self._tokens[EOS_ID]

    @property
    def unk_token(self) -> str:
        return self._tokens[UNK_ID]

    def token_to_id(self, token: str) -> int:
        """The id of `token`, or `UNK_ID` when it is not in the vocabulary."""
        return self._index.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        """The token of `token_id`; raises `VocabularyError` if out of range."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise VocabularyError(
                f"token id {token_id} is outside this vocabulary (ids 0 to "
                f"{len(self._tokens) - 1}); was the model trained with a "
                "different vocabulary?"
            )
        return self._tokens[token_id]

    def encode(
        self, tokens: Iterable[str], add_eos: bool = True, add_bos: bool = False
    ) -> list[int]:
        """Maps tokens to ids; unknown tokens become `UNK_ID` (3).

        Args:
            tokens: a list of token strings (not a raw string: tokenise it
                first).
            add_eos: append `EOS_ID` (2).
            add_bos: prepend `BOS_ID` (1).

        Returns:
            A list of ints (they fit int32).
        """
        if isinstance(tokens, str):
            raise VocabularyError(
                f"encode() takes a list of tokens, got the string "
                f"{tokens[:40]!r}; tokenise it first, e.g. "
                "get_tokenizer('whitespace').tokenize(line)."
            )
        ids = [self._index.get(token, UNK_ID) for token in tokens]
        if add_bos:
            ids.insert(0, BOS_ID)
        if add_eos:
            ids.append(EOS_ID)
        return ids

    def decode(
        self, ids: Iterable[int], strip_special: bool = True
    ) -> list[str]:
        """Maps ids back to tokens.

        Args:
            ids: a sequence of ints (a list, or a 1-D NumPy array / tensor
                converted with `.tolist()` or iterated).
            strip_special: stop at the first EOS and drop PAD and BOS; UNK
                is kept as `unk_token` so unknown words stay visible. When
                False, every id maps to its token.

        Returns:
            A list of token strings.
        """
        tokens = []
        for token_id in ids:
            token_id = int(token_id)
            if strip_special:
                if token_id == EOS_ID:
                    break
                if token_id in (PAD_ID, BOS_ID):
                    continue
            tokens.append(self.id_to_token(token_id))
        return tokens

    def save(self, path: str | os.PathLike) -> str:
        """Writes one token a line (UTF-8), atomically; returns the path.

        The file is written next to `path` under a temporary name and moved
        into place with `os.replace`, so a reader never sees half a file.
        Parent directories are created.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            raise VocabularyError(
                f"cannot save the vocabulary to {path}: it is a directory; "
                "pass a file name such as "
                f"{os.path.join(path, 'vocabulary.txt')}."
            )
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=".vocabulary-", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as f:
                for token in self._tokens:
                    f.write(token + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, **special_tokens: str) -> Vocabulary:
        """Reads a file written by `save`.

        Args:
            path: the vocabulary file, one token a line.
            **special_tokens: the expected `pad_token`, `bos_token`,
                `eos_token`, `unk_token` strings (defaults `"<pad>"`,
                `"<bos>"`, `"<eos>"`, `"<unk>"`); lines 1 to 4 must hold
                them in that order.

        Raises:
            VocabularyError: the file is missing, a directory, empty, not
                UTF-8, or has an empty or repeated token or misplaced special
                tokens; the message names the line.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            raise VocabularyError(
                f"vocabulary {path} is a directory; pass the vocabulary file "
                "inside it (written by Vocabulary.save)."
            )
        if not os.path.exists(path):
            raise VocabularyError(
                f"vocabulary {path} does not exist; build one with "
                "Vocabulary.build(...).save(path) or check the path."
            )
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as error:
            raise VocabularyError(
                f"vocabulary {path} cannot be read: {error.strerror}."
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise VocabularyError(
                f"vocabulary {path}, line {line}: not UTF-8 "
                f"({error.reason} at byte offset {error.start}); save it as "
                "UTF-8."
            ) from None
        if text.startswith("\ufeff"):
            text = text[1:]
        if not text.strip():
            raise VocabularyError(
                f"vocabulary {path} is empty; expected one token a line, the "
                "special tokens first."
            )
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]

        defaults = cls.__init__.__kwdefaults__
        names = ("pad_token", "bos_token", "eos_token", "unk_token")
        unknown = sorted(set(special_tokens) - set(names))
        if unknown:
            raise VocabularyError(
                f"unknown argument(s) {unknown}; special tokens are set with "
                "pad_token, bos_token, eos_token and unk_token."
            )
        special = [special_tokens.get(name, defaults[name]) for name in names]
        seen = {}
        for number, token in enumerate(lines, start=1):
            if token == "":
                raise VocabularyError(
                    f"vocabulary {path}, line {number}: empty token; remove "
                    "the blank line (every line is one token)."
                )
            if token in seen:
                raise VocabularyError(
                    f"vocabulary {path}, line {number}: token {token!r} "
                    f"repeats line {seen[token]}; every token must appear "
                    "once."
                )
            seen[token] = number
        for i, expected in enumerate(special):
            got = lines[i] if i < len(lines) else None
            if got == expected:
                continue
            where = (
                f"; it is on line {seen[expected]}"
                if expected in seen
                else "; it is missing"
            )
            raise VocabularyError(
                f"vocabulary {path}, line {i + 1}: expected the "
                f"{_SPECIAL_NAMES[i]} token {expected!r}, found "
                f"{'end of file' if got is None else repr(got)}{where}. "
                "Lines 1-4 must be the PAD, BOS, EOS and UNK tokens in that "
                "order (pass pad_token=... etc. if this file uses other "
                "strings)."
            )
        return cls(lines[NUM_SPECIAL:], **dict(zip(names, special)), path=path)


def _check_token(token, where):
    if not isinstance(token, str):
        raise VocabularyError(
            f"{where} must be a string, got {type(token).__name__} {token!r}."
        )
    if token == "" or "\n" in token or "\r" in token:
        raise VocabularyError(
            f"{where} ({token!r}) is empty or holds a line break; a "
            "vocabulary file stores one token a line, so tokens cannot."
        )
