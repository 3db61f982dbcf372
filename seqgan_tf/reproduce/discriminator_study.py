"""What a discriminator learns, round by round, on the synthetic oracle.

The adversarial methods read a discriminator that the authors train on a
fixed set of real sequences: does it learn to tell the oracle from the
generator, or to recognise its training set? This study holds the
generator fixed (the `family` schedule's MLE stage: 10 MLE epochs of the
`quick` preset on 9,984 oracle sequences) and trains one discriminator
model for up to `rounds` D rounds under each of three regimes:

- `fixed`: the authors' way. Each round samples `num_negatives` fresh
  negatives from the frozen generator and pairs them with as many of the
  fixed real sequences (a seeded subset when there are more, as the
  trainer does), then runs `discriminator_epochs` passes
  (`AdversarialLoop.discriminator_round`, unchanged). Its first rounds
  are the rounds of the family schedule's D pretraining: same epochs,
  same seeds.
- `validated`: the same, with `validation_fraction` of the real
  sequences (10%: 998 of 9,984) and as many generated ones held out; the
  weights of the round of best validation accuracy are kept
  (`best_weights_path`). A `Discriminator`'s accuracy calls P(real) > 0.5
  real; a `Ranker`'s ranks the whole validation set against
  `rank_references` fixed training references, as its training accuracy
  (`losses.rank_loss`) ranks a batch.
- `fresh`: every round's real half is `num_negatives` new oracle
  sequences (the trainer's `fresh_real` rounds).

The models: the `quick` preset's (the paper's) `Discriminator`, and
RankGAN's `Ranker` (`table1.method_config(..., "rankgan", seed)`), each
from its method's initialisation; both judge the same MLE generator.

After every round the discriminator is probed on one held-out set, the
same for every round, regime and model (`metrics.discriminator_probe`'s
values, drawn from `seeds.STUDY_PROBE`; rows of the round's training data
and of the validation split are dropped): mean P(real) of the round's
real half, of fresh real and of fresh generated sequences, held-out
accuracy, Spearman of P(real) with the oracle's log-likelihood, Spearman
and Pearson of its logit with the optimal logit; beside them the
held-out AUC (the probability that a fresh real sequence gets a higher
logit than a fresh generated one: threshold-free, and the only held-out
separation a `Ranker` has, whose P(real) means nothing) and the Spearman
of the logit with the oracle's log-likelihood (the same as P(real)'s for
a `Discriminator`; the `Ranker`'s quality correlation).

A regime stops at `rounds` or once it has plateaued: over the last
`window` rounds (5) both its held-out separation (accuracy for a
`Discriminator`, AUC for a `Ranker`) and its optimal-logit Spearman
moved by less than `tolerance` (0.005; max - min of the window). The
probe set being fixed, what moves is the discriminator, not the probe's
sampling.

Output (resumable; each round one JSON line, written after the round's
checkpoint): `OUTPUT/MODEL/REGIME/rounds.jsonl`, its `checkpoints/`
(`SeqGAN.make_checkpoint`: the discriminator, its optimizer's slots and
its dropout RNG state; the 3 newest) and, for `validated`,
`best/round_NNN.weights.h5`. The MLE stage is the family reproduction's
shared stage (`OUTPUT/stages/seed_S/mle`, or that of a family
reproduction's output given as `stages_output`). Running again continues
after the last finished round. `write_results` copies the lines to a
folder that can be committed and writes the table
(`discriminator_study.md`, `.json`) of rounds 1/5/10/25/50 (and the last)
and the figure (`discriminator_study.png`).

Cost and sizing, measured with the study itself (2 rounds of every
(model, regime) at the family sizes, `benchmarks/discriminator_study.py
--rounds 2`) on this project's 2-core "AMD EPYC" (AVX2, no AVX-512), one
TensorFlow thread, beside other jobs (load average 5-7 on the 2 cores):

- the MLE stage (sampling 9,984 oracle sequences, 10 epochs of 20-41 s,
  its evaluation): 384 s, once; a family reproduction's own stage serves
  as well (`stages_output`);
- a round with the probe at 1,024 sequences of each kind (load ~7):
  `Discriminator` 39-45 s (its 32 D steps 20-25 s, the probe 18-22 s,
  `validated`'s validation set about 3 s, the checkpoint about 1 s),
  `Ranker` 35-44 s; the first round of each run traces its functions
  (a few seconds more);
- a round with the probe at 512 (load ~5): 17-24 s for either model
  (D steps 11-16 s, probe 5-8 s).

So the full study, 6 runs of up to 50 rounds (300 rounds), takes at most
about 6 x 50 x 40 s = 3.3 h with the probe at 1,024, and with the probe
at 512 about 6 x 50 x 33 s = 2.75 h at the heavier load (the D steps'
21 s, the halved probe's 10 s, 2 s more), less on a quieter machine or
where regimes plateau: 50 rounds (as many as the authors' D
pretraining, each far smaller) with `probe_samples=512` is the size that
fits about 3 hours of one core. Disk: about 0.3 GB a (model, regime) (3
checkpoints of the discriminator and its Adam slots, 87 MB each), 1.7 GB
in all.
"""

import dataclasses
import hashlib
import json
import math
import pathlib
import time

import numpy as np
from scipy import special
from scipy import stats

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf import schedule as schedule_lib
from seqgan_tf import seeds
from seqgan_tf.models.ranker import Ranker
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce import table1
from seqgan_tf.reproduce.discriminator_study_results import BEST_DIR  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import MODEL_STYLES  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import MODELS  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import PLOT_FILE  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import QUALITY  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import REGIME_COLORS  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import REGIMES  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import ROUNDS_FILE  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import SEPARATION  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import STUDY_FILE  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import TABLE_JSON  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import TABLE_MD  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import TABLE_ROUNDS  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import build_table  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import cell
from seqgan_tf.reproduce.discriminator_study_results import markdown_lines  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import plot  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import read_curves  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import read_rounds  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import regime_dir  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import table_rounds  # noqa: F401
from seqgan_tf.reproduce.discriminator_study_results import write_results  # noqa: F401

# What every round logs beside the probe's `schedule.PROBE_KEYS`.
ROUND_KEYS = (
    "round",
    "epoch",
    "d_loss",
    "d_accuracy",
    "positives",
    "negatives",
    "positives_digest",
    *schedule_lib.PROBE_KEYS,
    "heldout_auc",
    "logit_quality_spearman",
    "plateaued",
    "train_seconds",
    "probe_seconds",
    "seconds",
)
# What a `validated` round logs more.
VALIDATED_KEYS = (
    "validation_accuracy",
    "validation_auc",
    "best_round",
    "best_validation_accuracy",
    "best_probe",
)
# The measurements of the best checkpoint kept in `best_probe`.
BEST_PROBE_KEYS = (
    *schedule_lib.PROBE_KEYS,
    "heldout_auc",
    "logit_quality_spearman",
)


@dataclasses.dataclass(frozen=True)
class Study:
    """The settings that fix what a study trains and measures; a study
    resumed in the same output must keep them (`study.json`).

    Attributes:
        schedule: the `table1.SCHEDULES` schedule whose MLE stage and
            models it uses ("family"; "tiny_family" for tests).
        seed: the run seed (data, initialisation, every draw).
        probe_samples: held-out sequences of each kind per probe.
        num_negatives: generated sequences per round (0: the schedule's,
            1,024 on `family`); the real half has as many.
        validation_fraction: the real sequences `validated` holds out.
    """

    schedule: str = "family"
    seed: int = 0
    probe_samples: int = 1024
    num_negatives: int = 0
    validation_fraction: float = 0.1

    def __post_init__(self):
        if self.schedule not in table1.SCHEDULES:
            raise ValueError(
                f"`schedule` must be one of {', '.join(table1.SCHEDULES)}, "
                f"got {self.schedule!r}."
            )
        if self.probe_samples < 2:
            raise ValueError(
                f"`probe_samples` must be >= 2, got {self.probe_samples}."
            )
        if self.num_negatives < 0:
            raise ValueError(
                f"`num_negatives` must be >= 0, got {self.num_negatives}."
            )
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                "`validation_fraction` must be in (0, 1), got "
                f"{self.validation_fraction}."
            )

    def config(self, model):
        """The `ExperimentConfig` of `model` ("discriminator" or
        "ranker"): its method's run of the schedule, with the study's
        `num_negatives`."""
        if model not in MODELS:
            raise ValueError(
                f"`model` must be one of {', '.join(MODELS)}, got {model!r}."
            )
        config = table1.method_config(
            table1.SCHEDULES[self.schedule], MODELS[model], self.seed
        )
        if self.num_negatives:
            config = config_lib.with_overrides(
                config, [f"training.num_negatives={self.num_negatives}"]
            )
        return config.validate()

    def mle_config(self):
        """The config of the shared MLE stage (the schedule's, as a
        reproduction of it trains it)."""
        return table1.stage_configs(self.schedule, self.seed)[stages.MLE]


def plateaued(rows, model, window=5, tolerance=0.005):
    """True when, over the last `window` rows, the model's held-out
    separation (`SEPARATION`) and its optimal-logit Spearman each moved by
    less than `tolerance` (max - min; a missing or NaN value is no
    plateau)."""
    if window < 1 or len(rows) < window:
        return False
    for key in (SEPARATION[model], "d_optimal_spearman"):
        values = [row.get(key) for row in rows[-window:]]
        if any(v is None or not math.isfinite(v) for v in values):
            return False
        if max(values) - min(values) >= tolerance:
            return False
    return True


def finished(rows, model, rounds, window=5, tolerance=0.005):
    """Whether a (model, regime) with these rows is done: `rounds` rows,
    or a plateau."""
    return len(rows) >= rounds or plateaued(rows, model, window, tolerance)


def separation_auc(real, fake):
    """The probability that a real value exceeds a fake one (ties count
    half): the Mann-Whitney U of `real` over its maximum. NaN when either
    is empty."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if not len(real) or not len(fake):
        return math.nan
    ranks = stats.rankdata(np.concatenate([real, fake]))
    u = ranks[: len(real)].sum() - len(real) * (len(real) + 1) / 2
    return float(u / (len(real) * len(fake)))


def _spearman(x, y):
    """Spearman of x and y; NaN when undefined (fewer than 2 pairs, or a
    constant side), as the probe's correlations."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(x, y).statistic)


def mle_stage(study, stages_output, log=print):
    """The finished MLE stage directory of the study's schedule and seed
    (trained, resumed or found in `stages_output`)."""
    return stages.ensure_stage(
        {stages.MLE: study.mle_config()}, stages.MLE, stages_output, log=log
    )


@dataclasses.dataclass
class RegimeData:
    """What a regime's rounds read: the real sequences (all, and the
    training part), the validation split, the `Ranker`'s validation
    references and what the probe must leave out."""

    real: np.ndarray
    train_real: np.ndarray
    validation_real: np.ndarray = None
    validation_fake: np.ndarray = None
    validation_references: np.ndarray = None

    def exclude(self):
        held = [self.real]
        if self.validation_fake is not None:
            held.append(self.validation_fake)
        return held


def regime_data(study, gan, regime, real):
    """The data of `regime`: the validation split (10% of the real
    sequences, seeded, and as many fresh generated ones) for
    `validated`."""
    if regime != "validated":
        return RegimeData(real, real)
    order = np.random.default_rng(
        seeds.seed_pair(study.seed, seeds.VALIDATION, 0)
    ).permutation(len(real))
    held = max(1, round(study.validation_fraction * len(real)))
    validation_real = real[np.sort(order[:held])]
    train_real = real[np.sort(order[held:])]
    validation_fake = sampler.sample_many(
        gan.generator,
        held,
        seed=seeds.seed_pair(study.seed, seeds.VALIDATION, 1),
    )
    references = None
    if isinstance(gan.discriminator, Ranker):
        rng = np.random.default_rng(
            seeds.seed_pair(study.seed, seeds.VALIDATION, 2)
        )
        rows = rng.integers(0, len(train_real), gan.critic.rank_references)
        references = train_real[rows]
    return RegimeData(
        real, train_real, validation_real, validation_fake, references
    )


def validation_scores(discriminator, data):
    """(accuracy, AUC) of `discriminator` on the validation split of
    `data`. A `Discriminator` calls logit > 0 (P(real) > 0.5) real; a
    `Ranker` ranks the whole split against the split's references and
    calls real a sequence whose rank score is above uniform, as
    `losses.rank_loss` does in a batch."""
    rows = np.concatenate([data.validation_real, data.validation_fake])
    logits = metrics.discriminator_logits(
        discriminator, rows, data.validation_references
    )
    threshold = 0.0
    if isinstance(discriminator, Ranker):
        threshold = special.logsumexp(logits) - math.log(len(logits))
    count = len(data.validation_real)
    real, fake = logits[:count], logits[count:]
    correct = np.concatenate([real > threshold, fake <= threshold])
    return float(correct.mean()), separation_auc(real, fake)


def probe(gan, study, positives, negatives, data):
    """The round's measurements of the discriminator on the study's
    held-out set (see the module's docstring)."""
    values = metrics.discriminator_probe_values(
        gan.discriminator,
        gan.generator,
        gan.oracle,
        positives,
        study.probe_samples,
        seed=seeds.seed_pair(study.seed, seeds.STUDY_PROBE),
        exclude=[*data.exclude(), negatives],
    )
    result = metrics.probe_summary(values)
    real_logit = metrics.discriminator_logits(
        gan.discriminator, values["fresh_real"], values["references"]
    )
    result["heldout_auc"] = separation_auc(real_logit, values["fake_logit"])
    result["logit_quality_spearman"] = _spearman(
        values["fake_logit"], values["quality"]
    )
    return result


def _digest(rows):
    return hashlib.sha1(np.ascontiguousarray(rows).tobytes()).hexdigest()[:16]


def _finite(value):
    """JSON has no NaN: None instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_rounds(directory, rows):
    runs.write_lines(
        directory / ROUNDS_FILE,
        (json.dumps(row, sort_keys=True, allow_nan=False) for row in rows),
    )


def best_weights_path(directory, round_number):
    """The file of the `validated` regime's best weights, kept from round
    `round_number`."""
    return (
        pathlib.Path(directory)
        / BEST_DIR
        / f"round_{round_number:03d}.weights.h5"
    )


def _drop_stale(directory, rows):
    """Removes what an interrupted round left: checkpoints of rounds after
    the last finished one, best weights other than the last line's."""
    done = len(rows)
    for path in runs.checkpoint_candidates(directory):
        if int(path.rsplit("-", 1)[1]) > done:
            for part in pathlib.Path(path).parent.glob(
                pathlib.Path(path).name + ".*"
            ):
                part.unlink()
    best = rows[-1].get("best_round") if rows else None
    keep = best_weights_path(directory, best) if best else None
    for path in (pathlib.Path(directory) / BEST_DIR).glob("*.weights.h5"):
        if path != keep:
            path.unlink()


def build(study, model, stage):
    """(trainer, real sequences): the `SeqGAN` of `model`'s config with
    the MLE stage's generator (in `stage`) and a new discriminator model
    of its method's initialisation, and the stage's real data."""
    config = study.config(model)
    mle = study.mle_config()
    if (config.data, config.generator) != (mle.data, mle.generator):
        raise ValueError(
            f"The {model}'s config does not share the MLE stage's data and "
            "generator."
        )
    stage = pathlib.Path(stage)
    real = runs.read_token_file(
        stage / runs.REAL_DATA_FILE,
        config.vocabulary_size,
        config.sequence_length,
    )
    gan = experiment.build_gan(config, experiment.build_oracle(config))
    gan.generator.load_weights(str(stage / runs.PRETRAINED_WEIGHTS))
    gan.critic.prepare(real)
    return gan, real


def best_discriminator(study, output, model, stage):
    """The trainer of `build` with the `validated` regime's kept weights
    of `model` in `output`, and the round they are from."""
    directory = regime_dir(output, model, "validated")
    rows = read_rounds(directory)
    if not rows:
        raise runs.RunError(f"{directory} has no finished round.")
    gan, _ = build(study, model, stage)
    number = rows[-1]["best_round"]
    gan.discriminator.load_weights(str(best_weights_path(directory, number)))
    return gan, number


def run_regime(
    study,
    model,
    regime,
    output,
    rounds=50,
    stage=None,
    window=5,
    tolerance=0.005,
    log=print,
):
    """Trains (or resumes) one (model, regime) for up to `rounds` rounds,
    stopping at a plateau (`plateaued`); returns its rows.

    Args:
        study: the `Study`.
        model: "discriminator" or "ranker".
        regime: "fixed", "validated" or "fresh".
        output: the study's output folder.
        rounds: the most rounds.
        stage: the MLE stage directory (default: trained or found in
            `output`, `mle_stage`).
        window, tolerance: the plateau rule.
        log: receives a line per round (None: silent).
    """
    if regime not in REGIMES:
        raise ValueError(
            f"`regime` must be one of {', '.join(REGIMES)}, got {regime!r}."
        )
    log = log or (lambda message: None)
    directory = regime_dir(output, model, regime)
    if finished(read_rounds(directory), model, rounds, window, tolerance):
        return read_rounds(directory)
    stage = pathlib.Path(stage or mle_stage(study, output, log))
    directory.mkdir(parents=True, exist_ok=True)
    # Two studies in one output train each (model, regime) once.
    with runs.locked(directory.parent / f".{regime}.lock"):
        return _run_regime(
            study,
            model,
            regime,
            directory,
            rounds,
            stage,
            window,
            tolerance,
            log,
        )


def _run_regime(
    study, model, regime, directory, rounds, stage, window, tolerance, log
):
    rows = read_rounds(directory)
    if finished(rows, model, rounds, window, tolerance):
        return rows  # another study finished it meanwhile
    _drop_stale(directory, rows)
    gan, real = build(study, model, stage)
    checkpoint = runs.checkpoint_path(directory, len(rows)) if rows else None
    manager, epoch_variable, _ = runs.restore(gan, directory, checkpoint)
    data = regime_data(study, gan, regime, real)
    best = rows[-1] if rows and regime == "validated" else None
    first_epoch = study.config(model).training.generator_epochs
    while not finished(rows, model, rounds, window, tolerance):
        number = len(rows) + 1
        epoch = first_epoch + number - 1
        started = time.perf_counter()
        gan.reset_metrics()
        positives, negatives = gan.discriminator_round(
            data.train_real, epoch, 0, fresh_real=regime == "fresh"
        )
        row = {
            tracker.name: float(tracker.result())
            for tracker in gan.metrics
            if tracker.count.numpy() > 0
        }
        trained = time.perf_counter()
        row.update(probe(gan, study, positives, negatives, data))
        probed = time.perf_counter()
        row.update(
            round=number,
            epoch=epoch,
            positives=len(positives),
            negatives=len(negatives),
            positives_digest=_digest(positives),
            train_seconds=trained - started,
            probe_seconds=probed - trained,
        )
        if regime == "validated":
            accuracy, auc = validation_scores(gan.discriminator, data)
            row.update(validation_accuracy=accuracy, validation_auc=auc)
            if best is None or accuracy > best["best_validation_accuracy"]:
                runs.save_weights_atomically(
                    gan.discriminator,
                    _made(best_weights_path(directory, number)),
                )
                best = {
                    "best_round": number,
                    "best_validation_accuracy": accuracy,
                    "best_probe": {k: row[k] for k in BEST_PROBE_KEYS},
                }
            row.update(
                {
                    key: best[key]
                    for key in (
                        "best_round",
                        "best_validation_accuracy",
                        "best_probe",
                    )
                }
            )
        row = {key: _finite(value) for key, value in row.items()}
        if "best_probe" in row:
            row["best_probe"] = {
                k: _finite(v) for k, v in row["best_probe"].items()
            }
        row["plateaued"] = plateaued(rows + [row], model, window, tolerance)
        epoch_variable.assign(number)
        manager.save(checkpoint_number=number)
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
        _write_rounds(directory, rows)
        _drop_stale(directory, rows)
        log(_progress(model, regime, row, rounds))
    return rows


def _made(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _progress(model, regime, row, rounds):
    f = cell
    text = f"  {model}/{regime} round {row['round']}/{rounds}: held-out "
    if SEPARATION[model] == "d_heldout_accuracy":
        text += f"accuracy {f(row['d_heldout_accuracy'])}, "
    text += (
        f"AUC {f(row['heldout_auc'])}, optimal-logit Spearman "
        f"{f(row['d_optimal_spearman'])}"
    )
    if "validation_accuracy" in row:
        text += (
            f", validation accuracy {f(row['validation_accuracy'])} (best: "
            f"round {row['best_round']})"
        )
    text += f" ({row['seconds']:.1f} s)"
    if row["plateaued"]:
        text += "; plateaued"
    return text


def check_settings(study, output):
    """Writes the study's settings to `OUTPUT/study.json`, or refuses an
    output that holds a study of other settings."""
    path = pathlib.Path(output) / STUDY_FILE
    settings = dataclasses.asdict(study)
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous != settings:
            changed = sorted(
                k for k in settings if previous.get(k) != settings[k]
            )
            was = ", ".join(f"{k}={previous.get(k)!r}" for k in changed)
            raise runs.RunError(
                f"{output} holds a study with other settings ({was}); use "
                "another output, or the same settings to resume it."
            )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.write_json(path, settings)


def run_study(
    study,
    output,
    rounds=50,
    models=tuple(MODELS),
    regimes=REGIMES,
    stages_output=None,
    results=None,
    window=5,
    tolerance=0.005,
    log=print,
):
    """Runs (or resumes) every (model, regime) in turn; with `results`,
    rewrites the table and figure there after each (`write_results`).
    Returns {(model, regime): rows}.

    Args:
        study: the `Study`.
        output: the folder of the rounds and checkpoints (outside the
            repository: checkpoints are large).
        rounds: the most rounds of each regime.
        models, regimes: which to run, in this order.
        stages_output: the output of a family reproduction whose MLE stage
            of this seed to use (default: `output`; trained there if
            missing).
        results: the folder of the table and figure (None: not written).
        window, tolerance: the plateau rule (`plateaued`).
        log: receives progress lines (None: silent).
    """
    check_settings(study, output)
    stage = mle_stage(study, stages_output or output, log)
    curves = {}
    for model in models:
        for regime in regimes:
            if log:
                log(f"{model}, {regime} regime:")
            curves[model, regime] = run_regime(
                study,
                model,
                regime,
                output,
                rounds,
                stage,
                window,
                tolerance,
                log,
            )
            if results is not None:
                write_results(output, results)
    return curves


# --- the table and the figure ---------------------------------------------
