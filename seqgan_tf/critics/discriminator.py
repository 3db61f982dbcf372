"""SeqGAN's critic: the discriminator's P(real); MaliGAN reads the same
verdicts as importance weights."""

from seqgan_tf.critics.base import Critic


class DiscriminatorCritic(Critic):
    """The discriminator's P(real) of each completed sequence (SeqGAN).

    Example:

    ```python
    gan = seqgan_tf.SeqGAN(generator, discriminator, reward="discriminator")
    ```
    """

    def scorer(self):
        return self.trainer.discriminator.scorer


class ImportanceCritic(DiscriminatorCritic):
    """The discriminator's P(real), read by MaliGAN's update as the
    importance weight D/(1-D) of each whole sequence
    (`objectives.importance`)."""

    objective = "importance"
