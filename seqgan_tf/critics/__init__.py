"""Critics: what scores a completed sequence for the generator's update,
and how the discriminator model learns in the D rounds.

A critic is named by a registered reward (`seqgan_tf.methods`:
`training.reward`, `SeqGAN(reward=...)`) or passed as an instance:

- `discriminator`: `DiscriminatorCritic`, the discriminator's P(real)
  (SeqGAN);
- `importance`: `ImportanceCritic`, the same read as MaliGAN's importance
  weights;
- `rank`: `RankerCritic`, RankGAN's rank score against real references;
- `constant`: `ConstantCritic`, a constant (the ablation);
- `bleu`: `BleuCritic`, BLEU-3 against a share of the real data
  (PG-BLEU).

Each lives in its own module; `Critic` (`critics.base`) is the contract.
"""

from seqgan_tf.critics.base import Critic
from seqgan_tf.critics.base import resolve

__all__ = ["Critic", "resolve"]
