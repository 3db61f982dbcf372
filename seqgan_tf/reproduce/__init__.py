"""Reproductions of the paper's tables, each method on several seeds.

- `table1`: the synthetic oracle (NLL-oracle; MLE, scheduled sampling,
  PG-BLEU, SeqGAN and ablations; the quality-diversity curve).
- `table2`: Chinese quatrains (BLEU-2 with Self-BLEU-2 and NLL-test; MLE
  against SeqGAN, and MLE at the temperature matching SeqGAN's diversity).
- `coco`: SeqGAN's successors (MaliGAN, RankGAN, LeakGAN) beside MLE and
  SeqGAN on COCO captions (BLEU-2..5, Self-BLEU-2..4, each at the MLE
  generator's matched diversity, beside Texygen's published table).
"""

from seqgan_tf.reproduce import coco
from seqgan_tf.reproduce import table1
from seqgan_tf.reproduce import table2

TABLES = {"table1": table1, "table2": table2, "coco": coco}

__all__ = ["TABLES", "coco", "table1", "table2"]
