"""SeqGAN for TensorFlow 2 / Keras 3.

Public API: the models, the `SeqGAN` trainer, the experiment presets and the
library modules under the command line (`experiment`, `runs`, `callbacks`,
`evaluation`, `export`, `report`, `quality`). Names load on first use, so
importing the package (or its command line) does not import TensorFlow
until something needs it; see docs/architecture.md for the layers.
"""

import importlib

__version__ = "0.1.0"

# Public name -> the module that defines it.
_NAMES = {
    "Discriminator": "seqgan_tf.models",
    "Ranker": "seqgan_tf.models",
    "ExperimentConfig": "seqgan_tf.config",
    "Generator": "seqgan_tf.models",
    "LeakGANGenerator": "seqgan_tf.models",
    "OracleLSTM": "seqgan_tf.models",
    "SeqGAN": "seqgan_tf.trainer",
    "get_preset": "seqgan_tf.config",
}
_MODULES = (
    "bleu",
    "callbacks",
    "config",
    "critics",
    "data",
    "distribute",
    "evaluation",
    "experiment",
    "export",
    "losses",
    "methods",
    "metrics",
    "models",
    "objectives",
    "optimal",
    "quality",
    "report",
    "rollout",
    "runs",
    "sampler",
)

__all__ = sorted(_NAMES)


def __getattr__(name):
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"seqgan_tf.{name}")
    raise AttributeError(f"module 'seqgan_tf' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_NAMES, *_MODULES])
