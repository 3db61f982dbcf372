"""LeakGAN's trainer (Guo et al., AAAI 2018, arXiv 1709.08624): SeqGAN's
schedule with LeakGAN's generator and update.

The phases are SeqGAN's (`trainer.SeqGAN`); the update is
`objectives.LeakGANUpdate` (the Manager's and the Worker's losses, rewards
of every c-th prefix rescaled over the batch, interleaved MLE steps), the
generator a `LeakGANGenerator` that reads the discriminator's features.
"""

import keras

from seqgan_tf.models.leakgan import LeakGANGenerator
from seqgan_tf.trainer import SeqGAN


@keras.saving.register_keras_serializable(package="seqgan_tf")
class LeakGAN(SeqGAN):
    """`SeqGAN`'s trainer for a `LeakGANGenerator`.

    Takes `SeqGAN`'s arguments (the reward must be "discriminator" or
    "constant"; one device; no scheduled sampling) and the settings of
    `objectives.LeakGANUpdate`: `leakgan_rescale` ("sorted", "unsorted" or
    "none"), `interleaved_mle_steps` and `leakgan_clip` ("per_module" or
    "joint").

    Example:

    ```python
    discriminator = seqgan_tf.Discriminator(5000, 20)
    generator = seqgan_tf.models.LeakGANGenerator(
        5000, 20, discriminator=discriminator
    )
    gan = LeakGAN(generator, discriminator, interleaved_mle_steps=1)
    ```
    """

    def __init__(self, generator, discriminator, *args, **kwargs):
        if not isinstance(generator, LeakGANGenerator):
            raise ValueError(
                "LeakGAN trains a LeakGANGenerator, got "
                f"{type(generator).__name__}."
            )
        if generator.discriminator is not discriminator:
            raise ValueError(
                "The LeakGANGenerator must leak the features of the "
                "discriminator it is trained against."
            )
        objective = kwargs.pop("objective", None)
        if objective not in (None, "leakgan"):
            raise ValueError(
                "LeakGAN trains by its own update (objective='leakgan'), "
                f"got objective={objective!r}."
            )
        reward = kwargs.get("reward", "discriminator")
        if reward not in ("discriminator", "constant"):
            raise ValueError(
                "LeakGAN is rewarded by the discriminator (or a constant), "
                f"got reward={reward!r}."
            )
        if kwargs.get("scheduled_sampling_decrement"):
            raise ValueError(
                "LeakGAN rolls out with the current generator and pretrains "
                "with teacher forcing."
            )
        super().__init__(
            generator, discriminator, *args, objective="leakgan", **kwargs
        )

    def get_config(self):
        config = super().get_config()
        config.pop("objective", None)
        return config

    @classmethod
    def from_config(cls, config):
        # The generator holds the discriminator it leaks: train against it.
        config = dict(config)
        # Saved before `leakgan_clip` existed: trained with one joint clip.
        config.setdefault("leakgan_clip", "joint")
        config.pop("discriminator")
        generator = keras.saving.deserialize_keras_object(
            config.pop("generator")
        )
        return cls(generator, generator.discriminator, **config)
