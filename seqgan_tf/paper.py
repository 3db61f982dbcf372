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
