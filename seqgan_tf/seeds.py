"""Seeds of the trainer's random streams, derived from integers.

Every random draw of a run comes from `seed_pair(seed, STREAM, epoch, ...)`,
so a run resumed at any epoch replays what the uninterrupted run drew.
"""

import contextlib
import random

import numpy as np

# Distinct streams of randomness.
NEGATIVES = 0  # the generated sequences of a D round
SHUFFLE = 1  # the order of a D round's passes
POLICY = 2  # the batch of a policy-gradient step
ROLLOUT = 3  # the Monte Carlo completions of that batch
EVAL = 4  # evaluation samples (NLL-oracle, sample files, text metrics)
GENERATOR_ORDER = 5  # the order of a shuffled MLE epoch
POSITIVES = 6  # the real sequences of a D round, when they outnumber it
REFERENCES = 7  # PG-BLEU's reference share of the real data
SCHEDULED = 8  # scheduled sampling's coins and samples
FRESH_REAL = 9  # fresh oracle positives of an adversarial D round
PROBE = 10  # the held-out sequences that probe the discriminator
RANK_REFERENCES = 11  # RankGAN's reference sentences of a step
INTERLEAVED_MLE = 12  # LeakGAN's MLE batches of an adversarial round
MALI_REAL = 13  # the real prefixes of a mixed MaliGAN step


def seed_pair(*values):
    """A stateless int32 seed pair derived from integers (e.g. seed, epoch)."""
    state = np.random.SeedSequence([int(v) for v in values]).generate_state(2)
    return (state % np.uint32(2**31 - 1)).astype(np.int32)


FRESH_MLE = 14  # fresh oracle sequences of an MLE epoch
VALIDATION = 15  # a discriminator study's validation split and its negatives
STUDY_PROBE = 16  # the held-out sequences of a discriminator study's probe


@contextlib.contextmanager
def global_random_state(seed=None):
    """Restores, on exit, the global random generators a model's build
    draws from: Python's `random` (Keras' initializers and dropout layers
    take their seeds from it when built without one) and NumPy's. With a
    `seed`, both are seeded with it inside, as `keras.utils.set_random_seed`
    seeds them, so the weights are the ones that seed gives.

    The other generators `keras.utils.set_random_seed` seeds are neither
    read nor changed by a build, and are left alone: TensorFlow's global
    seed (initializers draw with stateless ops from their own seeds;
    setting it would also reset the kernels of the caller's op-seeded
    draws) and Keras' global `SeedGenerator` (only `keras.random` calls
    without a seed use it). The generators are process-wide: another
    thread drawing from them meanwhile sees the seeded state."""
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    try:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
