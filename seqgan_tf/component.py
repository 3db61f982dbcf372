"""What a trainer's critic and objective share: their settings, their
binding to the trainer, and how they apply a gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    import keras


class Component:
    """A part of a `SeqGAN`: a critic (`seqgan_tf.critics.Critic`) or an
    objective (`seqgan_tf.objectives.Objective`).

    `SETTINGS` lists the trainer keyword arguments (config fields) it takes
    in `__init__`; `get_config` returns them. A trainer binds it once
    (`bind`), inside its strategy scope."""

    SETTINGS: tuple[str, ...] = ()

    def __init__(self, **settings: Any):
        unknown = set(settings) - set(self.SETTINGS)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes no setting {sorted(unknown)}."
            )
        self.trainer = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Component:
        """The part built from a trainer's keyword arguments: those of its
        own `SETTINGS` that `settings` holds."""
        return cls(**{k: settings[k] for k in cls.SETTINGS if k in settings})

    def bind(self, trainer: keras.Model) -> None:
        """Attaches the part to `trainer` (its models and strategy)."""
        self.trainer = trainer

    def get_config(self) -> dict[str, Any]:
        """The part's settings (trainer keyword arguments)."""
        return {name: getattr(self, name) for name in self.SETTINGS}

    def checkpoint_objects(self) -> dict[str, Any]:
        """What a checkpoint must hold beyond the models and optimizers."""
        return {}

    def one_device(self, reason: str) -> None:
        """Refuses a trainer with several replicas, saying `reason`."""
        replicas = self.trainer.num_replicas
        if replicas > 1:
            raise ValueError(
                f"{reason}; train it on one device (the strategy has "
                f"{replicas} replicas)."
            )

    def apply(self, optimizer, tape, loss, model):
        """Applies the gradient of `loss` (replica context) to `model`'s
        trainable variables with `optimizer`, summed over replicas."""
        self.trainer.replicas.apply(
            optimizer, tape, loss, model.trainable_variables
        )
