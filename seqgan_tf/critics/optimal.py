"""Critics that know: the Bayes-optimal discriminator of the synthetic task.

With the oracle's and the generator's likelihoods both computable, the
discriminator that separates oracle from generated sequences best is
D*(x) = p_oracle(x) / (p_oracle(x) + p_G(x)) = sigma(log p_oracle(x) -
log p_G(x)), with the *current* generator (`seqgan_tf.optimal`). These
critics bound what any learned discriminator could give the generator;
they read the oracle, so only the synthetic task has them.

Magnitudes: on the paper's task the optimal logit of a generated sequence
is tens of nats below 0, so D* of a typical sample is around 1e-23 and is
exactly 0 in float32 below a logit of about -87 (TensorFlow's CPU kernels
flush subnormals to zero). `OptimalCritic` rewards with D* as the paper's
reward with a perfect discriminator would (most tokens' rewards are then
0 or tiny); `OptimalLogitCritic` rewards with the logit itself, whose
expected policy gradient is that of -KL(p_G || p_oracle); the importance
critic gives MaliGAN the exact ratio p_oracle / p_G, normalised as a
softmax of the logits.
"""

from seqgan_tf import optimal
from seqgan_tf.critics.base import Critic
from seqgan_tf.rewards import optimal_importance_weights


class OptimalCritic(Critic):
    """Rollouts scored by D*(x) of each completed sequence (computed in log
    space: `optimal.optimal_probability`). The discriminator model still
    learns in the D rounds (its probe shows what a learned one knows) but
    is not read. The reward "optimal_discriminator" (the oracle task
    only).

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     oracle=seqgan_tf.OracleLSTM.random(20, 6, seed=0),
        ...     reward="optimal_discriminator")
        >>> d_star = gan.critic.scorer()(gan.generator.generate(3))
        >>> d_star.shape, bool(all((d_star >= 0) & (d_star <= 1)))
        (TensorShape([3]), True)
    """

    _scorer_class = optimal.OptimalScorer

    def bind(self, trainer):
        super().bind(trainer)
        if trainer.oracle is None:
            raise ValueError(
                f"The {type(self).__name__} reads the oracle's likelihood: "
                "it exists only on the synthetic task (give the `oracle`)."
            )
        self._scorer = self._scorer_class(trainer.oracle, trainer.generator)

    def scorer(self):
        return self._scorer


class OptimalLogitCritic(OptimalCritic):
    """Rollouts scored by D*'s logit, log p_oracle(x) - log p_G(x): the
    reward "optimal_logit" (the oracle task only).

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     oracle=seqgan_tf.OracleLSTM.random(20, 6, seed=0),
        ...     reward="optimal_logit")
        >>> gan.critic.scorer()(gan.generator.generate(3)).shape  # nats
        TensorShape([3])
    """

    _scorer_class = optimal.OptimalLogitScorer


class OptimalImportanceCritic(OptimalCritic):
    """MaliGAN's weights with the exact ratio p_oracle / p_G: the softmax
    of the optimal logits over the batch (or within each group). The
    reward "optimal_importance" (the oracle task only).

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     oracle=seqgan_tf.OracleLSTM.random(20, 6, seed=0),
        ...     reward="optimal_importance", num_rollouts=1)
        >>> weights = gan.critic.importance_weights(gan.generator.generate(4))
        >>> weights.shape, round(float(sum(weights)), 4)
        (TensorShape([4]), 1.0)
    """

    objective = "importance"
    _scorer_class = optimal.OptimalLogitScorer

    def bind(self, trainer):
        super().bind(trainer)
        self.one_device(
            "The exact importance weights normalise over the whole batch"
        )

    def importance_weights(self, samples, batch_sum=None, group_size=None):
        logits = self._scorer.logits(samples)
        return optimal_importance_weights(logits, group_size=group_size)
