"""Quality-diversity view of a generator: a sweep of the sampling temperature.

Lowering the temperature trades diversity for quality, and adversarial
training can look better on a quality metric alone only because it sharpened
the generator's distribution (Caccia et al., *Language GANs Falling Short*,
ICLR 2020). Sweeping the temperature of the MLE and of the adversarially
trained generator and plotting both curves on the same quality-diversity
axes separates the two: adversarial training helped only if its curve lies
beyond the MLE one, not merely further along it.

Metrics of one temperature `t` (samples are drawn at `t`; likelihoods of
real data are scored under the same tempered distribution,
`softmax(logits / t)`):

* oracle task: quality = NLL-oracle of the samples (lower is better);
  diversity = NLL-test, the NLL of fresh oracle samples under the tempered
  generator (lower is better: the generator covers the real data);
* text task: quality = BLEU-4 against the held-out set (higher is better);
  diversity = Self-BLEU-4 of the samples (lower is more diverse).

Both tasks also report Self-BLEU-4 of the samples, NLL-test and the fraction
of distinct samples. Every temperature uses the same seed, so a sweep is
reproducible and the temperatures are compared on common random numbers.
"""

from __future__ import annotations

import math
import pathlib
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from seqgan_tf import bleu
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike

    from seqgan_tf.datasets.text_data import TextData
    from seqgan_tf.experiment import RestoredRun
    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator
    from seqgan_tf.models import OracleLSTM

QUALITY = {
    "oracle": ("nll_oracle", "NLL-oracle (quality, lower is better)"),
    "text": ("bleu_4", "BLEU-4 vs held-out (quality, higher is better)"),
}
DIVERSITY = {
    "oracle": ("nll_test", "NLL-test (diversity / coverage, lower is better)"),
    "text": ("self_bleu_4", "Self-BLEU-4 (lower is more diverse)"),
}
DEFAULT_TEMPERATURES = (0.1, 0.5, 0.8, 1.0, 1.2, 1.5)


def temperature_sweep(
    generator: Generator | LeakGANGenerator,
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    num_samples: int = 1000,
    seed: int = 0,
    oracle: OracleLSTM | None = None,
    text_data: TextData | None = None,
    held_out: ArrayLike | None = None,
) -> list[dict[str, Any]]:
    """Quality and diversity of `generator` at each sampling temperature.

    Give `oracle` (the oracle task) or `text_data` (a `TextData`, the text
    task). For the oracle task, `held_out` (int [M, T]) is the real data of
    NLL-test; by default `num_samples` fresh oracle samples (seeded by
    `seed`, not the training data).

    Returns one dict per temperature, in the given order: `temperature`,
    `quality`, `diversity` (the task's two headline numbers, see the module
    docstring), `quality_metric`, `diversity_metric`, and every metric
    measured (`nll_oracle` or `bleu_4`, `self_bleu_4`, `nll_test`,
    `unique_fraction`, `mean_length`). The same arguments give the same
    numbers.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import quality
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> rows = quality.temperature_sweep(
        ...     generator, [0.5, 1.0], num_samples=16, oracle=oracle)
        >>> [row["temperature"] for row in rows]
        [0.5, 1.0]
        >>> rows[0]["quality_metric"], rows[0]["diversity_metric"]
        ('nll_oracle', 'nll_test')
    """
    if (oracle is None) == (text_data is None):
        raise ValueError("give exactly one of `oracle` or `text_data`.")
    temperatures = [float(t) for t in temperatures]
    if not temperatures or not all(
        math.isfinite(t) and t > 0 for t in temperatures
    ):
        raise ValueError(
            f"temperatures must be finite and > 0, got {temperatures}."
        )
    if int(num_samples) < 2:
        raise ValueError(
            f"`num_samples` must be >= 2 (Self-BLEU), got {num_samples}."
        )
    num_samples = int(num_samples)
    task = "oracle" if oracle is not None else "text"
    if task == "oracle" and held_out is None:
        held_out = sampler.sample_many(oracle, num_samples, seed=(seed, 2))
    elif task == "text":
        held_out = text_data.test_ids
    rows = []
    for temperature in temperatures:
        samples = sampler.sample_many(
            generator, num_samples, seed=(seed, 1), temperature=temperature
        )
        if task == "oracle":
            hypotheses = [tuple(row) for row in samples.tolist()]
            row = {"nll_oracle": metrics.nll(oracle, samples)}
        else:
            hypotheses = [tuple(h) for h in text_data.tokens(samples)]
            row = {"bleu_4": text_data.bleu_scorer.bleu(hypotheses, 4)}
        row["self_bleu_4"] = bleu.self_bleu(hypotheses, max_order=4)
        row["nll_test"] = metrics.nll(
            generator, held_out, temperature=temperature
        )
        row["unique_fraction"] = len(set(hypotheses)) / len(hypotheses)
        row["mean_length"] = sum(map(len, hypotheses)) / len(hypotheses)
        quality, diversity = QUALITY[task][0], DIVERSITY[task][0]
        rows.append(
            {
                "temperature": temperature,
                "quality": row[quality],
                "diversity": row[diversity],
                "quality_metric": quality,
                "diversity_metric": diversity,
                **row,
            }
        )
    return rows


def plot_quality_diversity(
    rows_by_model: Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | os.PathLike | None = None,
    title: str | None = None,
) -> Figure:
    """Plots quality (y) against diversity (x), one curve per model
    (e.g. {"MLE": rows, "adversarial": rows} from `temperature_sweep`) on
    the same axes, each point annotated with its temperature.

    Saves a PNG to `path` when given; returns the matplotlib figure (the
    caller closes it; `len(figure.axes[0].lines)` is the number of curves).

    Examples:
        >>> from seqgan_tf import quality
        >>> def row(temperature, nll_oracle, nll_test):
        ...     return {"temperature": temperature, "quality": nll_oracle,
        ...             "diversity": nll_test, "quality_metric": "nll_oracle",
        ...             "diversity_metric": "nll_test"}
        >>> figure = quality.plot_quality_diversity({
        ...     "MLE": [row(0.8, 8.9, 9.6), row(1.0, 9.1, 9.3)],
        ...     "adversarial": [row(0.8, 8.6, 9.7), row(1.0, 8.8, 9.4)]})
        >>> len(figure.axes[0].lines)
        2
    """
    rows_by_model = {k: v for k, v in rows_by_model.items() if v}
    if not rows_by_model:
        raise ValueError("nothing to plot: no model has sweep rows.")
    first = next(iter(rows_by_model.values()))[0]
    quality, diversity = first["quality_metric"], first["diversity_metric"]
    labels = {k: label for k, label in (*QUALITY.values(), *DIVERSITY.values())}
    figure = Figure(figsize=(7, 5), dpi=100)
    axes = figure.add_subplot()
    for name, rows in rows_by_model.items():
        x = [row["diversity"] for row in rows]
        y = [row["quality"] for row in rows]
        (line,) = axes.plot(x, y, marker="o", label=name)
        for row, xi, yi in zip(rows, x, y):
            axes.annotate(
                f"T={row['temperature']:g}",
                (xi, yi),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=8,
                color=line.get_color(),
            )
    axes.set_xlabel(labels.get(diversity, diversity))
    axes.set_ylabel(labels.get(quality, quality))
    if quality == "nll_oracle":
        # Lower is better on both axes: the best corner is bottom left.
        axes.set_title(title or "Quality vs diversity (best: bottom left)")
    else:
        axes.set_title(title or "Quality vs diversity (best: top left)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    if path is not None:
        figure.savefig(str(path), format="png")
    return figure


def sweep_run(
    run: RestoredRun,
    temperatures: Sequence[float],
    num_samples: int,
    seed: int,
    output: str | os.PathLike,
    text_data: TextData | None = None,
) -> dict[str, Any]:
    """The temperature sweep of a restored run (`experiment.RestoredRun`):
    its checkpoint's generator and, when the run saved it, its
    MLE-pretrained generator. Writes `runs.SWEEP_FILE` and
    `runs.SWEEP_PLOT` into `output` and returns what it wrote.

    `text_data` (the run's `TextData`) is needed for a text run; an oracle
    run uses its oracle."""
    t = run.config.training
    adversarial_from = t.generator_epochs + t.discriminator_rounds
    name = (
        "adversarial" if run.epoch > adversarial_from else f"epoch {run.epoch}"
    )
    options = (
        {"text_data": text_data}
        if run.config.is_text
        else {"oracle": run.gan.oracle}
    )

    def sweep():
        return temperature_sweep(
            run.gan.generator,
            temperatures,
            num_samples=num_samples,
            seed=seed,
            **options,
        )

    models = {name: sweep()}
    if (run.run_dir / runs.PRETRAINED_WEIGHTS).exists():
        run.load_pretrained()
        models = {"MLE": sweep(), **models}
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    result = {
        "run_dir": str(run.run_dir),
        "task": "text" if run.config.is_text else "oracle",
        "checkpoint_epoch": run.epoch,
        "samples": num_samples,
        "seed": seed,
        "temperatures": list(temperatures),
        "models": models,
    }
    runs.write_json(output / runs.SWEEP_FILE, result)
    plot_quality_diversity(models, output / runs.SWEEP_PLOT)
    return result


def sweep_table(models):
    """The lines of a table of sweep rows (model -> rows)."""
    first = next(iter(models.values()))[0]
    quality, diversity = first["quality_metric"], first["diversity_metric"]
    header = f"{'model':<14}{'T':>6}{quality:>14}{diversity:>14}"
    lines = [header, "-" * len(header)]
    for model, rows in models.items():
        for row in rows:
            lines.append(
                f"{model:<14}{row['temperature']:>6g}"
                f"{row['quality']:>14.4f}{row['diversity']:>14.4f}"
            )
    return lines
