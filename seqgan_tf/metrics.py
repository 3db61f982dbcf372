"""Likelihood metrics: NLL-oracle and NLL of held-out data, in bounded chunks.

BLEU and Self-BLEU live in `seqgan_tf.bleu`.
"""

import weakref

import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import sampler


def nll(model, token_ids, batch_size=1000, temperature=1.0):
    """Mean per-token negative log-likelihood of `token_ids` [N, T] under
    `model` (a `Generator` or `OracleLSTM`) with its logits divided by
    `temperature`. NLL-test when `token_ids` is held-out real data. When
    `model.eos_id` is not None (variable-length sequences), the mean is
    over the positions up to and including each row's first EOS only;
    padding after it is ignored."""
    token_ids = np.asarray(token_ids, dtype=np.int32)
    if token_ids.ndim != 2 or token_ids.shape[0] == 0:
        raise ValueError(
            "`token_ids` must be a non-empty [N, T] array, got "
            f"{token_ids.shape}."
        )
    log_prob = _log_prob_function(model, temperature)
    eos_id = getattr(model, "eos_id", None)
    total = count = 0.0
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        kept, mask = losses.masked_log_probs(log_prob(chunk), chunk, eos_id)
        total += float(tf.reduce_sum(kept))
        count += float(tf.reduce_sum(tf.cast(mask, tf.float32)))
    return -total / count


def sequence_nll(model, token_ids, batch_size=1000, temperature=1.0):
    """Per-sequence mean per-token NLL of `token_ids` [N, T] under `model`
    (over each row's own positions, as `nll`); float64 [N]."""
    token_ids = np.asarray(token_ids, dtype=np.int32)
    log_prob = _log_prob_function(model, temperature)
    eos_id = getattr(model, "eos_id", None)
    values = []
    for start in range(0, len(token_ids), batch_size):
        chunk = tf.constant(token_ids[start : start + batch_size])
        log_probs = log_prob(chunk)
        kept, mask = losses.masked_log_probs(log_probs, chunk, eos_id)
        count = tf.reduce_sum(tf.cast(mask, tf.float32), axis=1)
        values.append(
            -tf.reduce_sum(kept, axis=1).numpy().astype(np.float64)
            / count.numpy()
        )
    return np.concatenate(values)


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
    for samples in sampler.sample_chunks(
        generator, num_samples, seed, batch_size
    ):
        total += float(tf.reduce_sum(log_prob(samples)))
    return -total / (num_samples * generator.sequence_length)


# model -> its compiled log_prob(chunk, temperature): one trace serves
# every temperature.
_TEMPERED = weakref.WeakKeyDictionary()


def _log_prob_function(model, temperature):
    """The model's compiled `log_prob` at temperature 1, else `log_prob` at
    `temperature` (compiled once per model with the temperature as an
    argument; eager under `run_eagerly`)."""
    if temperature == 1.0:
        return model.make_log_prob_function()
    if getattr(model, "run_eagerly", False):
        return lambda chunk: model.log_prob(chunk, temperature=temperature)
    tempered = _TEMPERED.get(model)
    if tempered is None:
        owner = weakref.ref(model)  # the cache must not keep the model

        def log_prob(chunk, value):
            return owner().log_prob(chunk, temperature=value)

        tempered = tf.function(log_prob, reduce_retracing=True)
        _TEMPERED[model] = tempered
    value = tf.constant(temperature, tf.float32)
    return lambda chunk: tempered(chunk, value)
