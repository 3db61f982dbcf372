"""Configs as `section.field` names: `with_overrides` applies
`section.field=value` strings (the command line's `--set`, the methods'
settings) to a config, each value parsed as its field's type, and
`flatten` turns a nested dict (`ExperimentConfig.to_dict()`) into one
level of such names.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING

from seqgan_tf.config.validation import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Mapping
    from typing import Any

    from seqgan_tf.config.fields import ExperimentConfig


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict (e.g. `ExperimentConfig.to_dict()`) as one level of
    "section.field" keys; tuples become lists, as in the saved JSON.

    Examples:
        >>> from seqgan_tf import config
        >>> config.flatten({"seed": 1, "data": {"task": "oracle"}})
        {'seed': 1, 'data.task': 'oracle'}
    """
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = (
                list(value) if isinstance(value, tuple) else value
            )
    return flat


def _parse_value(field_type, text, name):
    try:
        if field_type is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if field_type is int:
            return int(text)
        if field_type is float:
            return float(text)
        if field_type is tuple:
            return tuple(int(part) for part in text.split(",") if part.strip())
        return str(text)
    except ValueError:
        raise ConfigError(
            f"{name} expects {field_type.__name__}, got {text!r}."
        ) from None


def with_overrides(
    config: ExperimentConfig, assignments: Iterable[str]
) -> ExperimentConfig:
    """Applies `section.field=value` strings (the CLI's `--set`) to
    `config`, each value parsed as its field's type (a tuple as
    comma-separated ints); returns the new config.

    Examples:
        >>> from seqgan_tf import config
        >>> quick = config.get_preset("quick")
        >>> changed = config.with_overrides(
        ...     quick, ["seed=1", "discriminator.filter_sizes=2,3"])
        >>> changed.seed, changed.discriminator.filter_sizes
        (1, (2, 3))
    """
    for assignment in assignments:
        if "=" not in assignment:
            raise ConfigError(
                f"--set expects section.field=value, got {assignment!r}."
            )
        name, text = assignment.split("=", 1)
        path = name.strip().split(".")
        target = config
        for part in path[:-1]:
            if not dataclasses.is_dataclass(target) or not hasattr(
                target, part
            ):
                raise ConfigError(f"Unknown configuration field {name!r}.")
            target = getattr(target, part)
        hints = (
            typing.get_type_hints(type(target))
            if dataclasses.is_dataclass(target)
            else {}
        )
        field = path[-1]
        if field not in hints or dataclasses.is_dataclass(hints[field]):
            known = ", ".join(sorted(hints)) or "none"
            raise ConfigError(
                f"Unknown configuration field {name!r} (fields here: {known})."
            )
        value = _parse_value(hints[field], text, name)
        config = _replace_path(config, path, value)
    return config


def _replace_path(config, path, value):
    if len(path) == 1:
        return dataclasses.replace(config, **{path[0]: value})
    child = getattr(config, path[0])
    return dataclasses.replace(
        config, **{path[0]: _replace_path(child, path[1:], value)}
    )
