"""Likelihood metrics: NLL-oracle and NLL of held-out data, in bounded chunks;
the generator's entropy; the discriminator probe.

BLEU and Self-BLEU live in `seqgan_tf.bleu`.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from scipy import stats

from seqgan_tf import losses
from seqgan_tf import optimal
from seqgan_tf import sampler
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.ranker import Ranker
from seqgan_tf.models.ranker import relevance

if TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator
    from seqgan_tf.models import OracleLSTM


def nll(
    model: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    batch_size: int = 1000,
    temperature: float = 1.0,
) -> float:
    """Mean per-token negative log-likelihood of `token_ids` [N, T] under
    `model` (a `Generator` or `OracleLSTM`) with its logits divided by
    `temperature`. NLL-test when `token_ids` is held-out real data. When
    `model.eos_id` is not None (variable-length sequences), the mean is
    over the positions up to and including each row's first EOS only;
    padding after it is ignored.

    Examples:
        A generator whose weights are all 0 predicts every token with
        probability 1/20:

        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> uniform = seqgan_tf.Generator(20, 6, initializer_stddev=0.0)
        >>> token_ids = [[3, 4, 5, 6, 7, 8], [9, 9, 9, 9, 9, 9]]
        >>> round(metrics.nll(uniform, token_ids), 4)  # log 20
        2.9957
    """
    log_prob = _log_prob_function(model, temperature)
    return -_masked_mean(log_prob, model, token_ids, batch_size)


def nll_at_temperatures(
    model: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    temperatures: Sequence[float],
    batch_size: int = 1000,
) -> list[float]:
    """`nll` of `token_ids` at each of `temperatures` (a list of floats,
    in order), from one teacher-forced pass per chunk: the logits do not
    depend on the temperature, only their scaling does. Equal to calling
    `nll` once per temperature, for a fraction of the work when the pass
    is costly (LeakGAN reads the discriminator's features of every
    prefix).

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> token_ids = oracle.generate(8, seed=(0, 1))
        >>> values = metrics.nll_at_temperatures(oracle, token_ids, [0.5, 1.0])
        >>> abs(values[1] - metrics.nll(oracle, token_ids)) < 1e-5  # T = 1
        True
    """
    temperatures = [float(t) for t in temperatures]
    if not temperatures or min(temperatures) <= 0:
        raise ValueError(
            f"`temperatures` must be a non-empty list of values > 0, got "
            f"{temperatures}."
        )
    token_ids = np.asarray(token_ids, dtype=np.int32)
    if token_ids.ndim != 2 or token_ids.shape[0] == 0:
        raise ValueError(
            "`token_ids` must be a non-empty [N, T] array, got "
            f"{token_ids.shape}."
        )
    values = tf.constant(temperatures, tf.float32)

    def per_temperature(chunk):
        logits = model(chunk, training=False)
        return tf.stack(
            [
                losses.token_log_probs(logits, chunk, values[i])
                for i in range(len(temperatures))
            ]
        )

    if not getattr(model, "run_eagerly", False):
        per_temperature = tf.function(per_temperature, reduce_retracing=True)
    eos_id = getattr(model, "eos_id", None)
    totals = np.zeros(len(temperatures))
    count = 0.0
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        log_probs = per_temperature(chunk)
        for i in range(len(temperatures)):
            kept, mask = losses.masked_log_probs(log_probs[i], chunk, eos_id)
            totals[i] += float(tf.reduce_sum(kept))
        count += float(tf.reduce_sum(tf.cast(mask, tf.float32)))
    return [float(-total / count) for total in totals]


def _masked_mean(per_position, model, token_ids, batch_size):
    """The mean over the sequences' own positions (up to each row's first
    EOS when `model.eos_id` is set) of `per_position(chunk)` [B, T],
    computed `batch_size` rows at a time."""
    token_ids = np.asarray(token_ids, dtype=np.int32)
    if token_ids.ndim != 2 or token_ids.shape[0] == 0:
        raise ValueError(
            "`token_ids` must be a non-empty [N, T] array, got "
            f"{token_ids.shape}."
        )
    eos_id = getattr(model, "eos_id", None)
    total = count = 0.0
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        kept, mask = losses.masked_log_probs(per_position(chunk), chunk, eos_id)
        total += float(tf.reduce_sum(kept))
        count += float(tf.reduce_sum(tf.cast(mask, tf.float32)))
    return total / count


def sequence_nll(
    model: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    batch_size: int = 1000,
    temperature: float = 1.0,
) -> np.ndarray:
    """Per-sequence mean per-token NLL of `token_ids` [N, T] under `model`
    (over each row's own positions, as `nll`); float64 [N].

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> uniform = seqgan_tf.Generator(20, 6, initializer_stddev=0.0)
        >>> metrics.sequence_nll(uniform, [[3, 4, 5, 6, 7, 8]]).round(4)
        array([2.9957])
    """
    token_ids = np.asarray(token_ids, dtype=np.int32)
    log_prob = _log_prob_function(model, temperature)
    eos_id = getattr(model, "eos_id", None)
    values = []
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        log_probs = log_prob(chunk)
        kept, mask = losses.masked_log_probs(log_probs, chunk, eos_id)
        count = tf.reduce_sum(tf.cast(mask, tf.float32), axis=1)
        values.append(
            -tf.reduce_sum(kept, axis=1).numpy().astype(np.float64)
            / count.numpy()
        )
    return np.concatenate(values)


def nll_oracle(
    generator: Generator | LeakGANGenerator,
    oracle: OracleLSTM,
    num_samples: int = 9984,
    seed: ArrayLike = (0, 0),
    batch_size: int = 1000,
) -> float:
    """NLL-oracle: mean per-token NLL under `oracle` of `num_samples`
    sequences sampled from `generator` (lower is better; the SeqGAN authors'
    code uses 9,984 samples, the paper's table 100,000).

    Examples:
        The oracle's own samples are likelier under it than those of a
        generator that knows nothing:

        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> uniform = seqgan_tf.Generator(20, 6, initializer_stddev=0.0)
        >>> best = metrics.nll_oracle(oracle, oracle, num_samples=256)
        >>> best < metrics.nll_oracle(uniform, oracle, num_samples=256)
        True
    """
    if num_samples < 1:
        raise ValueError(f"`num_samples` must be >= 1, got {num_samples}.")
    log_prob = oracle.make_log_prob_function()
    total = 0.0
    for samples in sampler.sample_chunks(
        generator, num_samples, seed, batch_size
    ):
        total += float(tf.reduce_sum(log_prob(samples)))
    return -total / (num_samples * generator.sequence_length)


# model -> its compiled log_prob(chunk, temperature): one trace serves
# every temperature.
_TEMPERED = weakref.WeakKeyDictionary()


def _log_prob_function(model, temperature):
    """The model's compiled `log_prob` at temperature 1, else `log_prob` at
    `temperature` (compiled once per model with the temperature as an
    argument; eager under `run_eagerly`)."""
    if temperature == 1.0:
        return model.make_log_prob_function()
    if getattr(model, "run_eagerly", False):
        return lambda chunk: model.log_prob(chunk, temperature=temperature)
    tempered = _TEMPERED.get(model)
    if tempered is None:
        owner = weakref.ref(model)  # the cache must not keep the model

        def log_prob(chunk, value):
            return owner().log_prob(chunk, temperature=value)

        tempered = tf.function(log_prob, reduce_retracing=True)
        _TEMPERED[model] = tempered
    value = tf.constant(temperature, tf.float32)
    return lambda chunk: tempered(chunk, value)


def mean_entropy(
    generator: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    batch_size: int = 200,
) -> float:
    """Mean per-token entropy (nats) of `generator`'s next-token
    distribution along `token_ids` [N, T], usually its own samples: a
    sharpening generator shows it falling. With `generator.eos_id`, only
    the positions up to each row's first EOS count.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> uniform = seqgan_tf.Generator(20, 6, initializer_stddev=0.0)
        >>> round(metrics.mean_entropy(uniform, [[3, 4, 5, 6, 7, 8]]), 4)
        2.9957
    """
    entropy = _entropy_function(generator)
    return _masked_mean(entropy, generator, token_ids, batch_size)


_ENTROPY = weakref.WeakKeyDictionary()


def _entropy_function(model):
    """The model's compiled per-position entropy [B, T] (eager under
    `run_eagerly`)."""
    function = _ENTROPY.get(model)
    if function is None:
        owner = weakref.ref(model)

        def entropy(chunk):
            logits = tf.cast(owner()(chunk), tf.float32)
            log_p = tf.nn.log_softmax(logits, axis=-1)
            return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)

        if getattr(model, "run_eagerly", False):
            return entropy
        function = tf.function(entropy, reduce_retracing=True)
        _ENTROPY[model] = function
    return function


def held_out_sequences(
    oracle: OracleLSTM,
    generator: Generator | LeakGANGenerator,
    num_samples: int,
    seed: ArrayLike,
    exclude: Sequence[np.ndarray] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """(fresh oracle sequences, fresh generator sequences): `num_samples`
    of each drawn from `seed`, without the rows that appear in any array
    of `exclude` (a discriminator's training data), so that both sets are
    held out from it."""
    seen = set()
    for rows in exclude:
        seen.update(row.tobytes() for row in np.asarray(rows, np.int32))

    def draw(model, stream):
        drawn = sampler.sample_many(
            model,
            num_samples,
            seed=tf.random.experimental.stateless_fold_in(
                tf.constant(seed, tf.int32), stream
            ),
        )
        keep = [row.tobytes() not in seen for row in drawn]
        return drawn[np.asarray(keep, bool)]

    return draw(oracle, 0), draw(generator, 1)


def discriminator_logits(
    discriminator: Discriminator | Ranker,
    token_ids: ArrayLike,
    references: ArrayLike | None = None,
    batch_size: int = 1000,
) -> np.ndarray:
    """A discriminator's verdict of each sequence on the scale of a logit
    (higher: more real), float64 [N], with dropout off:

    - a `Ranker`: its score against `references` (int [U, T], required):
      gamma * the sum of the cosines of the sequence's feature with the
      references' (`Ranker.scores`); the log of its rank score among any
      set of sequences is this minus a constant of the set;
    - a `Discriminator`: its raw logit, logits[:, 1] - logits[:, 0], which
      is log(P / (1 - P)) of its P(real) without the float32 saturation
      of P near 0 and 1;
    - anything else offering `predict_real` (P(real), [N]): log P -
      log(1 - P) in float64, P clipped to [the smallest float64 > 0,
      1 - 2^-53] (a P of exactly 0 or 1 gives a finite extreme).
    """
    token_ids = np.asarray(token_ids, dtype=np.int32)
    chunks = [
        token_ids[start : start + batch_size]
        for start in range(0, len(token_ids), batch_size)
    ]
    if isinstance(discriminator, Ranker):
        if references is None:
            raise ValueError("A `Ranker`'s logits need `references`.")
        reference_features = discriminator.features(
            tf.constant(np.asarray(references, np.int32)), training=False
        )

        def logit(rows):
            features = discriminator.features(rows, training=False)
            return relevance(
                features, reference_features, discriminator.gamma
            ).numpy()

    elif isinstance(discriminator, Discriminator):

        def logit(rows):
            logits = tf.cast(discriminator(rows, training=False), tf.float32)
            return (logits[:, 1] - logits[:, 0]).numpy()

    else:

        def logit(rows):
            p = np.asarray(discriminator.predict_real(rows), np.float64)
            p = np.clip(p, np.finfo(np.float64).tiny, 1.0 - 2.0**-53)
            return np.log(p) - np.log1p(-p)

    values = [logit(tf.constant(rows)) for rows in chunks]
    if not values:
        return np.zeros([0], np.float64)
    return np.concatenate(values).astype(np.float64)


def optimal_logits(
    oracle: OracleLSTM,
    generator: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    batch_size: int = 1000,
) -> np.ndarray:
    """`optimal.optimal_logit` (log p_oracle - log p_G) of `token_ids`
    [N, T], `batch_size` rows at a time, as float64 [N]."""
    token_ids = np.asarray(token_ids, dtype=np.int32)
    values = [
        optimal.optimal_logit(
            oracle,
            generator,
            tf.constant(token_ids[start : start + batch_size]),
        ).numpy()
        for start in range(0, len(token_ids), batch_size)
    ]
    if not values:
        return np.zeros([0], np.float64)
    return np.concatenate(values).astype(np.float64)


def _correlation(method, x, y):
    """`method` (`stats.spearmanr` or `stats.pearsonr`) of x and y; NaN
    when there are fewer than 2 pairs or either side is constant (where
    it is undefined)."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(method(x, y).statistic)


def discriminator_probe(
    discriminator: Discriminator | Ranker,
    generator: Generator | LeakGANGenerator,
    oracle: OracleLSTM,
    training_real: np.ndarray,
    num_samples: int,
    seed: ArrayLike,
    exclude: Sequence[np.ndarray] = (),
    references: ArrayLike | None = None,
) -> dict[str, float]:
    """How well a discriminator judges, on sequences it never trained on.

    Draws `num_samples` fresh oracle sequences and `num_samples` fresh
    generator sequences (`held_out_sequences`: rows that also appear in
    `training_real` or in any array of `exclude`, the discriminator's
    training data, are dropped), and scores them with the discriminator's
    P(real), and the generated ones also with its logit
    (`discriminator_logits`) and with the optimal discriminator's
    (`optimal.optimal_logit`, log p_oracle - log p_G: what it would say
    if it were perfect). The per-sequence values are
    `discriminator_probe_values`; this is their `probe_summary`.

    `references` (int [U, T]) are a `Ranker`'s reference sentences for
    its logits; default: (the first `num_samples` of) `training_real`.
    A `Ranker` has no P(real) (the `predict_real` it inherits reads its
    features as if they were two logits), so only the two correlations
    with the optimal logit say anything of one.

    Returns a dict:
        d_real_train: mean P(real) of (the first `num_samples` of)
            `training_real`, the real sequences it trained on;
        d_real_fresh: mean P(real) of the fresh oracle sequences;
        d_fake_fresh: mean P(real) of the fresh generated sequences;
        d_heldout_accuracy: accuracy on fresh real against fresh generated
            (P(real) > 0.5 is "real");
        d_quality_spearman: Spearman correlation of P(real) of the fresh
            generated sequences with the oracle's log-likelihood of each
            (does the verdict follow quality?; NaN when P(real) is
            constant);
        d_optimal_spearman, d_optimal_pearson: Spearman and Pearson
            correlations of the discriminator's logit of the fresh
            generated sequences with the optimal logit of each (does it
            order them as the best possible discriminator does, and on a
            linear scale?); NaN when either is constant.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import metrics
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> discriminator = seqgan_tf.Discriminator(
        ...     20, 6, filter_sizes=(2, 3), num_filters=(4, 4))
        >>> real = oracle.generate(32, seed=(0, 1)).numpy()
        >>> probe = metrics.discriminator_probe(
        ...     discriminator, generator, oracle, real, num_samples=16,
        ...     seed=(0, 2))
        >>> sorted(probe)
        ['d_fake_fresh', 'd_heldout_accuracy', 'd_optimal_pearson',
         'd_optimal_spearman', 'd_quality_spearman', 'd_real_fresh',
         'd_real_train']
    """
    return probe_summary(
        discriminator_probe_values(
            discriminator,
            generator,
            oracle,
            training_real,
            num_samples,
            seed,
            exclude,
            references,
        )
    )


def discriminator_probe_values(
    discriminator: Discriminator | Ranker,
    generator: Generator | LeakGANGenerator,
    oracle: OracleLSTM,
    training_real: np.ndarray,
    num_samples: int,
    seed: ArrayLike,
    exclude: Sequence[np.ndarray] = (),
    references: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """The per-sequence values `discriminator_probe` summarises (same
    arguments, same draws), for a caller that needs more of them than the
    summary (e.g. the logits of the fresh real sequences).

    Returns a dict of arrays:
        fresh_real, fresh_fake: int32 [R, T], [G, T], the held-out
            sequences (`held_out_sequences`; R, G <= `num_samples`);
        references: int32 [U, T], the `Ranker`'s references of the logits;
        train_p: float64, P(real) of the first `num_samples` of
            `training_real`;
        real_p, fake_p: float64 [R], [G], P(real) of the held-out ones;
        fake_logit: float64 [G], the discriminator's logit of the fresh
            generated sequences (`discriminator_logits`);
        optimal_logit: float64 [G], the optimal logit of each;
        quality: float64 [G], the oracle's mean per-token log-likelihood
            of each.
    """
    training_real = np.asarray(training_real, dtype=np.int32)
    fresh_real, fresh_fake = held_out_sequences(
        oracle, generator, num_samples, seed, [training_real, *exclude]
    )

    def p_real(rows):
        values = [
            discriminator.predict_real(rows[i : i + 1000]).numpy()
            for i in range(0, len(rows), 1000)
        ]
        return np.concatenate(values).astype(np.float64)

    if references is None:
        references = training_real[:num_samples]
    return {
        "fresh_real": fresh_real,
        "fresh_fake": fresh_fake,
        "references": np.asarray(references, np.int32),
        "train_p": p_real(training_real[:num_samples]),
        "real_p": p_real(fresh_real),
        "fake_p": p_real(fresh_fake),
        "fake_logit": discriminator_logits(
            discriminator, fresh_fake, references
        ),
        "optimal_logit": optimal_logits(oracle, generator, fresh_fake),
        "quality": -sequence_nll(oracle, fresh_fake),
    }


def probe_summary(values: Mapping[str, np.ndarray]) -> dict[str, float]:
    """`discriminator_probe`'s dict of the `discriminator_probe_values`
    `values`."""
    real_p, fake_p = values["real_p"], values["fake_p"]
    correct = np.concatenate([real_p > 0.5, fake_p <= 0.5])
    return {
        "d_real_train": float(values["train_p"].mean()),
        "d_real_fresh": float(real_p.mean()),
        "d_fake_fresh": float(fake_p.mean()),
        "d_heldout_accuracy": float(correct.mean()),
        "d_quality_spearman": _correlation(
            stats.spearmanr, fake_p, values["quality"]
        ),
        "d_optimal_spearman": _correlation(
            stats.spearmanr, values["fake_logit"], values["optimal_logit"]
        ),
        "d_optimal_pearson": _correlation(
            stats.pearsonr, values["fake_logit"], values["optimal_logit"]
        ),
    }
