"""PG-BLEU's critic: BLEU-3 of each completed sequence against a fixed
share of the real data (the authors' baseline)."""

from __future__ import annotations

import numpy as np

from seqgan_tf import seeds
from seqgan_tf.critics.base import Critic
from seqgan_tf.rewards import BleuReward


class BleuCritic(Critic):
    """BLEU-3 against each real sequence kept with probability
    `bleu_reference_fraction` (drawn from the trainer's seed), see
    `rewards.BleuReward`. The discriminator model is not read.

    Args:
        bleu_reference_fraction: the share of the real data that is the
            references (the authors': 0.4).

    Examples:
        >>> import numpy as np
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     reward="bleu", bleu_reference_fraction=1.0)
        >>> real = np.array([[3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3]], np.int32)
        >>> gan.critic.prepare(real)  # train() does this
        >>> gan.critic.scorer()(real).numpy()  # each is a reference
        array([1., 1.], dtype=float32)
    """

    SETTINGS = ("bleu_reference_fraction",)

    def __init__(self, bleu_reference_fraction: float = 0.4):
        super().__init__()
        self.bleu_reference_fraction = float(bleu_reference_fraction)
        self.bleu_reward = None

    def prepare(self, real):
        trainer = self.trainer
        rng = np.random.default_rng(
            seeds.seed_pair(trainer.seed, seeds.REFERENCES)
        )
        chosen = real[rng.random(len(real)) < self.bleu_reference_fraction]
        if not len(chosen):
            chosen = real[:1]
        self.bleu_reward = BleuReward(
            chosen, eos_id=getattr(trainer.generator, "eos_id", None)
        )
        # The compiled step captured the previous scorer.
        trainer.forget_compiled_step("policy_gradient")

    def scorer(self):
        return self.bleu_reward
