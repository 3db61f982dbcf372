"""The Bayes-optimal discriminator of the synthetic task, computed exactly.

When the real data are an oracle's samples, the discriminator that best
tells them from a generator's is known in closed form. For a complete
sequence x,

    D*(x) = p_oracle(x) / (p_oracle(x) + p_G(x))
          = sigmoid(log p_oracle(x) - log p_G(x)),

and both log-likelihoods are sums of the models' per-token
log-probabilities (`Policy.log_prob`). Its logit, the log-likelihood
ratio, is what a trained discriminator can at best learn
(`metrics.discriminator_probe` correlates a discriminator's logit with
it); as a rollout scorer (`OptimalScorer`, `OptimalLogitScorer`) it
rewards a generator with the verdict SeqGAN's analysis assumes;
`rewards.optimal_importance_weights` turns it into MaliGAN's weights with
the exact ratio p_oracle / p_G.

Its scale. On the paper's oracle (vocabulary 5,000, length 20) the
optimal logit of a generated sequence is about -53 +- 12 nats and of an
oracle sequence about +52: two models that differ by a few hundredths of
a nat per token differ by tens of nats per sequence. So D* of a typical
generated sequence is about 1e-23, and float32 holds sigmoid(x) as a
normal number only for x above about -87.3, as a subnormal (with fewer
significant bits) down to about -103.97, and as exactly 0 below;
TensorFlow's CPU kernels flush subnormal results to 0, so there D* is 0
below about -87.3 already. The logit must be computed, and the
probability derived from it, in log space; this module never forms
p_oracle(x) or p_G(x) themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.data.masks import padding_mask as make_padding_mask

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator
    from seqgan_tf.models import OracleLSTM


def sequence_log_prob(
    model: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    padding_mask: ArrayLike | None = None,
) -> tf.Tensor:
    """log p(x) of each complete sequence under `model` (a `Generator`,
    `OracleLSTM` or any `Policy`): the sum of its per-token
    log-probabilities over the positions where `padding_mask` (bool
    [B, T]) is True, all of them when it is None. float32 [B].

    Examples:
        >>> import numpy as np
        >>> import seqgan_tf
        >>> from seqgan_tf import optimal
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> token_ids = [[3, 4, 5, 6, 7, 8]]
        >>> log_p = optimal.sequence_log_prob(generator, token_ids)
        >>> np.allclose(log_p, np.sum(generator.log_prob(token_ids), axis=1))
        True
    """
    token_ids = tf.cast(token_ids, tf.int32)
    log_probs = tf.cast(model.log_prob(token_ids), tf.float32)
    if padding_mask is not None:
        log_probs = tf.where(
            tf.cast(padding_mask, tf.bool), log_probs, tf.zeros_like(log_probs)
        )
    return tf.reduce_sum(log_probs, axis=1)


def optimal_logit(
    oracle: OracleLSTM,
    generator: Generator | LeakGANGenerator,
    token_ids: ArrayLike,
    padding_mask: ArrayLike | None = None,
    batch_size: int | None = None,
) -> tf.Tensor:
    """The logit of the optimal discriminator: log p_oracle(x) - log p_G(x).

    Both models score the same token ids, teacher-forced. With
    `padding_mask` None the mask is the generator's
    (`data.padding_mask` of `generator.eos_id`: up to and including the
    first EOS of a variable-length sequence; every position of the
    fixed-length oracle task), and both sums run over the same positions.

    Pure TensorFlow: it runs eagerly or inside a `tf.function` (it reads
    the models' current weights each time it runs).

    Args:
        oracle: the `OracleLSTM` whose samples are the real data.
        generator: the generator being judged (the one being trained).
        token_ids: int [N, T] complete sequences.
        padding_mask: optional bool [N, T], the positions that count.
        batch_size: optional int: score `batch_size` rows at a time (one
            after another, in a `tf.map_fn`), so that each model's
            teacher-forced logits [batch_size, T, V] bound the memory
            instead of [N, T, V] (4096 completions of the paper's task
            hold 1.6 GB of float32 logits per model). None: one pass.

    Returns:
        float32 [N].

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import optimal
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> token_ids = oracle.generate(2, seed=(0, 1))
        >>> generator = oracle  # a perfect generator
        >>> optimal.optimal_logit(oracle, generator, token_ids).numpy()
        array([0., 0.], dtype=float32)
    """
    token_ids = tf.cast(token_ids, tf.int32)
    if padding_mask is None:
        padding_mask = make_padding_mask(
            token_ids, getattr(generator, "eos_id", None)
        )
    padding_mask = tf.cast(padding_mask, tf.bool)

    def logit(rows, mask):
        return sequence_log_prob(oracle, rows, mask) - sequence_log_prob(
            generator, rows, mask
        )

    if batch_size is None:
        return logit(token_ids, padding_mask)
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1, got {batch_size}.")
    count = tf.shape(token_ids)[0]
    chunks = (count + batch_size - 1) // batch_size
    extra = chunks * batch_size - count
    length = token_ids.shape[1] or tf.shape(token_ids)[1]
    # Padding rows (token 0, every position kept) are scored and dropped.
    rows = tf.reshape(
        tf.pad(token_ids, [[0, extra], [0, 0]]), [chunks, batch_size, length]
    )
    masks = tf.reshape(
        tf.pad(padding_mask, [[0, extra], [0, 0]], constant_values=True),
        [chunks, batch_size, length],
    )
    values = tf.map_fn(
        lambda pair: logit(pair[0], pair[1]),
        (rows, masks),
        fn_output_signature=tf.TensorSpec([batch_size], tf.float32),
        # One chunk at a time: the point is bounded memory.
        parallel_iterations=1,
    )
    return tf.reshape(values, [-1])[:count]


def optimal_probability(logits: ArrayLike) -> tf.Tensor:
    """D* = sigmoid(logits) as exp(log_sigmoid(logits)), float32.

    Finite and in [0, 1] for every finite logit (a logit of +-200 gives
    1 and 0; exp(x) / (1 + exp(x)) would give NaN at +200). The value is
    float32's: a relative error of a few ulps down to a logit of about
    -87.3 (float32's smallest normal number, 1.2e-38); below, a subnormal
    (precision falling to nothing) down to about -103.97 and exactly 0
    beyond, or 0 at once where the kernels flush subnormals to zero (as
    TensorFlow's CPU kernels do).

    Examples:
        >>> from seqgan_tf import optimal
        >>> optimal.optimal_probability([0.0, 200.0, -200.0]).numpy()
        array([0.5, 1. , 0. ], dtype=float32)
    """
    return tf.exp(tf.math.log_sigmoid(tf.cast(logits, tf.float32)))


class OptimalLogitScorer:
    """The optimal discriminator's logit as a rollout scorer
    (`rollout.Scorer`): int32 [N, T] -> float32 [N], `optimal_logit` of
    each sequence (log p_oracle - log p_G, in nats; about -53 +- 12 for
    the generated sequences of the paper's task).

    As a reward it is a log-likelihood ratio, not a probability: negative
    for most generated sequences. Its values are constants of the update
    (`tf.stop_gradient`).

    Args:
        oracle: the `OracleLSTM` of the real data.
        generator: the generator being trained (`SeqGAN.generator`, read
            at every call so the critic follows its updates), also when
            the rollouts sample from a delayed copy: D* judges the
            distribution being trained.
        batch_size: rows scored at a time (`optimal_logit`), bounding the
            memory of the teacher-forced logits; None: all at once.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf.optimal import OptimalLogitScorer
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> scorer = OptimalLogitScorer(oracle, generator)
        >>> scorer(generator.generate(3, seed=(0, 1))).shape
        TensorShape([3])
        >>> OptimalLogitScorer(oracle, oracle)([[3, 4, 5, 6, 7, 8]]).numpy()
        array([0.], dtype=float32)
    """

    def __init__(
        self,
        oracle: OracleLSTM,
        generator: Generator | LeakGANGenerator,
        batch_size: int | None = 512,
    ):
        self.oracle = oracle
        self.generator = generator
        self.batch_size = batch_size

    def logits(self, token_ids: ArrayLike) -> tf.Tensor:
        """`optimal_logit` of `token_ids` [N, T]: float32 [N]."""
        return tf.stop_gradient(
            optimal_logit(
                self.oracle,
                self.generator,
                token_ids,
                batch_size=self.batch_size,
            )
        )

    def __call__(self, token_ids: ArrayLike) -> tf.Tensor:
        return self.logits(token_ids)


class OptimalScorer(OptimalLogitScorer):
    """The optimal discriminator D*(x) = sigmoid(log p_oracle(x) -
    log p_G(x)) as a rollout scorer (`rollout.Scorer`): int32 [N, T] ->
    float32 [N] in [0, 1], the SeqGAN reward of a perfect discriminator.

    Computed as `optimal_probability` of `optimal_logit`: stable, never
    NaN. But on the paper's task it is, in float32, about 1e-23 for a
    typical generated sequence (logit -53 +- 12), and 0 (or subnormal)
    for a logit below about -87.3: the rollout rewards of most tokens are
    then tiny or 0, and the few sequences the oracle prefers carry nearly
    all the signal. `OptimalLogitScorer` is
    the same verdict on a usable scale.

    Args:
        oracle: the `OracleLSTM` of the real data.
        generator: the generator being trained (read at every call).
        batch_size: rows scored at a time; None: all at once.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf.optimal import OptimalScorer
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> OptimalScorer(oracle, oracle)([[3, 4, 5, 6, 7, 8]]).numpy()
        array([0.5], dtype=float32)
    """

    def __call__(self, token_ids: ArrayLike) -> tf.Tensor:
        return optimal_probability(self.logits(token_ids))
