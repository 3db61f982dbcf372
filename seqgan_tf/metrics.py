"""Evaluation metrics: NLL-oracle for the synthetic task, NLL on held-out data.

Sampling and scoring run in bounded chunks so 100,000-sample evaluations fit.
"""

import numpy as np
import tensorflow as tf


def _seed_pair(seed, index):
    return tf.random.experimental.stateless_fold_in(
        tf.convert_to_tensor(seed, tf.int32), index
    )


def nll(model, token_ids, batch_size=1000):
    """Mean per-token negative log-likelihood of `token_ids` [N, T] under
    `model` (a `Generator` or `OracleLSTM`). NLL-test when `token_ids` is
    held-out real data."""
    token_ids = np.asarray(token_ids, dtype=np.int32)
    if token_ids.ndim != 2 or token_ids.shape[0] == 0:
        raise ValueError(
            f"`token_ids` must be a non-empty [N, T] array, got {token_ids.shape}."
        )
    log_prob = model.make_log_prob_function()
    total = 0.0
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        total += float(tf.reduce_sum(log_prob(chunk)))
    return -total / token_ids.size


def nll_oracle(
    generator, oracle, num_samples=9984, seed=(0, 0), batch_size=1000
):
    """NLL-oracle: mean per-token NLL under `oracle` of `num_samples`
    sequences sampled from `generator` (lower is better; the SeqGAN authors'
    code uses 9,984 samples, the paper's table 100,000)."""
    if num_samples < 1:
        raise ValueError(f"`num_samples` must be >= 1, got {num_samples}.")
    log_prob = oracle.make_log_prob_function()
    total = 0.0
    for index, start in enumerate(range(0, num_samples, batch_size)):
        count = min(batch_size, num_samples - start)
        samples = generator.generate(count, seed=_seed_pair(seed, index))
        total += float(tf.reduce_sum(log_prob(samples)))
    return -total / (num_samples * generator.sequence_length)


def sample_many(
    generator, num_samples, seed=(0, 0), batch_size=4096, temperature=1.0
):
    """`num_samples` sequences from `generator` as an int32 NumPy array."""
    chunks = []
    for index, start in enumerate(range(0, num_samples, batch_size)):
        count = min(batch_size, num_samples - start)
        chunks.append(
            generator.generate(
                count, seed=_seed_pair(seed, index), temperature=temperature
            ).numpy()
        )
    return np.concatenate(chunks, axis=0)
