"""The SeqGAN paper's numbers: the synthetic task's sizes and the authors'
published results. Plain Python, so the CLI can read it without TensorFlow.
"""

# The synthetic oracle task (the authors' `target_params`).
VOCABULARY_SIZE = 5000
SEQUENCE_LENGTH = 20
NUM_REAL = 9984  # 156 batches of 64 oracle samples.

# The discriminator's convolution widths and filter counts.
FILTER_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
NUM_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)

# NLL-oracle of the authors' published curve (9,984-sample evaluation).
AUTHORS_CURVE = {"pretrained": 9.07, "adversarial": 8.68}

# The authors' logged NLL-oracle (9,984 samples) after adversarial round k
# (k = 0, 5, ..., 150: one policy-gradient step per round), from their
# repository's save/experiment-log.txt (LantaoYu/SeqGAN); its MLE
# pretraining ended at 9.07058 (epoch 115, the last it logged).
AUTHORS_PRETRAINED_LOG = 9.07058
AUTHORS_ADVERSARIAL_LOG = {
    0: 9.08457, 5: 9.04511, 10: 9.03079, 15: 8.99239, 20: 8.96401,
    25: 8.93864, 30: 8.91642, 35: 8.87761, 40: 8.88582, 45: 8.8592,
    50: 8.83388, 55: 8.81342, 60: 8.80247, 65: 8.77778, 70: 8.7567,
    75: 8.73002, 80: 8.72488, 85: 8.72233, 90: 8.71473, 95: 8.71163,
    100: 8.70113, 105: 8.69879, 110: 8.69208, 115: 8.69291, 120: 8.68371,
    125: 8.689, 130: 8.68989, 135: 8.68269, 140: 8.68647, 145: 8.68066,
    150: 8.6832,
}  # fmt: skip
