"""The constant reward: the ablation that keeps SeqGAN's update and drops
what the discriminator says."""

from __future__ import annotations

import tensorflow as tf

from seqgan_tf.critics.base import Critic


class ConstantCritic(Critic):
    """Every completed sequence scores `constant_reward`. The
    discriminator model still learns in the D rounds (as SeqGAN's), but the
    generator never reads it.

    Args:
        constant_reward: the score (1.0).

    Examples:
        >>> import tensorflow as tf
        >>> from seqgan_tf.critics.constant import ConstantCritic
        >>> critic = ConstantCritic(constant_reward=0.5)
        >>> critic.scorer()(tf.zeros([3, 6], tf.int32)).numpy()
        array([0.5, 0.5, 0.5], dtype=float32)
        >>> critic.get_config()
        {'constant_reward': 0.5}
    """

    SETTINGS = ("constant_reward",)

    def __init__(self, constant_reward: float = 1.0):
        super().__init__()
        self.constant_reward = float(constant_reward)

    def scorer(self):
        return self._score

    def importance_weights(self, samples, batch_sum=None, group_size=None):
        """Uniform weights: MaliGAN's update without its discriminator
        (every reward w - 1/B is then 0 in the basic algorithm)."""
        rows = tf.shape(samples)[0]
        if group_size is not None:
            return tf.fill([rows // group_size, group_size], 1.0 / group_size)
        total = tf.cast(rows, tf.float32)
        if batch_sum is not None:
            total = batch_sum(total)
        return tf.fill([rows], 1.0) / total

    def _score(self, token_ids):
        return tf.fill(tf.shape(token_ids)[:1], self.constant_reward)
