"""Reads a text corpus, one sequence a line, into token lists.

Bad input ends in one `CorpusError` line naming the file, the line and the fix.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
from typing import TYPE_CHECKING

from seqgan_tf.data.tokenizers import TokenizerError
from seqgan_tf.data.tokenizers import get_tokenizer

if TYPE_CHECKING:
    import os

    from seqgan_tf.data.tokenizers import Tokenizer

OVERFLOW_MODES = ("drop", "truncate", "error")
DECODE_ERRORS = ("strict", "replace")


class CorpusError(ValueError):
    """A corpus file cannot be read; the message names the line and the fix."""


@dataclasses.dataclass(frozen=True)
class CorpusReport:
    """What `read_corpus` read and what it left out.

    Attributes:
        path: the file read.
        sequences: the token lists kept, in file order.
        num_lines: lines in the file.
        skipped_empty: blank lines (or lines with no tokens), skipped.
        dropped_too_long: lines longer than `max_length`, dropped
            (`overflow="drop"`).
        truncated: lines longer than `max_length`, cut to `max_length`
            (`overflow="truncate"`).
        replaced_lines: lines with bytes that were not valid in the encoding,
            kept with U+FFFD in their place (`errors="replace"`).
        first_replaced_line: the number of the first such line, or None.
        max_length: the limit applied, or None.
        longest: the longest line in tokens, before any truncation.

    Examples:
        >>> import pathlib
        >>> from seqgan_tf.data import read_corpus
        >>> _ = pathlib.Path("train.txt").write_text("a cat\\n\\na dog\\n")
        >>> print(read_corpus("train.txt", "whitespace").summary())
        train.txt: 2 sequences from 3 lines (longest 2 tokens); 1 empty lines
        skipped.
    """

    path: str
    sequences: list
    num_lines: int
    skipped_empty: int = 0
    dropped_too_long: int = 0
    truncated: int = 0
    replaced_lines: int = 0
    first_replaced_line: int | None = None
    max_length: int | None = None
    longest: int = 0

    def __len__(self):
        return len(self.sequences)

    def summary(self) -> str:
        """One line for a log, e.g. "train.txt: 10,000 sequences from ..."."""
        parts = [
            f"{self.path}: {len(self.sequences):,} sequences from "
            f"{self.num_lines:,} lines (longest {self.longest} tokens)"
        ]
        for count, what in (
            (self.skipped_empty, "empty lines skipped"),
            (self.dropped_too_long, f"lines over {self.max_length} dropped"),
            (self.truncated, f"lines truncated to {self.max_length}"),
            (self.replaced_lines, "lines with undecodable bytes replaced"),
        ):
            if count:
                parts.append(f"{count:,} {what}")
        return "; ".join(parts) + "."


def read_corpus(
    path: str | os.PathLike,
    tokenizer: Tokenizer | str,
    max_length: int | None = None,
    overflow: str = "drop",
    encoding: str = "utf-8",
    errors: str = "strict",
) -> CorpusReport:
    """Reads `path` a line at a time and tokenises every line.

    Blank lines are skipped and counted. Leading and trailing whitespace
    (and a UTF-8 byte-order mark) is removed before tokenising. The encoding
    must write "\\n" as the byte 0x0A (UTF-8, Latin-1, GBK, ...); convert
    UTF-16 files to UTF-8 first.

    Args:
        path: the text file, one sequence a line.
        tokenizer: a `Tokenizer` or a tokenizer name for `get_tokenizer`.
        max_length: the most tokens a sequence may have, or None for no
            limit. (If the model appends EOS, pass its sequence length
            minus one.)
        overflow: what to do with a longer line: "drop" it, "truncate" it
            to `max_length`, or raise an "error" naming the line.
        encoding: the file's text encoding.
        errors: "strict" raises `CorpusError` at the first undecodable byte,
            naming the line and byte offset; "replace" keeps going with
            U+FFFD in place of bad bytes and counts the lines affected.

    Returns:
        A `CorpusReport`.

    Raises:
        CorpusError: the file is missing, a directory, unreadable, empty,
            not in `encoding`, has no sequences left, has a line the
            tokenizer rejects, or a line over `max_length` with
            `overflow="error"`; or an argument is invalid.

    Examples:
        >>> import pathlib
        >>> from seqgan_tf.data import read_corpus
        >>> text = "a cat sat .\\n\\na dog ran far away .\\n"
        >>> _ = pathlib.Path("train.txt").write_text(text)
        >>> report = read_corpus("train.txt", "whitespace", max_length=5)
        >>> report.sequences, report.skipped_empty, report.dropped_too_long
        ([['a', 'cat', 'sat', '.']], 1, 1)
    """
    path = os.fspath(path)
    tokenizer = _get_tokenizer(tokenizer)
    _check_arguments(max_length, overflow, encoding, errors)
    _check_file(path)

    collector = _Collector(path, tokenizer, max_length, overflow)
    offset = 0  # byte offset of the current line's start.
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                line = _decode(raw, path, number, offset, encoding, errors)
                if line is None:
                    line = raw.decode(encoding, errors="replace")
                    collector.count_replaced(number)
                offset += len(raw)
                if number == 1:
                    line = line.lstrip("\ufeff")
                collector.add(number, line)
    except OSError as error:
        raise CorpusError(
            f"{path} cannot be read: {error.strerror or error}."
        ) from None
    return collector.report()


def tokenize_lines(
    lines, tokenizer, max_length=None, overflow="drop", source="<lines>"
):
    """`read_corpus` for text already in memory (e.g. a TFDS split).

    Each string is one sequence; blank strings are skipped and counted, and
    `max_length`/`overflow` work as in `read_corpus`. `source` names the
    lines in the report and in errors (e.g. "tfds:coco/test").

    Returns:
        A `CorpusReport` whose `path` is `source`.

    Raises:
        CorpusError: no lines, no sequences left, a line the tokenizer
            rejects, a line over `max_length` with `overflow="error"`, or an
            invalid argument.
    """
    tokenizer = _get_tokenizer(tokenizer)
    _check_arguments(max_length, overflow, "utf-8", "strict")
    if isinstance(lines, (str, bytes)):
        raise CorpusError(
            f"{source}: lines must be an iterable of strings, got one string."
        )
    collector = _Collector(source, tokenizer, max_length, overflow)
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise CorpusError(
                    f"{source}, line {number}: not valid UTF-8 "
                    f"({error.reason})."
                ) from None
        if not isinstance(line, str):
            raise CorpusError(
                f"{source}, line {number}: expected a string, got "
                f"{type(line).__name__}."
            )
        collector.add(number, line)
    return collector.report()


class _Collector:
    """Tokenises lines one at a time, keeping `CorpusReport`'s counts."""

    def __init__(self, path, tokenizer, max_length, overflow):
        self.path = path
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.overflow = overflow
        self.sequences = []
        self.counts = dict(
            num_lines=0,
            skipped_empty=0,
            dropped_too_long=0,
            truncated=0,
            replaced_lines=0,
            first_replaced_line=None,
            longest=0,
        )

    def count_replaced(self, number):
        self.counts["replaced_lines"] += 1
        if self.counts["first_replaced_line"] is None:
            self.counts["first_replaced_line"] = number

    def add(self, number, line):
        counts, path, max_length = self.counts, self.path, self.max_length
        counts["num_lines"] = number
        line = line.strip()
        if not line:
            counts["skipped_empty"] += 1
            return
        try:
            tokens = self.tokenizer.tokenize(line)
        except TokenizerError as error:
            raise CorpusError(f"{path}, line {number}: {error}") from None
        if not tokens:
            counts["skipped_empty"] += 1
            return
        counts["longest"] = max(counts["longest"], len(tokens))
        if max_length is not None and len(tokens) > max_length:
            if self.overflow == "error":
                raise CorpusError(
                    f"{path}, line {number}: {len(tokens)} tokens, more "
                    f"than max_length={max_length}; raise max_length or "
                    "pass overflow='drop' or 'truncate'."
                )
            if self.overflow == "drop":
                counts["dropped_too_long"] += 1
                return
            tokens = tokens[:max_length]
            counts["truncated"] += 1
        self.sequences.append(tokens)

    def report(self):
        counts, path = self.counts, self.path
        if counts["num_lines"] == 0:
            raise CorpusError(
                f"{path} is empty; expected a text file with one sequence "
                "a line."
            )
        if not self.sequences:
            reasons = [f"{counts['skipped_empty']:,} blank"]
            if counts["dropped_too_long"]:
                reasons.append(
                    f"{counts['dropped_too_long']:,} longer than "
                    f"max_length={self.max_length}"
                )
            raise CorpusError(
                f"{path} holds no sequences: of its {counts['num_lines']:,} "
                f"lines, {' and '.join(reasons)}."
                + (
                    " Raise max_length or pass overflow='truncate'."
                    if counts["dropped_too_long"]
                    else ""
                )
            )
        return CorpusReport(
            path=path,
            sequences=self.sequences,
            max_length=self.max_length,
            **counts,
        )


def _get_tokenizer(tokenizer):
    try:
        return get_tokenizer(tokenizer)
    except TokenizerError as error:
        raise CorpusError(str(error)) from None


def _check_arguments(max_length, overflow, encoding, errors):
    if max_length is not None and (
        isinstance(max_length, bool)
        or not isinstance(max_length, int)
        or max_length < 1
    ):
        raise CorpusError(
            f"max_length must be an integer >= 1 or None, got {max_length!r}."
        )
    if overflow not in OVERFLOW_MODES:
        raise CorpusError(
            f"overflow must be one of {', '.join(OVERFLOW_MODES)}, "
            f"got {overflow!r}."
        )
    if errors not in DECODE_ERRORS:
        raise CorpusError(
            f"errors must be one of {', '.join(DECODE_ERRORS)}, got {errors!r}."
        )
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise CorpusError(
            f"unknown encoding {encoding!r}; use e.g. 'utf-8' or 'latin-1'."
        ) from None
    if "\n".encode(encoding) != b"\n":
        raise CorpusError(
            f"encoding {encoding!r} is not supported because it does not "
            "write a line break as one 0x0A byte; convert the file to UTF-8 "
            f"(e.g. iconv -f {encoding} -t utf-8)."
        )


def _check_file(path):
    if os.path.isdir(path):
        inside = sorted(
            name
            for name in os.listdir(path)
            if os.path.isfile(os.path.join(path, name))
        )[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else " (no files)"
        raise CorpusError(
            f"{path} is a directory{hint}; pass the text file inside it, "
            "one sequence a line."
        )
    if not os.path.exists(path):
        raise CorpusError(
            f"{path} does not exist; expected a text file with one "
            "sequence a line."
        )


def _decode(raw, path, number, offset, encoding, errors):
    """The decoded line, or None when it has bad bytes and errors="replace"."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        if errors == "replace":
            return None
        bad = raw[error.start : error.start + 1].hex()
        raise CorpusError(
            f"{path}, line {number}: byte 0x{bad} at byte offset "
            f"{offset + error.start} (column {error.start + 1} of the line, "
            f"in bytes) is not valid {encoding} ({error.reason}); convert "
            f"the file to {encoding} (e.g. iconv -f latin-1 -t utf-8) or "
            "pass errors='replace' to keep going with U+FFFD in its place."
        ) from None
