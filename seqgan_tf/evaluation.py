"""Evaluation of a generator on a text task: BLEU-2..5, Self-BLEU-2..4,
NLL-test (and the pitch MSE of folk tunes), and the tables that show them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from seqgan_tf import bleu
from seqgan_tf import metrics
from seqgan_tf import music
from seqgan_tf import paper
from seqgan_tf import sampler

if TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence

    import numpy as np
    from numpy.typing import ArrayLike

    from seqgan_tf.datasets.text_data import TextData
    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator

BLEU_ORDERS = (2, 3, 4, 5)
SELF_BLEU_ORDERS = (2, 3, 4)
# The rows of a text evaluation table: stage key -> title.
STAGES = {
    "pretrained": "MLE",
    "adversarial": "adversarial",
    "checkpoint": "checkpoint",
}


def is_music(config):
    """True for the folk-tune task (scored with the music MSE too)."""
    return config.data.dataset.partition("/")[0] == "folk_tunes"


def evaluate_text(
    generator: Generator | LeakGANGenerator,
    data: TextData,
    num_samples: int,
    seed: ArrayLike,
    music_task: bool = False,
) -> tuple[dict[str, float], np.ndarray]:
    """BLEU-2..5 against the held-out set, Self-BLEU-2..4 and NLL-test of
    `num_samples` sequences from `generator` (and, for `music_task`, the
    pitch MSE of `seqgan_tf.music.pitch_mse`); returns (result, samples)."""
    samples = sampler.sample_many(generator, num_samples, seed=seed)
    hypotheses = data.tokens(samples)
    result = {
        "samples": int(num_samples),
        "mean_length": float(sum(map(len, hypotheses)) / len(hypotheses)),
    }
    result.update(bleu_table(hypotheses, data))
    result["nll_test"] = metrics.nll(generator, data.test_ids)
    if music_task:
        result.update(music_mse(hypotheses, data))
    return result, samples


def bleu_table(
    hypotheses: Sequence[Sequence[str]], data: TextData
) -> dict[str, float]:
    """BLEU-2..5 of token lists against `data`'s held-out set (its
    `BleuScorer`, built once) and their Self-BLEU-2..4."""
    table = {
        f"bleu_{order}": data.bleu_scorer.bleu(hypotheses, order)
        for order in BLEU_ORDERS
    }
    for order in SELF_BLEU_ORDERS:
        table[f"self_bleu_{order}"] = bleu.self_bleu(
            hypotheses, max_order=order
        )
    return table


def music_mse(hypotheses, data):
    """The pitch MSE of the sequences that are all pitches (a sampled
    special token, e.g. `<eos>`, makes a sequence unscorable: counted)."""
    length = data.sequence_length
    valid = [
        h
        for h in hypotheses
        if len(h) == length and all(t.isdigit() for t in h)
    ]
    references = [r for r in data.test_sequences if len(r) == length]
    return {
        "mse": music.pitch_mse(valid, references) if valid else math.nan,
        "mse_unscorable": len(hypotheses) - len(valid),
    }


def text_table(evaluation: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The lines of the BLEU / Self-BLEU / NLL-test table of `evaluation`
    (stage -> result), one row per stage."""
    columns = (
        [f"bleu_{n}" for n in BLEU_ORDERS]
        + [f"self_bleu_{n}" for n in SELF_BLEU_ORDERS]
        + ["nll_test", "mean_length"]
    )
    titles = (
        [f"BLEU-{n}" for n in BLEU_ORDERS]
        + [f"SBLEU-{n}" for n in SELF_BLEU_ORDERS]
        + ["NLL-test", "length"]
    )
    header = f"{'stage':<14}{'epoch':>6}" + "".join(f"{t:>9}" for t in titles)
    lines = [header, "-" * len(header)]
    for stage, title in STAGES.items():
        if stage not in evaluation:
            continue
        row = evaluation[stage]
        lines.append(
            f"{title:<14}{row.get('epoch', '-'):>6}"
            + "".join(f"{row[c]:>9.3f}" for c in columns)
        )
    if not evaluation:
        lines.append("(no generator phase has finished yet)")
    return lines


def summary_lines(summary):
    """The lines that end a training run: what ran, then the NLL-oracle
    table (oracle task, with the authors' curve for the paper preset) or
    the text evaluation table."""
    lines = [
        "",
        f"Run {summary['run_dir']} ({summary['preset']}): "
        f"{summary['epochs_done']}/{summary['epochs_total']} epochs, "
        f"{summary['wall_seconds']:.0f} s of training in all.",
    ]
    if summary.get("task") == "text":
        return lines + text_table(summary.get("evaluation", {}))
    reference = summary["preset"] == "paper"
    header = f"{'stage':<24}{'epoch':>8}{'NLL-oracle':>12}"
    if reference:
        header += f"{'authors':>10}"
    lines += [header, "-" * len(header)]
    for stage, key in [
        ("after MLE pretraining", "pretrained"),
        ("after adversarial", "adversarial"),
    ]:
        epoch = summary[f"nll_oracle_{key}_epoch"]
        value = summary[f"nll_oracle_{key}"]
        line = (
            f"{stage:<24}{'-' if epoch is None else epoch:>8}"
            f"{'-' if value is None else f'{value:.3f}':>12}"
        )
        if reference:
            line += f"{paper.AUTHORS_CURVE[key]:>10.2f}"
        lines.append(line)
    return lines
