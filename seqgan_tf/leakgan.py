"""LeakGAN's trainer (Guo et al., AAAI 2018, arXiv 1709.08624): SeqGAN's
schedule with LeakGAN's generator and update.

The phases are SeqGAN's (`trainer.SeqGAN`); the update is
`objectives.LeakGANUpdate` (the Manager's and the Worker's losses, rewards
of every c-th prefix rescaled over the batch, interleaved MLE steps), the
generator a `LeakGANGenerator` that reads the discriminator's features.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras

from seqgan_tf.models.leakgan import LeakGANGenerator
from seqgan_tf.trainer import SeqGAN

if TYPE_CHECKING:
    from typing import Any

    from seqgan_tf.models.discriminator import Discriminator


@keras.saving.register_keras_serializable(package="seqgan_tf")
class LeakGAN(SeqGAN):
    """`SeqGAN`'s trainer for a `LeakGANGenerator`.

    Args:
        generator: the `LeakGANGenerator` to train.
        discriminator: the `Discriminator` whose features it leaks.
        *args: `SeqGAN`'s other arguments (the reward must be
            "discriminator" or "constant"; one device; no scheduled
            sampling).
        **kwargs: `SeqGAN`'s keyword arguments and the settings of
            `objectives.LeakGANUpdate`: `leakgan_rescale` ("sorted",
            "unsorted" or "none"), `interleaved_mle_steps` and
            `leakgan_clip` ("per_module" or "joint").

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf.leakgan import LeakGAN
        >>> d = seqgan_tf.Discriminator(20, 6, filter_sizes=(2, 3),
        ...                             num_filters=(4, 4))
        >>> g = seqgan_tf.LeakGANGenerator(20, 6, d, goal_size=4, goal_step=2)
        >>> gan = LeakGAN(g, d, batch_size=8, interleaved_mle_steps=1)
        >>> type(gan.objective).__name__
        'LeakGANUpdate'
    """

    def __init__(
        self,
        generator: LeakGANGenerator,
        discriminator: Discriminator,
        *args: Any,
        **kwargs: Any,
    ):
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
