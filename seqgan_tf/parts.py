"""A trainer's parts: whether its models fit together, the reward name
of its critic and the name of its objective, and which keyword arguments
(config fields) belong to neither part."""

import inspect

from seqgan_tf import methods
from seqgan_tf import objectives


def setting_defaults():
    """{setting: default} of every built-in part's settings."""
    parts = list(objectives.OBJECTIVES.values()) + [
        methods.reward_critic(name) for name in methods.rewards()
    ]
    defaults = {}
    for part in parts:
        for klass in part.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.name in part.SETTINGS and p.default is not p.empty:
                    defaults.setdefault(p.name, p.default)
    return defaults


def check_settings(settings, critic, objective):
    """Refuses a setting that neither part takes, unless it has its
    default (a config passes every part's settings)."""
    taken = set(type(critic).SETTINGS) | set(type(objective).SETTINGS)
    defaults = setting_defaults()
    for name, value in settings.items():
        if name in taken:
            continue
        if name not in defaults:
            raise TypeError(f"SeqGAN got an unexpected argument {name!r}.")
        if value != defaults[name]:
            raise ValueError(
                f"`{name}` ({value!r}) is a setting of neither this trainer's "
                f"critic ({type(critic).__name__}) nor its objective "
                f"({type(objective).__name__})."
            )


def reward_name(critic):
    """The registered reward name of `critic`'s class (None if it has
    none: such a trainer trains, but cannot be saved by `get_config`)."""
    for name in methods.rewards():
        if methods.reward_critic(name) is type(critic):
            return name
    return None


def objective_name(objective):
    for name, cls in objectives.OBJECTIVES.items():
        if cls is type(objective):
            return name
    raise ValueError(f"{type(objective).__name__} is not a known objective.")


def check_models(generator, discriminator):
    if generator.sequence_length != discriminator.sequence_length:
        raise ValueError(
            "Generator and discriminator disagree on sequence_length: "
            f"{generator.sequence_length} vs "
            f"{discriminator.sequence_length}."
        )
    if generator.vocabulary_size != discriminator.vocabulary_size:
        raise ValueError(
            "Generator and discriminator disagree on vocabulary_size: "
            f"{generator.vocabulary_size} vs "
            f"{discriminator.vocabulary_size}."
        )
    eos_id = getattr(generator, "eos_id", None)
    d_pad_id = getattr(discriminator, "pad_id", None)
    if eos_id is not None and d_pad_id != generator.pad_id:
        # The generator pads after EOS with its pad_id; a discriminator
        # that does not know it would judge the padding as tokens.
        raise ValueError(
            "A variable-length generator (eos_id="
            f"{eos_id}, pad_id={generator.pad_id}) needs a discriminator "
            f"with the same pad_id; got pad_id={d_pad_id}."
        )
