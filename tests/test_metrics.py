"""NLL metrics: masked, tempered, chunked; NLL-oracle from sampled chunks."""

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import metrics
from seqgan_tf import sampler


def _expected_nll(generator, token_ids, temperature, eos_id):
    logits = generator(tf.constant(token_ids)).numpy() / temperature
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, token_ids[..., None], -1)[..., 0]
    mask = np.ones_like(token_ids, bool)
    if eos_id is not None:
        seen = np.cumsum(token_ids == eos_id, axis=1) - (token_ids == eos_id)
        mask = seen == 0
    return -picked[mask].mean()


@pytest.mark.parametrize("eos_id", [None, 2])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
@pytest.mark.slow
def test_nll_is_the_masked_tempered_mean(make_generator, eos_id, temperature):
    generator = make_generator(seed=3, stddev=1.0, eos_id=eos_id)
    token_ids = np.random.default_rng(0).integers(0, 26, (7, 12))
    token_ids[0, 4] = token_ids[1, 0] = 2
    got = metrics.nll(
        generator, token_ids, batch_size=3, temperature=temperature
    )
    expected = _expected_nll(generator, token_ids, temperature, eos_id)
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_every_temperature_shares_one_compiled_function(make_generator):
    generator = make_generator(seed=3, stddev=1.0)
    token_ids = np.random.default_rng(1).integers(0, 26, (5, 12))
    values = [
        metrics.nll(generator, token_ids, temperature=t)
        for t in (0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3)
    ]
    assert values[0] != values[-1]
    tempered = metrics._TEMPERED[generator]
    assert tempered.experimental_get_tracing_count() == 1
    assert values[1] == pytest.approx(
        _expected_nll(generator, token_ids, 0.7, None), rel=1e-5
    )


@pytest.mark.slow
def test_nll_oracle_scores_the_sampled_chunks(make_generator):
    generator = make_generator(seed=1, stddev=1.0)
    oracle = make_generator(seed=2, stddev=1.0)
    samples = np.concatenate(
        [
            chunk.numpy()
            for chunk in sampler.sample_chunks(generator, 10, (4, 5), 4)
        ]
    )
    assert samples.shape == (10, 12)
    expected = metrics.nll(oracle, samples)
    got = metrics.nll_oracle(generator, oracle, 10, seed=(4, 5), batch_size=4)
    assert got == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(
        sampler.sample_many(generator, 10, (4, 5), batch_size=4), samples
    )
