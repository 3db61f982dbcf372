"""SeqGAN's critic: the discriminator's P(real); MaliGAN reads the same
verdicts as importance weights."""

from seqgan_tf.critics.base import Critic


class DiscriminatorCritic(Critic):
    """The discriminator's P(real) of each completed sequence (SeqGAN):
    the reward "discriminator", the trainer's default.

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     reward="discriminator")
        >>> type(gan.critic).__name__, gan.critic.objective
        ('DiscriminatorCritic', 'rollout')
        >>> gan.critic.scorer()(gan.generator.generate(3)).shape
        TensorShape([3])
    """

    def scorer(self):
        return self.trainer.discriminator.scorer


class ImportanceCritic(DiscriminatorCritic):
    """The discriminator's P(real), read by MaliGAN's update as the
    importance weight D/(1-D) of each whole sequence
    (`objectives.importance`): the reward "importance".

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     reward="importance", num_rollouts=1)
        >>> gan.critic.objective
        'importance'
        >>> weights = gan.critic.importance_weights(gan.generator.generate(4))
        >>> weights.shape, round(float(sum(weights)), 4)  # normalised
        (TensorShape([4]), 1.0)
    """

    objective = "importance"
