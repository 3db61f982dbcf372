"""The SeqGAN paper's music task: tunes as pitch sequences, and the MSE.

Encoding (`encode_tune`): a tune becomes one token per time step of a
16th note (`steps_per_quarter=4`): step k holds the MIDI pitch (an int,
60 = middle C) sounding at time k / steps_per_quarter quarter notes after
the tune's first note or rest (so an anacrusis starts at step 0). A note
lasting several steps repeats its pitch on each of them; tied notes
therefore simply continue. A chord gives its highest pitch, as does any
other set of notes sounding together (voices, parts). A step where only a
rest (or nothing) sounds gives the token 0. Grace notes (no duration) and
chord symbols (the ABC "Am" annotations) are ignored; tuplets are sampled
like anything else (the note sounding at the step's start). The first
`length` (32) steps are kept; a tune that lasts fewer steps is not encoded
(`encode_tune` returns None and the dataset builder drops it) rather than
padded. In text form (`tokens_to_text`) a sequence is its pitch numbers as
decimal strings separated by single spaces, e.g. "67 67 0 71 ...", which
`seqgan_tf.data`'s whitespace tokeniser reads as they are.

The paper itself (Yu et al. 2017, section "Music Generation") encoded 695
Nottingham folk tunes from MIDI, sampling the pitch every 0.4 s as one of
88 piano keys (numbers 1-88), length 32. Here a step is a 16th note of the
score instead of 0.4 s, and tokens are MIDI numbers (piano keys 1-88 are
MIDI 21-108) plus 0 for a rest.

Metrics of the music task: BLEU-4 is `seqgan_tf.bleu.bleu(hypotheses,
references, max_order=4)` on the token lists; `pitch_mse` is the paper's
MSE, which the paper names but does not define; ours:

    pitch_mse(G, R) = (1 / |G|) * sum over g in G of
                      min over r in R of (1 / T) * sum_t (g_t - r_t)^2

for generated sequences G and reference (real) sequences R, all of length
T: each generated sequence is compared with its nearest reference sequence
by the mean squared difference of the pitch numbers, step by step, and
these minima are averaged over the generated sequences. A rest is the
number 0 in this difference, like any token. Lower is better; 0 means
every generated sequence is a copy of a reference.
"""

import fractions
import math

import numpy as np

REST = 0  # The token of a step where no note sounds.
STEPS_PER_QUARTER = 4  # 16th notes.
SEQUENCE_LENGTH = 32
_MSE_CHUNK_ELEMENTS = 1 << 22  # hypotheses x references per chunk (32 MiB).


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an int >= 1, got {value!r}.")


def _sounding_events(stream):
    """(start, end, pitch) of every note, chord and rest with a duration, in
    quarter notes as exact fractions; pitch 0 for a rest."""
    # music21 is optional (the `music` extra): imported only when needed.
    from music21 import harmony
    from music21 import stream as m21_stream

    if isinstance(stream, m21_stream.Opus):
        raise ValueError(
            f"encode_tune takes one tune (a music21 Score, Part or Stream), "
            f"got an Opus of {len(stream.scores)} tunes; encode each of "
            "`opus.scores`."
        )
    if not isinstance(stream, m21_stream.Stream):
        raise TypeError(
            f"encode_tune takes a music21 stream, got {type(stream).__name__}."
        )
    flat = stream.flatten()
    events = []
    for element in flat.notesAndRests:
        if isinstance(element, harmony.Harmony):
            continue  # Chord symbols: annotations, not sounding notes.
        length = fractions.Fraction(element.quarterLength)
        if length <= 0:
            continue  # Grace notes.
        start = fractions.Fraction(flat.elementOffset(element))
        if element.isRest:
            pitch = REST
        else:
            pitch = max(p.midi for p in element.pitches)
        events.append((start, start + length, pitch))
    return events


def encode_tune(
    stream, steps_per_quarter=STEPS_PER_QUARTER, length=SEQUENCE_LENGTH
):
    """A tune as a list of ints, one per time step (see the module doc).

    Args:
        stream: one tune as a music21 stream (e.g. the Score that
            `music21.converter.parse(abc_text, format="abc")` returns for
            one ABC tune).
        steps_per_quarter: time steps per quarter note (4: 16th notes).
        length: the number of steps kept, from the start; None keeps the
            whole tune.

    Returns:
        `length` ints: the MIDI pitch sounding at each step (a chord's
        highest), 0 where a rest or nothing sounds; or None if the tune
        lasts fewer than `length` steps (it is not padded).

    Raises:
        ValueError: an Opus (several tunes), bad `steps_per_quarter` or
            `length`.
        TypeError: `stream` is not a music21 stream.
    """
    _check_positive_int(steps_per_quarter, "steps_per_quarter")
    if length is not None:
        _check_positive_int(length, "length")
    events = _sounding_events(stream)
    if not events:
        return None if length is not None else []
    origin = min(start for start, _, _ in events)
    end = max(stop for _, stop, _ in events)
    available = math.ceil((end - origin) * steps_per_quarter)
    if length is None:
        length = available
    elif available < length:
        return None
    tokens = []
    for step in range(length):
        time = origin + fractions.Fraction(step, steps_per_quarter)
        sounding = [
            pitch for start, stop, pitch in events if start <= time < stop
        ]
        tokens.append(max(sounding, default=REST))
    return tokens


def tokens_to_text(tokens):
    """The dataset's text form of a sequence: "67 67 0 71"."""
    return " ".join(str(int(token)) for token in tokens)


def _as_int_token(token, where):
    if isinstance(token, (bool, np.bool_)):
        raise ValueError(f"{where}: token {token!r} is not a pitch number.")
    if isinstance(token, str):
        text = token.strip()
        if not text.lstrip("+-").isdecimal():
            raise ValueError(
                f"{where}: token {token!r} is not a pitch number (an integer "
                "such as '60', or 0 for a rest)."
            )
        return int(text)
    if isinstance(token, (int, np.integer)):
        return int(token)
    if isinstance(token, (float, np.floating)) and float(token).is_integer():
        return int(token)
    raise ValueError(
        f"{where}: token {token!r} is not a pitch number (an integer such as "
        "60 or '60', or 0 for a rest)."
    )


def _pitch_matrix(sequences, name):
    if isinstance(sequences, (str, bytes)) or not hasattr(
        sequences, "__iter__"
    ):
        raise TypeError(
            f"`{name}` must be a list of token sequences, got "
            f"{type(sequences).__name__}."
        )
    rows = []
    for row, sequence in enumerate(sequences):
        if isinstance(sequence, (str, bytes)):
            raise TypeError(
                f"`{name}`[{row}] is a string, not a list of tokens; split "
                "it first (text.split())."
            )
        rows.append(
            [_as_int_token(token, f"`{name}`[{row}]") for token in sequence]
        )
    if not rows:
        raise ValueError(f"`{name}` is empty.")
    lengths = sorted({len(row) for row in rows})
    if len(lengths) > 1:
        raise ValueError(
            f"`{name}`: sequences must all have the same length, got "
            f"lengths {lengths[0]}..{lengths[-1]}."
        )
    if lengths[0] == 0:
        raise ValueError(f"`{name}`: the sequences are empty.")
    return np.asarray(rows, dtype=np.float64)


def pitch_mse_scores(hypotheses, references):
    """Per generated sequence: the mean squared pitch difference to its
    nearest reference, min_r (1/T) sum_t (g_t - r_t)^2 (see `pitch_mse`).

    Returns:
        A float64 array with one score per hypothesis.
    """
    hyp = _pitch_matrix(hypotheses, "hypotheses")
    ref = _pitch_matrix(references, "references")
    if hyp.shape[1] != ref.shape[1]:
        raise ValueError(
            f"Hypotheses have length {hyp.shape[1]} but references "
            f"{ref.shape[1]}; pitch_mse compares sequences step by step."
        )
    # |g - r|^2 = |g|^2 + |r|^2 - 2 g.r, exact: the values are integers far
    # below 2**53. Chunked over hypotheses to bound the memory used.
    ref_norms = np.sum(ref * ref, axis=1)
    chunk = max(1, _MSE_CHUNK_ELEMENTS // ref.shape[0])
    minima = np.empty(hyp.shape[0], dtype=np.float64)
    for begin in range(0, hyp.shape[0], chunk):
        block = hyp[begin : begin + chunk]
        squared = (
            np.sum(block * block, axis=1)[:, None]
            + ref_norms[None, :]
            - 2.0 * (block @ ref.T)
        )
        minima[begin : begin + chunk] = squared.min(axis=1)
    return np.maximum(minima, 0.0) / hyp.shape[1]


def pitch_mse(hypotheses, references):
    """The music task's MSE of generated sequences against real ones.

    pitch_mse(G, R) = (1/|G|) sum_{g in G} min_{r in R} (1/T) sum_t
    (g_t - r_t)^2: for each generated sequence, the mean over the T time
    steps of the squared difference between its pitch numbers and those of
    its nearest reference sequence; averaged over the generated sequences.
    Rests are the number 0 like any token. Lower is better (0: every
    generated sequence is a reference). The SeqGAN paper reports an MSE
    without defining it; this is our definition.

    Args:
        hypotheses: generated sequences, each a list of tokens: ints or
            decimal strings ("60"; e.g. `text.split()` of the dataset).
        references: real sequences, same form; all sequences of both lists
            must have the same length T.

    Returns:
        A Python float. Memory stays bounded (chunked), so 10,000 x 10,000
        sequences are fine.

    Raises:
        ValueError: empty inputs, a token that is not an integer, or
            sequences of different lengths.
        TypeError: a sequence is a string (split it first) or an input is
            not a list of sequences.
    """
    return float(np.mean(pitch_mse_scores(hypotheses, references)))


__all__ = [
    "REST",
    "SEQUENCE_LENGTH",
    "STEPS_PER_QUARTER",
    "encode_tune",
    "pitch_mse",
    "pitch_mse_scores",
    "tokens_to_text",
]
