"""The critic contract (`Critic`) and how a reward name becomes one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import methods
from seqgan_tf.component import Component
from seqgan_tf.models.ranker import Ranker
from seqgan_tf.rewards import importance_weights

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping
    from typing import Any

    import numpy as np

    from seqgan_tf.rollout import Scorer


class Critic(Component):
    """Scores completed sequences for the generator; trains the
    discriminator model in the D rounds.

    A trainer binds its critic once (`bind`), inside its strategy scope,
    and then calls:

    - `prepare(real)` before training (e.g. PG-BLEU's references);
    - `scorer()` for a `rollout.Scorer` (token ids [N, T] -> float32 [N])
      that the generator's objective reads, inside the compiled step;
    - `before_discriminator_step(positives, epoch, index, step)` and
      `before_generator_step(real, epoch, index)`, outside the compiled
      steps (e.g. RankGAN's reference draws);
    - `discriminator_replica(token_ids, labels)` -> (loss, correct) in
      replica context: one update of the discriminator model (by default
      SeqGAN's real-vs-generated cross-entropy).

    Subclasses set `objective`, the name of the generator update that reads
    them by default (`seqgan_tf.objectives`), and `SETTINGS`, the trainer
    keyword arguments (config fields) they take.

    Examples:
        A critic of one's own: every sequence scores its count of tokens
        other than 0.

        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> from seqgan_tf.critics import Critic
        >>> class LengthCritic(Critic):
        ...     def scorer(self):
        ...         return lambda token_ids: tf.reduce_sum(
        ...             tf.cast(token_ids != 0, tf.float32), axis=1)
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Discriminator(20, 6, filter_sizes=(2,),
        ...                             num_filters=(4,)),
        ...     reward=LengthCritic())
        >>> gan.critic.scorer()(tf.constant([[1, 2, 0, 0, 0, 0]])).numpy()
        array([2.], dtype=float32)

        `methods.register_reward` gives it a name for
        `training.reward`.
    """

    objective: str = "rollout"
    """The name of the objective that reads the critic by default."""
    SETTINGS: tuple[str, ...] = ()
    """The trainer keyword arguments (config fields) the critic takes."""
    # Whether the discriminator model is RankGAN's `Ranker` (the critic
    # and the model go together).
    ranks = False

    def bind(self, trainer: keras.Model) -> None:
        """Attaches the critic to `trainer` (its models and strategy)."""
        if isinstance(trainer.discriminator, Ranker) != self.ranks:
            raise ValueError(
                "RankGAN's `reward='rank'` and a `Ranker` go together; got "
                f"the {type(self).__name__} with a "
                f"{type(trainer.discriminator).__name__}."
            )
        super().bind(trainer)

    def prepare(self, real: np.ndarray) -> None:
        """Called by `train()` with the real data before the first epoch."""

    def scorer(self) -> Scorer:
        """The `rollout.Scorer` the generator's objective reads."""
        raise NotImplementedError

    def before_discriminator_step(
        self, positives: np.ndarray, epoch: int, index: int, step: int
    ) -> None:
        """Called before each D step of a D round on `positives`."""

    def before_generator_step(
        self, real: np.ndarray, epoch: int, index: int
    ) -> None:
        """Called before each policy-gradient step."""

    def discriminator_replica(
        self, token_ids: tf.Tensor, labels: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """One update of the discriminator model in replica context:
        SeqGAN's cross-entropy of real (1) against generated (0)."""
        trainer = self.trainer
        discriminator = trainer.discriminator
        with tf.GradientTape() as tape:
            logits = discriminator(token_ids, training=True)
            loss, correct = losses.discriminator_loss(
                logits,
                labels,
                regularization=keras.ops.sum(discriminator.losses),
                global_batch_size=trainer.batch_size,
                num_replicas=trainer.num_replicas,
            )
        self.apply(trainer.d_optimizer, tape, loss, discriminator)
        return loss, correct

    def importance_weights(
        self,
        samples: tf.Tensor,
        batch_sum: Callable[[tf.Tensor], tf.Tensor] | None = None,
        group_size: int | None = None,
    ) -> tf.Tensor:
        """MaliGAN's normalised importance weights of `samples` [B, T]:
        D/(1-D) of the discriminator's P(real), normalised over the batch
        (`batch_sum` adds a scalar over every replica's rows) or within
        each group of `group_size` rows ([B / n, n])."""
        p_real = self.trainer.discriminator.predict_real(samples)
        if group_size is not None:
            return importance_weights(p_real, group_size=group_size)
        return importance_weights(p_real, batch_sum)


def resolve(reward: str | Critic, settings: Mapping[str, Any]) -> Critic:
    """The critic of `reward` (a registered reward name, or a `Critic`
    instance returned as is) built from the trainer's `settings` dict (its
    own `SETTINGS` are taken from it).

    Examples:
        >>> from seqgan_tf import critics
        >>> critic = critics.resolve(
        ...     "constant", {"constant_reward": 0.5, "num_rollouts": 4})
        >>> type(critic).__name__, critic.get_config()
        ('ConstantCritic', {'constant_reward': 0.5})
    """
    if isinstance(reward, Critic):
        return reward
    if not isinstance(reward, str):
        raise TypeError(
            f"`reward` must be a registered reward name or a Critic, got "
            f"{type(reward).__name__}."
        )
    if reward not in methods.rewards():
        raise ValueError(
            f"`reward` must be one of {', '.join(methods.rewards())}, got "
            f"{reward!r}."
        )
    return methods.reward_critic(reward).from_settings(settings)
