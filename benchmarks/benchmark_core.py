"""Times the hot paths of the synthetic SeqGAN experiment on this machine.

Paper-size models (Generator(5000, 20), Discriminator(5000, 20) with the
paper's defaults); every row is the median of `--repeats` runs after one
warm-up, and the `paper` schedule's wall time is estimated from the rows.

    python benchmarks/benchmark_core.py                # ~5 minutes on 2 cores
    python benchmarks/benchmark_core.py --quick        # smoke run, extrapolated
    python benchmarks/benchmark_core.py --json out.json
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import seqgan_tf  # noqa: E402
from seqgan_tf import losses  # noqa: E402
from seqgan_tf import rollout  # noqa: E402

VOCABULARY_SIZE = 5000
SEQUENCE_LENGTH = 20
BATCH_SIZE = 64
NUM_ROLLOUTS = 16
NUM_SAMPLES = 9984  # generated negatives / evaluation samples (156 x 64)
NUM_D_SEQUENCES = 2 * NUM_SAMPLES  # 9,984 real + 9,984 generated per D epoch
NLL_CHUNK = 1000  # log_prob of 9,984 at once materialises 4 GB of logits

# The `paper` schedule (see the README, "The algorithm").
PRETRAIN_EPOCHS = 120
NLL_EVERY = 5
D_PRETRAIN_ROUNDS = 50
D_EPOCHS = 3
ADVERSARIAL_ROUNDS = 200
D_STEPS_PER_ROUND = 5


def median_time(function, repeats, warm_up=None):
    """Runs `warm_up` (default: `function`) once, then `function` `repeats`
    times; returns the median and all timings in seconds. Both must block
    until their work is done."""
    (warm_up or function)()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def make_models(seed):
    keras.utils.set_random_seed(seed)
    generator = seqgan_tf.Generator(VOCABULARY_SIZE, SEQUENCE_LENGTH)
    discriminator = seqgan_tf.Discriminator(VOCABULARY_SIZE, SEQUENCE_LENGTH)
    return generator, discriminator


def random_tokens(rng, num_rows):
    return tf.constant(
        rng.integers(0, VOCABULARY_SIZE, size=(num_rows, SEQUENCE_LENGTH)),
        tf.int32,
    )


def batches(token_ids, labels=None, seed=0):
    """A shuffled, batched tf.data pipeline, as a trainer would feed."""
    items = token_ids if labels is None else (token_ids, labels)
    dataset = tf.data.Dataset.from_tensor_slices(items)
    dataset = dataset.shuffle(int(token_ids.shape[0]), seed=seed)
    return dataset.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


def bench_rewards(generator, discriminator, token_ids, args):
    """(a) one reward computation in one tf.function and (b) the naive
    reference loop, on the same batch."""
    num_rollouts = 2 if args.quick else NUM_ROLLOUTS

    @tf.function(
        input_signature=[
            tf.TensorSpec([BATCH_SIZE, SEQUENCE_LENGTH], tf.int32),
            tf.TensorSpec([2], tf.int32),
        ]
    )
    def rewards(token_ids, seed):
        return rollout.rollout_rewards(
            generator,
            discriminator.scorer,
            token_ids,
            seed,
            num_rollouts=num_rollouts,
            chunk_size=args.chunk_size,
        )

    # The naive loop gets a compiled scorer too: it models the authors' one
    # `sess.run` per (rollout, prefix), not Python-eager overhead.
    score = tf.function(
        discriminator.predict_real,
        input_signature=[tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32)],
    )

    seed = tf.constant([1, 2], tf.int32)
    vectorised, vectorised_all = median_time(
        lambda: rewards(token_ids, seed).numpy(), args.repeats
    )

    def naive_rewards(num_rollouts):
        return rollout.naive_rollout_rewards(
            generator, score, token_ids, seed, num_rollouts=num_rollouts
        ).numpy()

    # One rollout traces everything the naive loop calls.
    naive, naive_all = median_time(
        lambda: naive_rewards(num_rollouts),
        args.repeats,
        warm_up=lambda: naive_rewards(1),
    )
    scale = NUM_ROLLOUTS / num_rollouts
    return {
        "rewards": (vectorised * scale, vectorised_all),
        "naive_rewards": (naive * scale, naive_all),
    }


def bench_discriminator_epoch(discriminator, rng, args):
    """(c) one D epoch: 19,968 sequences, batch 64, Adam(1e-4)."""
    optimizer = keras.optimizers.Adam(1e-4)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    variables = discriminator.trainable_variables
    optimizer.build(variables)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32),
            tf.TensorSpec([None], tf.int32),
        ]
    )
    def train_step(token_ids, labels):
        with tf.GradientTape() as tape:
            logits = discriminator(token_ids, training=True)
            loss = loss_fn(labels, logits) + tf.add_n(discriminator.losses)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    num_rows = 20 * BATCH_SIZE if args.quick else NUM_D_SEQUENCES
    token_ids = random_tokens(rng, num_rows)
    labels = tf.constant(np.arange(num_rows) % 2, tf.int32)
    dataset = batches(token_ids, labels)

    def epoch(num_batches=None):
        for x, y in dataset.take(num_batches or -1):
            loss = train_step(x, y)
        loss.numpy()

    # A few steps trace the step and warm oneDNN's caches; a whole epoch
    # would add ~15 s to the run for nothing.
    seconds, all_times = median_time(
        epoch, args.repeats, warm_up=lambda: epoch(5)
    )
    return {"d_epoch": (seconds * NUM_D_SEQUENCES / num_rows, all_times)}


def bench_generator(generator, rng, args):
    """(d) one MLE epoch and (g) one policy-gradient step."""
    variables = generator.trainable_variables
    mle_optimizer = keras.optimizers.Adam(0.01, global_clipnorm=5.0)
    mle_optimizer.build(variables)
    pg_optimizer = keras.optimizers.Adam(0.01, global_clipnorm=5.0)
    pg_optimizer.build(variables)
    spec = tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32)

    @tf.function(input_signature=[spec])
    def mle_step(token_ids):
        with tf.GradientTape() as tape:
            logits = generator(token_ids, training=True)
            loss = losses.mle_loss(logits, token_ids)
        mle_optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    reward_spec = tf.TensorSpec([None, None], tf.float32)

    @tf.function(input_signature=[spec, reward_spec])
    def pg_step(token_ids, rewards):
        with tf.GradientTape() as tape:
            log_probs = generator.log_prob(token_ids, training=True)
            loss, _ = losses.policy_gradient_loss(log_probs, rewards)
        pg_optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    num_rows = 10 * BATCH_SIZE if args.quick else NUM_SAMPLES
    dataset = batches(random_tokens(rng, num_rows))

    def epoch(num_batches=None):
        for x in dataset.take(num_batches or -1):
            loss = mle_step(x)
        loss.numpy()

    seconds, mle_all = median_time(
        epoch, args.repeats, warm_up=lambda: epoch(5)
    )
    rewards = tf.constant(rng.random((BATCH_SIZE, SEQUENCE_LENGTH)), tf.float32)
    pg, pg_all = median_time(
        lambda: pg_step(generator.generate(BATCH_SIZE), rewards).numpy(),
        args.repeats,
    )
    return {
        "g_epoch": (seconds * NUM_SAMPLES / num_rows, mle_all),
        "pg_step": (pg, pg_all),
    }


def bench_sampling_and_nll(generator, args):
    """(e) sampling 9,984 sequences and (f) scoring them under the oracle."""
    num_rows = 1024 if args.quick else NUM_SAMPLES
    seconds, sample_all = median_time(
        lambda: generator.generate(num_rows, seed=(3, 4)).numpy(), args.repeats
    )
    samples = generator.generate(num_rows, seed=(3, 4))
    oracle = seqgan_tf.OracleLSTM.from_paper()
    log_prob = tf.function(
        oracle.log_prob,
        input_signature=[tf.TensorSpec([None, SEQUENCE_LENGTH], tf.int32)],
    )

    def nll():
        total = 0.0
        for start in range(0, num_rows, NLL_CHUNK):
            chunk = samples[start : start + NLL_CHUNK]
            total += float(tf.reduce_sum(log_prob(chunk)))
        return -total / (num_rows * SEQUENCE_LENGTH)

    nll_seconds, nll_all = median_time(nll, args.repeats)
    scale = NUM_SAMPLES / num_rows
    return {
        "sample": (seconds * scale, sample_all),
        "nll_eval": (nll_seconds * scale, nll_all),
    }


def schedule_estimate(rows):
    """Wall time of the `paper` schedule (seconds) built from the rows."""
    t = {name: seconds for name, (seconds, _) in rows.items()}
    nll = t["sample"] + t["nll_eval"]
    d_round = t["sample"] + D_EPOCHS * t["d_epoch"]
    pretrain_g = (
        PRETRAIN_EPOCHS * t["g_epoch"] + (PRETRAIN_EPOCHS // NLL_EVERY) * nll
    )
    pretrain_d = D_PRETRAIN_ROUNDS * d_round
    adversarial_round = (
        t["rewards"] + t["pg_step"] + D_STEPS_PER_ROUND * d_round
    )
    adversarial = (
        ADVERSARIAL_ROUNDS * adversarial_round
        + (ADVERSARIAL_ROUNDS // NLL_EVERY) * nll
    )
    parts = {
        "generator pretraining (120 epochs + NLL every 5)": pretrain_g,
        "discriminator pretraining (50 x (sample + 3 epochs))": pretrain_d,
        "adversarial (200 rounds + NLL every 5)": adversarial,
        "  of which reward computations": ADVERSARIAL_ROUNDS * t["rewards"],
        "  of which discriminator epochs": ADVERSARIAL_ROUNDS
        * D_STEPS_PER_ROUND
        * D_EPOCHS
        * t["d_epoch"],
    }
    parts["total"] = pretrain_g + pretrain_d + adversarial
    return parts


LABELS = {
    "rewards": "(a) rewards, vectorised: 16 rollouts x B=64 x T=20",
    "naive_rewards": "(b) rewards, naive loop (16 x 19 calls)",
    "d_epoch": "(c) D epoch: 19,968 seqs, batch 64",
    "g_epoch": "(d) G MLE epoch: 9,984 seqs, batch 64",
    "sample": "(e) sample 9,984 sequences",
    "nll_eval": "(f) NLL-oracle of 9,984 samples",
    "pg_step": "(g) PG step: sample 64 + update",
}


def hours(seconds):
    return f"{seconds / 3600:6.2f} h"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small smoke run: fewer rollouts, batches and samples, 1 repeat; "
        "times are extrapolated to full size",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=4096,
        help="`chunk_size` of rollout_rewards (default: the library's)",
    )
    parser.add_argument(
        "--only", nargs="*", choices=sorted(LABELS), help="time only these rows"
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the results here"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    rng = np.random.default_rng(0)
    generator, discriminator = make_models(seed=0)
    token_ids = generator.generate(BATCH_SIZE, seed=(5, 6))
    wanted = set(args.only or LABELS)
    rows = {}
    started = time.perf_counter()
    if wanted & {"rewards", "naive_rewards"}:
        rows.update(bench_rewards(generator, discriminator, token_ids, args))
    if "d_epoch" in wanted:
        rows.update(bench_discriminator_epoch(discriminator, rng, args))
    if wanted & {"g_epoch", "pg_step"}:
        rows.update(bench_generator(generator, rng, args))
    if wanted & {"sample", "nll_eval"}:
        rows.update(bench_sampling_and_nll(generator, args))
    elapsed = time.perf_counter() - started

    print()
    print(
        f"seqgan_tf core benchmark  TF {tf.__version__}, Keras "
        f"{keras.__version__}, {os.cpu_count()} CPUs, "
        f"median of {args.repeats} after 1 warm-up"
        + ("  [QUICK: extrapolated]" if args.quick else "")
    )
    print(f"{'measurement':<50} {'median':>9}   all runs (s)")
    print("-" * 78)
    for name, label in LABELS.items():
        if name in rows:
            seconds, runs = rows[name]
            runs_text = " ".join(f"{r:.2f}" for r in runs)
            print(f"{label:<50} {seconds:8.2f}s   {runs_text}")
    result = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "repeats": args.repeats,
        "quick": args.quick,
        "chunk_size": args.chunk_size,
        "seconds": {name: seconds for name, (seconds, _) in rows.items()},
        "runs": {name: runs for name, (_, runs) in rows.items()},
        "benchmark_seconds": elapsed,
    }
    if "rewards" in rows and "naive_rewards" in rows:
        ratio = rows["naive_rewards"][0] / rows["rewards"][0]
        result["reward_speedup"] = ratio
        print(f"{'reward speed-up, naive / vectorised':<50} {ratio:8.2f}x")
    if set(rows) >= set(LABELS):
        estimate = schedule_estimate(rows)
        result["paper_schedule_seconds"] = estimate
        print()
        print("estimated wall time of the `paper` schedule")
        print("-" * 78)
        for label, seconds in estimate.items():
            print(f"{label:<60} {hours(seconds)}")
    print(f"\n(benchmark ran {elapsed:.0f} s)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
