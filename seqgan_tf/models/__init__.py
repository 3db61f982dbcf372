from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.leakgan import LeakGANGenerator
from seqgan_tf.models.oracle import OracleLSTM
from seqgan_tf.models.ranker import Ranker

__all__ = [
    "Discriminator",
    "Generator",
    "LeakGANGenerator",
    "OracleLSTM",
    "Ranker",
]
