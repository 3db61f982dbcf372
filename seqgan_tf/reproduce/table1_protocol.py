"""Table 1's evaluation protocol: what one trained generator is
measured by (`evaluate_generator`: NLL-oracle per sequence, NLL-test of
fresh oracle samples, both along the temperature curve) and the held-out
oracle samples of NLL-test (`test_data`). `seqgan_tf.reproduce.table1`
runs it once per (method, seed).
"""

from seqgan_tf import experiment
from seqgan_tf import metrics
from seqgan_tf import sampler
from seqgan_tf.reproduce import common

# Seeds of the evaluation's random streams, apart from training's.
TEST_DATA_STREAM = 1_000_003


def test_data(config, num_samples):
    """NLL-test's real data: fresh oracle samples from a seed the training
    data (seed `(config.seed, 0)`) never uses."""
    oracle = experiment.build_oracle(config)
    return sampler.sample_many(
        oracle, num_samples, seed=(config.seed, TEST_DATA_STREAM)
    )


def evaluate_generator(generator, oracle, config, schedule):
    """The protocol of one generator: NLL-oracle of `eval_samples` samples
    (per sequence), NLL-test of `test_samples` fresh oracle samples, and
    both at each temperature of the curve. Returns (result, per-sequence
    NLL-oracle)."""
    seed = (config.seed, common.EVAL_STREAM)
    samples = sampler.sample_many(generator, schedule.eval_samples, seed=seed)
    per_sequence = metrics.sequence_nll(oracle, samples)
    held_out = test_data(config, schedule.test_samples)
    temperatures = list(schedule.temperatures)
    # NLL-test at every temperature of the curve and at 1, one pass each.
    nll_tests = metrics.nll_at_temperatures(
        generator, held_out, temperatures + [1.0]
    )
    curve = []
    for temperature, nll_test in zip(temperatures, nll_tests):
        drawn = sampler.sample_many(
            generator,
            schedule.curve_samples,
            seed=seed,
            temperature=temperature,
        )
        curve.append(
            {
                "temperature": temperature,
                "nll_oracle": metrics.nll(oracle, drawn),
                "nll_test": nll_test,
            }
        )
    result = {
        "nll_oracle": float(per_sequence.mean()),
        "nll_oracle_samples": int(len(per_sequence)),
        "nll_test": nll_tests[-1],
        "nll_test_samples": int(len(held_out)),
        "curve": curve,
    }
    return result, per_sequence
