"""Experiment configuration: frozen dataclasses and the named presets.

`paper` is the SeqGAN authors' exact schedule; `quick` is a ~10 minute run.

Each concern has its own module; every name is importable from here:

- `seqgan_tf.config.fields`: the dataclasses (`ExperimentConfig` and its
  sections);
- `seqgan_tf.config.validation`: `ConfigError`, the allowed values of the
  choice fields, and the checks `ExperimentConfig.validate` runs;
- `seqgan_tf.config.overrides`: `with_overrides` (`section.field=value`
  strings) and `flatten`;
- `seqgan_tf.config.presets`: `PRESETS`, `get_preset`, `for_dataset`
  (with `DATASET_DEFAULTS`) and `for_method`.
"""

from seqgan_tf.config.fields import DataConfig
from seqgan_tf.config.fields import DiscriminatorConfig
from seqgan_tf.config.fields import ExperimentConfig
from seqgan_tf.config.fields import GeneratorConfig
from seqgan_tf.config.fields import TrainingConfig
from seqgan_tf.config.overrides import flatten
from seqgan_tf.config.overrides import with_overrides
from seqgan_tf.config.presets import DATASET_DEFAULTS
from seqgan_tf.config.presets import PRESETS
from seqgan_tf.config.presets import for_dataset
from seqgan_tf.config.presets import for_method
from seqgan_tf.config.presets import get_preset
from seqgan_tf.config.validation import LEAKGAN_CLIPS
from seqgan_tf.config.validation import LEAKGAN_GOALS
from seqgan_tf.config.validation import LEAKGAN_RESCALES
from seqgan_tf.config.validation import MIXED_PRECISION_POLICIES
from seqgan_tf.config.validation import REWARD_BASELINES
from seqgan_tf.config.validation import STRATEGIES
from seqgan_tf.config.validation import TASKS
from seqgan_tf.config.validation import TOKENIZERS
from seqgan_tf.config.validation import ConfigError

# In the order the API reference shows them (docs/reference/config.md).
__all__ = [
    "ConfigError",
    "TASKS",
    "TOKENIZERS",
    "DataConfig",
    "GeneratorConfig",
    "DiscriminatorConfig",
    "MIXED_PRECISION_POLICIES",
    "STRATEGIES",
    "LEAKGAN_RESCALES",
    "LEAKGAN_GOALS",
    "LEAKGAN_CLIPS",
    "REWARD_BASELINES",
    "TrainingConfig",
    "ExperimentConfig",
    "flatten",
    "with_overrides",
    "PRESETS",
    "DATASET_DEFAULTS",
    "for_dataset",
    "for_method",
    "get_preset",
]
