"""Generator objectives: how the generator learns from its critic's scores.

- `rollout`: `RolloutPolicyGradient`, REINFORCE with every token
  rewarded by Monte Carlo rollouts (SeqGAN, RankGAN, PG-BLEU), optionally
  minus the batch mean;
- `importance`: `ImportanceWeights`, MaliGAN's normalised importance
  weights of whole sequences (basic, or mixed with real prefixes);
- `leakgan`: `LeakGANUpdate`, LeakGAN's Manager and Worker, rewards of
  every c-th prefix rescaled over the batch.

Every objective also owns the generator's maximum-likelihood pretraining
step (teacher forcing or scheduled sampling; LeakGAN adds its Manager's
loss). A critic names the objective that reads it by default
(`Critic.objective`); `SeqGAN(objective=...)` takes a name or an instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seqgan_tf.objectives.base import Objective
from seqgan_tf.objectives.importance import ImportanceWeights
from seqgan_tf.objectives.leakgan import LeakGANUpdate
from seqgan_tf.objectives.rollout import RolloutPolicyGradient

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

OBJECTIVES = {
    "rollout": RolloutPolicyGradient,
    "importance": ImportanceWeights,
    "leakgan": LeakGANUpdate,
}
"""The objective classes by name (`SeqGAN(objective=...)`,
`training.objective`)."""


def resolve(
    objective: str | Objective, settings: Mapping[str, Any]
) -> Objective:
    """The objective called `objective` (an instance is returned as is),
    built from the trainer's `settings` dict (its own `SETTINGS`).

    Examples:
        >>> from seqgan_tf import objectives
        >>> objective = objectives.resolve(
        ...     "importance",
        ...     {"num_rollouts": 1, "mali_continuations": 2, "seed": 0})
        >>> type(objective).__name__, objective.mali_continuations
        ('ImportanceWeights', 2)
    """
    if isinstance(objective, Objective):
        return objective
    if objective not in OBJECTIVES:
        raise ValueError(
            f"`objective` must be one of {', '.join(OBJECTIVES)}, got "
            f"{objective!r}."
        )
    return OBJECTIVES[objective].from_settings(settings)


__all__ = [
    "OBJECTIVES",
    "ImportanceWeights",
    "LeakGANUpdate",
    "Objective",
    "RolloutPolicyGradient",
    "resolve",
]
