"""SeqGAN for TensorFlow 2 / Keras 3.

Public API: the models, the `SeqGAN` trainer and the experiment presets.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from seqgan_tf.config import ExperimentConfig  # noqa: E402
from seqgan_tf.config import get_preset  # noqa: E402
from seqgan_tf.models import Discriminator  # noqa: E402
from seqgan_tf.models import Generator  # noqa: E402
from seqgan_tf.models import OracleLSTM  # noqa: E402
from seqgan_tf.trainer import SeqGAN  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Discriminator",
    "ExperimentConfig",
    "Generator",
    "OracleLSTM",
    "SeqGAN",
    "get_preset",
]
