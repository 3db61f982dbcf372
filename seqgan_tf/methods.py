"""The registry of training methods: the one list of method names.

A method is a named composition: the reward its generator reads (a
registered critic, `seqgan_tf.critics`), the update that reads it (rollout
policy gradient, MaliGAN's importance weights or LeakGAN's hierarchical
update, `seqgan_tf.objectives`), and the config settings that make it.
`seqgan-tf train --method`, `config.for_method`, the reproductions'
tables and the documentation's tables all read this registry; nothing else
lists method names.

Plain Python (no TensorFlow), so the command line can offer the methods
before TensorFlow starts. A new method is one `register` call, with a new
reward one `register_reward` call beside it:

```python
from seqgan_tf import methods

methods.register_reward("length", "my_package.critics:LengthCritic")
methods.register(methods.Method(
    "length_reward", "every token rewarded by its sequence's length",
    settings=("training.reward=length",),
))
```
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# The tables of the reproductions a method can be a row of: Table 1's
# (`classic`: the paper's baselines and SeqGAN's ablations; `authors`:
# SeqGAN's controls on the authors' discriminator training; `family`: its
# successors; `critic`: SeqGAN, MaliGAN and RankGAN with learned, constant
# and optimal critics), Table 2's quatrains, and the successors' COCO table.
TABLES = ("classic", "authors", "family", "critic", "quatrains", "coco")


@dataclasses.dataclass(frozen=True)
class Method:
    """One training method.

    Attributes:
        name: what `--method`, `for_method` and the tables call it.
        summary: one line for the command line's help and the docs.
        settings: `section.field=value` overrides that make it (applied
            after its `parent`'s), e.g. `("training.reward=constant",)`.
        parent: a method whose settings come first (a variant of it).
        command_line: offered by `seqgan-tf train --method`; a variant
            that is not keeps its nearest offered ancestor's name in
            `training.method` (so run directories made before it was
            registered still resume).
        tables: the reproductions' tables it is a row of (`TABLES`).
        stage_family: the shared pretraining stages of a reproduction it
            starts from: None (SeqGAN's), or a family of its own (LeakGAN's
            generator).
        run_last: a reproduction trains its rows after every cheaper row
            of every seed (its adversarial rounds train the discriminator:
            almost all of a reproduction's time).
        configure: optional `configure(config)` -> more overrides that
            depend on the config (e.g. a default only where unset).
        adjust: optional `adjust(config, schedule)` -> more overrides that
            depend on a reproduction's schedule (e.g. as many MLE steps as
            the schedule's adversarial rounds); called by the
            reproductions only.

    Examples:
        A variant of SeqGAN, registered (and removed again):

        >>> from seqgan_tf import methods
        >>> method = methods.Method(
        ...     "seqgan_many_rollouts", "SeqGAN with 32 rollouts a prefix",
        ...     settings=("training.num_rollouts=32",), parent="seqgan",
        ...     command_line=False, tables=("classic",))
        >>> methods.register(method).name
        'seqgan_many_rollouts'
        >>> [m.name for m in methods.lineage("seqgan_many_rollouts")]
        ['seqgan', 'seqgan_many_rollouts']
        >>> methods.config_name("seqgan_many_rollouts")  # training.method
        'seqgan'
        >>> methods.unregister("seqgan_many_rollouts")
    """

    name: str
    summary: str
    settings: tuple[str, ...] = ()
    parent: str | None = None
    command_line: bool = True
    tables: tuple[str, ...] = ()
    stage_family: str | None = None
    run_last: bool = False
    configure: Callable[..., tuple[str, ...]] | None = None
    adjust: Callable[..., tuple[str, ...]] | None = None


_METHODS = {}
# Reward names -> the critic class, or "module:Class" resolved on use.
_REWARDS = {}
# Rewards that read the oracle (the synthetic task only).
_ORACLE_REWARDS = set()


def register(method: Method, replace: bool = False) -> Method:
    """Adds `method` (a `Method`) to the registry; returns it. A name
    already registered is refused unless `replace`.

    Examples:
        >>> from seqgan_tf import methods
        >>> methods.register(methods.Method(
        ...     "mle_short", "MLE, one epoch", settings=(
        ...         "training.generator_epochs=1",), parent="mle"))
        Method(name='mle_short', ...)
        >>> methods.settings("mle_short")  # the parent's first
        ('training.discriminator_rounds=0', 'training.adversarial_rounds=0',
         'training.generator_epochs=1')
        >>> methods.unregister("mle_short")
    """
    if not isinstance(method, Method):
        raise TypeError(f"register() takes a Method, got {type(method)}.")
    if method.name in _METHODS and not replace:
        raise ValueError(f"A method called {method.name!r} is registered.")
    unknown = set(method.tables) - set(TABLES)
    if unknown:
        raise ValueError(
            f"Unknown tables {sorted(unknown)}; choose from {TABLES}."
        )
    _METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Removes a method (a program that registered its own cleans up)."""
    _METHODS.pop(name, None)


def get(name: str) -> Method:
    """The `Method` called `name`; a `ValueError` lists the known ones.

    Examples:
        >>> from seqgan_tf import methods
        >>> methods.get("maligan").settings
        ('training.reward=importance', 'training.num_rollouts=1')
        >>> methods.get("maligan").summary
        'MaliGAN: normalised importance weights D/(1-D), no rollouts'
    """
    if name not in _METHODS:
        raise ValueError(
            f"Unknown method {name!r}; choose one of: {', '.join(_METHODS)}."
        )
    return _METHODS[name]


def names(
    table: str | None = None, command_line: bool | None = None
) -> tuple[str, ...]:
    """The registered method names in registration order: all, those of
    one reproduction `table` (of `TABLES`), or those the command line
    offers (`command_line=True`).

    Examples:
        >>> from seqgan_tf import methods
        >>> methods.names(command_line=True)
        ('mle', 'scheduled_sampling', 'pg_bleu', 'seqgan', 'maligan',
         'rankgan', 'leakgan')
        >>> methods.names("coco")
        ('mle', 'seqgan', 'maligan', 'rankgan', 'leakgan')
    """
    return tuple(
        m.name
        for m in _METHODS.values()
        if (table is None or table in m.tables)
        and (command_line is None or m.command_line == command_line)
    )


def lineage(name: str) -> list[Method]:
    """`name`'s methods from the root ancestor down to itself."""
    chain = []
    while name is not None:
        if name in (m.name for m in chain):
            raise ValueError(f"Method {name!r} is its own ancestor.")
        method = get(name)
        chain.append(method)
        name = method.parent
    return chain[::-1]


def settings(name: str) -> tuple[str, ...]:
    """Every override of a method, its ancestors' first."""
    return tuple(s for m in lineage(name) for s in m.settings)


def config_name(name: str) -> str:
    """What `training.method` records for `name`: the method itself if
    the command line offers it, else its nearest ancestor that is."""
    offered = [m.name for m in lineage(name) if m.command_line]
    return offered[-1] if offered else name


def register_reward(
    name: str,
    critic: type | str,
    replace: bool = False,
    oracle_only: bool = False,
) -> None:
    """Makes `training.reward=name` (and `SeqGAN(reward=name)`) use
    `critic`: a `seqgan_tf.critics.Critic` subclass, or its
    "module:Class" path (imported on first use). `oracle_only`: it reads
    the oracle, so a text task refuses it.

    Examples:
        >>> from seqgan_tf import methods
        >>> methods.register_reward(
        ...     "half", "seqgan_tf.critics.constant:ConstantCritic")
        >>> methods.reward_critic("half").__name__
        'ConstantCritic'
        >>> methods.unregister_reward("half")
    """
    if name in _REWARDS and not replace:
        raise ValueError(f"A reward called {name!r} is registered.")
    _REWARDS[name] = critic
    if oracle_only:
        _ORACLE_REWARDS.add(name)
    else:
        _ORACLE_REWARDS.discard(name)


def reward_needs_oracle(name: str) -> bool:
    """Whether reward `name` reads the oracle (synthetic task only)."""
    return name in _ORACLE_REWARDS


def unregister_reward(name: str) -> None:
    """Removes a reward name (a program that registered its own cleans
    up)."""
    _REWARDS.pop(name, None)
    _ORACLE_REWARDS.discard(name)


def rewards() -> tuple[str, ...]:
    """The registered reward names.

    Examples:
        >>> from seqgan_tf import methods
        >>> methods.rewards()
        ('discriminator', 'constant', 'bleu', 'importance', 'rank',
         'optimal_discriminator', 'optimal_logit', 'optimal_importance')
    """
    return tuple(_REWARDS)


def reward_critic(name: str) -> type:
    """The critic class registered as reward `name`."""
    if name not in _REWARDS:
        raise ValueError(
            f"Unknown reward {name!r}; choose one of: {', '.join(_REWARDS)}."
        )
    critic = _REWARDS[name]
    if isinstance(critic, str):
        module, _, attribute = critic.partition(":")
        critic = getattr(importlib.import_module(module), attribute)
        _REWARDS[name] = critic
    return critic


# --- the built-in rewards -------------------------------------------------

for _name, _path in (
    ("discriminator", "seqgan_tf.critics.discriminator:DiscriminatorCritic"),
    ("constant", "seqgan_tf.critics.constant:ConstantCritic"),
    ("bleu", "seqgan_tf.critics.bleu:BleuCritic"),
    ("importance", "seqgan_tf.critics.discriminator:ImportanceCritic"),
    ("rank", "seqgan_tf.critics.ranker:RankerCritic"),
):
    register_reward(_name, _path)
for _name, _path in (
    ("optimal_discriminator", "seqgan_tf.critics.optimal:OptimalCritic"),
    ("optimal_logit", "seqgan_tf.critics.optimal:OptimalLogitCritic"),
    ("optimal_importance", "seqgan_tf.critics.optimal:OptimalImportanceCritic"),
):
    register_reward(_name, _path, oracle_only=True)


# --- the built-in methods -------------------------------------------------


def _equal_updates(config, schedule):
    """As many more MLE steps as SeqGAN makes policy-gradient steps after
    pretraining (one per adversarial round), rounded up to epochs."""
    t = config.training
    steps_per_epoch = config.data.num_real // t.batch_size
    extra = -(
        -schedule.adversarial_rounds * t.generator_steps // steps_per_epoch
    )
    return (f"training.generator_epochs={schedule.mle_epochs + extra}",)


def _scheduled_sampling_rate(config):
    """The authors' decrement of 0.002 an epoch, unless one is set."""
    if config.training.scheduled_sampling_decrement:
        return ()
    return ("training.scheduled_sampling_decrement=0.002",)


def _scheduled_sampling_epochs(config, schedule):
    """`ss_epochs` epochs, the rate falling to 0.4 at the end (as the
    authors' 300 epochs of 0.002)."""
    return (
        f"training.generator_epochs={schedule.ss_epochs}",
        f"training.scheduled_sampling_decrement={0.6 / schedule.ss_epochs!r}",
    )


_MLE_ONLY = ("training.discriminator_rounds=0", "training.adversarial_rounds=0")
_ABLATION = ("authors",)

for _method in (
    Method(
        "random",
        "the untrained generator",
        settings=("training.generator_epochs=0",),
        parent="mle",
        command_line=False,
        tables=("classic", "authors", "family"),
    ),
    Method(
        "mle",
        "maximum-likelihood training only (no discriminator)",
        settings=_MLE_ONLY,
        tables=("classic", "authors", "family", "critic", "quatrains", "coco"),
    ),
    Method(
        "mle_equal_updates",
        "MLE with as many more steps as SeqGAN's policy-gradient steps",
        parent="mle",
        command_line=False,
        tables=("classic", "authors"),
        adjust=_equal_updates,
    ),
    Method(
        "scheduled_sampling",
        "MLE whose inputs are more and more the generator's own samples",
        settings=_MLE_ONLY,
        tables=("classic",),
        configure=_scheduled_sampling_rate,
        adjust=_scheduled_sampling_epochs,
    ),
    Method(
        "pg_bleu",
        "policy gradient rewarded by BLEU-3 against 40% of the real data",
        settings=(
            "training.reward=bleu",
            "training.num_rollouts=1",
            "training.discriminator_rounds=0",
            "training.discriminator_steps=0",
        ),
        tables=("classic", "authors"),
    ),
    Method(
        "seqgan",
        "the paper's algorithm: rollouts scored by the discriminator",
        tables=("classic", "authors", "family", "critic", "quatrains", "coco"),
        run_last=True,
    ),
    Method(
        "seqgan_constant_reward",
        "every token rewarded 1: the push towards the generator's samples",
        settings=("training.reward=constant",),
        parent="seqgan",
        command_line=False,
        tables=("classic", "authors", "critic"),
    ),
    Method(
        "seqgan_untrained_discriminator",
        "a discriminator never trained (no D pretraining, no D rounds)",
        settings=(
            "training.discriminator_rounds=0",
            "training.discriminator_steps=0",
        ),
        parent="seqgan",
        command_line=False,
        tables=("classic",),
    ),
    Method(
        "seqgan_delayed_rollout",
        "rollouts by a delayed copy of the generator",
        settings=("training.rollout_policy=delayed",),
        parent="seqgan",
        command_line=False,
        tables=("classic",),
        run_last=True,
    ),
    Method(
        "seqgan_frozen_pretrained_discriminator",
        "the pretrained discriminator, never updated in the rounds",
        settings=("training.discriminator_steps=0",),
        parent="seqgan",
        command_line=False,
        tables=_ABLATION,
    ),
    Method(
        "seqgan_reward_baseline",
        "rewards minus their batch mean at each position",
        settings=("training.reward_baseline=batch_mean",),
        parent="seqgan",
        command_line=False,
        tables=_ABLATION,
        run_last=True,
    ),
    Method(
        "seqgan_fresh_real",
        "adversarial D rounds on fresh oracle sequences (oracle task)",
        settings=("training.adversarial_real=fresh",),
        parent="seqgan",
        command_line=False,
        tables=_ABLATION,
        run_last=True,
    ),
    Method(
        "maligan",
        "MaliGAN: normalised importance weights D/(1-D), no rollouts",
        settings=("training.reward=importance", "training.num_rollouts=1"),
        tables=("family", "critic", "coco"),
    ),
    Method(
        "rankgan",
        "RankGAN: rollouts scored by a ranker against real references",
        settings=("training.reward=rank", "discriminator.kind=ranker"),
        tables=("family", "critic", "coco"),
    ),
    Method(
        "leakgan",
        "LeakGAN: a Manager-Worker generator reading D's features",
        settings=(
            "generator.kind=leakgan",
            "training.interleaved_mle_steps=1",
            "training.num_rollouts=4",
        ),
        tables=("family", "coco"),
        stage_family="leakgan",
    ),
    Method(
        "leakgan_unsorted",
        "LeakGAN with its released code's rescaling (ranks by appearance)",
        settings=("training.leakgan_rescale=unsorted",),
        parent="leakgan",
        command_line=False,
        tables=("family",),
        stage_family="leakgan",
    ),
):
    register(_method)

# --- the critic table: what each method gets from a critic that knows ----
for _method in (
    Method(
        "mle_fresh",
        "MLE on fresh oracle sequences every epoch (oracle task)",
        settings=("training.generator_real=fresh",),
        parent="mle",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "seqgan_optimal_discriminator",
        "SeqGAN's rollouts scored by the Bayes-optimal discriminator D*",
        settings=("training.reward=optimal_discriminator",),
        parent="seqgan",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "seqgan_optimal_logit",
        "rollouts scored by D*'s logit, log p_oracle - log p_G",
        settings=("training.reward=optimal_logit",),
        parent="seqgan",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "seqgan_optimal_logit_baseline",
        "D*'s logit less its batch mean at each position (REINFORCE with"
        " a baseline)",
        settings=(
            "training.reward=optimal_logit",
            "training.reward_baseline=batch_mean",
        ),
        parent="seqgan_optimal_logit",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "maligan_uniform_weights",
        "MaliGAN's update with uniform weights (without its discriminator)",
        settings=("training.reward=constant", "training.objective=importance"),
        parent="maligan",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "maligan_optimal_discriminator",
        "MaliGAN with the exact weights p_oracle / p_G",
        settings=("training.reward=optimal_importance",),
        parent="maligan",
        command_line=False,
        tables=("critic",),
    ),
    Method(
        "rankgan_constant_reward",
        "RankGAN's update with every reward 1/64, its rank scores' mean",
        settings=(
            "training.reward=constant",
            "training.constant_reward=0.015625",
            "discriminator.kind=classifier",
        ),
        parent="rankgan",
        command_line=False,
        tables=("critic",),
    ),
):
    register(_method)
