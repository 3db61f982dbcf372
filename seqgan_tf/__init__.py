"""SeqGAN for TensorFlow 2 / Keras 3."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from seqgan_tf.models import Discriminator  # noqa: E402
from seqgan_tf.models import Generator  # noqa: E402
from seqgan_tf.models import OracleLSTM  # noqa: E402

__version__ = "0.1.0"
__all__ = ["Discriminator", "Generator", "OracleLSTM"]
