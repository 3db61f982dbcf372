"""Times SeqGAN's hot paths on this machine against its measured peak.

First the machine: its CPU model and ISA flags, and the float32 (and,
where the CPU has native bfloat16 units, bfloat16) GEMM peak of TF's
matmul. Then the trainer's own public steps on the paper's models
(`experiment.build_gan` of the `paper` preset): a discriminator step, an
MLE step, a policy-gradient step, one reward computation (the library's
`rollout_rewards`) beside the naive per-(rollout, prefix) loop, sampling
9,984 sequences and their NLL-oracle. Each row prints its median time,
its achieved GFLOP/s (from a FLOP count derived from the model config:
matmuls and convolutions, forward 1x, forward and backward 3x) and that
as a share of the peak, and the process's peak resident memory after it.
The `paper` schedule's wall time is estimated from the rows, in float32
and, where native bfloat16 exists, with the bfloat16 discriminator that
`training.mixed_precision=auto` picks.

    python benchmarks/benchmark_core.py                # ~4 minutes on 2 cores
    python benchmarks/benchmark_core.py --quick        # smoke run, extrapolated
    python benchmarks/benchmark_core.py --json out.json
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqgan_tf import config as config_lib  # noqa: E402
from seqgan_tf import experiment  # noqa: E402
from seqgan_tf import hardware  # noqa: E402
from seqgan_tf import metrics  # noqa: E402
from seqgan_tf import rollout  # noqa: E402
from seqgan_tf import sampler  # noqa: E402

NUM_SAMPLES = 9984  # negatives / evaluation samples of the authors' code


# --- the machine ---------------------------------------------------------


def median_time(function, repeats, warm_up=None):
    """Runs `warm_up` (default: `function`) once, then `function` `repeats`
    times; returns (median, all) in seconds. Both must block until done."""
    (warm_up or function)()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def gemm_peak(dtype, repeats):
    """The best GFLOP/s of TF matmuls of this dtype: a square one and the
    shapes of the discriminator's largest products."""
    best = 0.0
    for m, k, n in [(2048, 2048, 2048), (1280, 1280, 1720), (1216, 320, 1720)]:
        a = tf.cast(tf.random.normal([m, k]), dtype)
        b = tf.cast(tf.random.normal([k, n]), dtype)
        product = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.matmul(a, b)))
        seconds, _ = median_time(lambda: product().numpy(), max(repeats, 5))
        best = max(best, 2 * m * k * n / seconds / 1e9)
    return best


def machine(args):
    flags = hardware.cpu_flags()
    info = {
        "cpu": hardware.cpu_model(),
        "flags": [f for f in hardware.REPORTED_FLAGS if f in flags],
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
        "native_bf16": hardware.native_bf16(flags),
        "peak_gflops": {"float32": gemm_peak(tf.float32, args.repeats)},
    }
    if info["native_bf16"]:
        info["peak_gflops"]["bfloat16"] = gemm_peak(tf.bfloat16, args.repeats)
    return info


# --- FLOP counts from the config ------------------------------------------


def discriminator_flops(config):
    """Forward multiply-adds x 2 of one sequence through the D."""
    d, length = config.discriminator, config.sequence_length
    conv = sum(
        2 * (length - w + 1) * w * d.embedding_dim * f
        for w, f in zip(d.filter_sizes, d.num_filters)
    )
    features = sum(d.num_filters)
    highway = d.highway_layers * 2 * (2 * features * features)
    return conv + highway + 2 * features * 2


def generator_token_flops(config, project=True):
    """Forward FLOPs of one LSTM step (and its output projection)."""
    g = config.generator
    lstm = 2 * 4 * g.hidden_dim * (g.embedding_dim + g.hidden_dim)
    return lstm + (2 * g.hidden_dim * config.vocabulary_size if project else 0)


def reward_flops(config, num_rollouts, batch, share_prefix=True):
    """Sampling the completions (the projection only where a row samples)
    and scoring them: the D's highway and output on every completion, and
    the convolution windows that touch a sampled position (every window
    without `share_prefix`, as the naive loop scores)."""
    length = config.sequence_length
    sampled = num_rollouts * batch * sum(length - t for t in range(1, length))
    stepped = num_rollouts * batch * (length - 1) * length
    lstm_only = generator_token_flops(config, project=False)
    sampling = stepped * lstm_only + sampled * (
        generator_token_flops(config) - lstm_only
    )
    d = config.discriminator
    features = sum(d.num_filters)
    head = d.highway_layers * 4 * features * features + 4 * features
    conv = 0
    for given in range(1, length):
        for w, f in zip(d.filter_sizes, d.num_filters):
            windows = (length - w + 1) - (
                max(0, given - w + 1) if share_prefix else 0
            )
            conv += 2 * windows * w * d.embedding_dim * f
    scoring = num_rollouts * batch * (conv + (length - 1) * head)
    return sampling + scoring + batch * discriminator_flops(config)


# --- the rows ---------------------------------------------------------------


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(precision):
    config = config_lib.with_overrides(
        config_lib.get_preset("paper"),
        [f"training.mixed_precision={precision}"],
    ).validate()
    oracle = experiment.build_oracle(config)
    return config, oracle, experiment.build_gan(config, oracle)


def bench_steps(config, oracle, gan, args, suffix=""):
    """The trainer's public steps on one batch."""
    t = config.training
    real = sampler.sample_many(oracle, t.batch_size, seed=(1, 2))
    fake = sampler.sample_many(gan.generator, t.batch_size, seed=(3, 4))
    batch = tf.constant(np.concatenate([real[:32], fake[:32]]))
    labels = tf.constant(np.repeat([1, 0], 32), tf.int32)
    d_flops = 3 * t.batch_size * discriminator_flops(config)
    g_flops = (
        3
        * t.batch_size
        * config.sequence_length
        * generator_token_flops(config)
    )
    rows = {}
    seconds, runs = median_time(
        lambda: gan.discriminator_step(batch, labels).numpy(), args.repeats * 5
    )
    rows["d_step" + suffix] = (seconds, runs, d_flops)
    seconds, runs = median_time(
        lambda: gan.mle_step(real).numpy(), args.repeats * 5
    )
    rows["mle_step" + suffix] = (seconds, runs, g_flops)
    num_rollouts = 2 if args.quick else t.num_rollouts
    pg_flops = (
        reward_flops(config, t.num_rollouts, t.batch_size)
        + t.batch_size * config.sequence_length * generator_token_flops(config)
        + g_flops
    )
    if not args.quick:
        seconds, runs = median_time(
            lambda: gan.policy_gradient_step([5, 6], [7, 8]).numpy(),
            args.repeats,
        )
        rows["pg_step" + suffix] = (seconds, runs, pg_flops)
    scorer = gan.discriminator.scorer

    @tf.function(
        input_signature=[
            tf.TensorSpec([t.batch_size, config.sequence_length], tf.int32),
            tf.TensorSpec([2], tf.int32),
        ]
    )
    def rewards(token_ids, seed):
        return rollout.rollout_rewards(
            gan.generator,
            scorer,
            token_ids,
            seed,
            num_rollouts=num_rollouts,
            chunk_size=t.rollout_chunk_size,
        )

    seed = tf.constant([1, 2], tf.int32)
    scale = t.num_rollouts / num_rollouts
    seconds, runs = median_time(
        lambda: rewards(fake, seed).numpy(), args.repeats
    )
    rows["rewards" + suffix] = (
        seconds * scale,
        runs,
        reward_flops(config, t.num_rollouts, t.batch_size),
    )
    return rows, fake, seed, num_rollouts


def bench_naive_rewards(config, gan, token_ids, seed, num_rollouts, args):
    """The authors' loop shape: one compiled sampler call and one compiled
    D call per (rollout, prefix length)."""
    score = tf.function(
        gan.discriminator.predict_real,
        input_signature=[
            tf.TensorSpec([None, config.sequence_length], tf.int32)
        ],
    )

    def naive(rollouts):
        return rollout.naive_rollout_rewards(
            gan.generator, score, token_ids, seed, num_rollouts=rollouts
        ).numpy()

    seconds, runs = median_time(
        lambda: naive(num_rollouts), args.repeats, warm_up=lambda: naive(1)
    )
    t = config.training
    # The naive loop scores every completion whole.
    flops = reward_flops(config, t.num_rollouts, t.batch_size, False)
    return {
        "naive_rewards": (seconds * t.num_rollouts / num_rollouts, runs, flops)
    }


def bench_sampling(config, oracle, gan, args):
    num = 1024 if args.quick else NUM_SAMPLES
    scale = NUM_SAMPLES / num
    seconds, runs = median_time(
        lambda: sampler.sample_many(gan.generator, num, seed=(3, 4)),
        args.repeats,
    )
    sample_flops = (
        NUM_SAMPLES * config.sequence_length * (generator_token_flops(config))
    )
    samples = sampler.sample_many(gan.generator, num, seed=(3, 4))
    nll_seconds, nll_runs = median_time(
        lambda: metrics.nll(oracle, samples), args.repeats
    )
    return {
        "sample": (seconds * scale, runs, sample_flops),
        "nll_oracle": (nll_seconds * scale, nll_runs, sample_flops),
    }


# --- the `paper` schedule ----------------------------------------------------


def schedule_estimate(config, seconds, d_step_key="d_step"):
    """Wall time (s) of the `paper` schedule from the rows: MLE epochs, D
    rounds (sample the negatives, 3 epochs over real + generated),
    adversarial rounds (1 PG step + 5 D rounds) and NLL-oracle every 5."""
    t = config.training
    num_real = config.data.num_real
    mle_epoch = num_real // t.batch_size * seconds["mle_step"]
    d_epoch = (
        (min(num_real, t.num_negatives) + t.num_negatives)
        // t.batch_size
        * seconds[d_step_key]
    )
    sample = seconds["sample"] * t.num_negatives / NUM_SAMPLES
    d_round = sample + t.discriminator_epochs * d_epoch
    nll = seconds["sample"] + seconds["nll_oracle"]
    parts = {
        "MLE pretraining": t.generator_epochs * mle_epoch
        + t.generator_epochs // t.eval_every * nll,
        "D pretraining": t.discriminator_rounds * d_round,
        "adversarial": t.adversarial_rounds
        * (
            t.generator_steps * seconds["pg_step"]
            + t.discriminator_steps * d_round
        )
        + t.adversarial_rounds // t.eval_every * nll,
    }
    parts["total"] = (
        parts["MLE pretraining"] + parts["D pretraining"] + parts["adversarial"]
    )
    # D epochs of both D pretraining and the adversarial rounds.
    parts["of the total: D epochs"] = (
        t.discriminator_rounds + t.adversarial_rounds * t.discriminator_steps
    ) * (t.discriminator_epochs * d_epoch)
    return parts


LABELS = {
    "d_step": "D step, batch 64 (fp32)",
    "d_step_bf16": "D step, batch 64 (bf16 D, auto)",
    "mle_step": "MLE step, batch 64",
    "pg_step": "PG step: sample 64, rewards, update",
    "pg_step_bf16": "PG step (bf16 D, auto)",
    "rewards": "rewards: 16 rollouts x B=64 x T=20",
    "rewards_bf16": "rewards (bf16 D, auto)",
    "naive_rewards": "rewards, naive loop (16 x 19 calls)",
    "sample": "sample 9,984 sequences",
    "nll_oracle": "NLL-oracle of 9,984 samples",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 rollouts, 1,024 samples, no PG step, 1 repeat; "
        "times are extrapolated",
    )
    parser.add_argument("--json", metavar="PATH", help="also write here")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    started = time.perf_counter()
    info = machine(args)
    peaks = info["peak_gflops"]
    rows, memory = {}, {}

    def record(new):
        rows.update(new)
        for key in new:
            memory[key] = peak_rss_mb()

    config, oracle, gan = build("")  # float32
    steps, fake, seed, num_rollouts = bench_steps(config, oracle, gan, args)
    record(steps)
    record(bench_naive_rewards(config, gan, fake, seed, num_rollouts, args))
    record(bench_sampling(config, oracle, gan, args))
    if info["native_bf16"] and "auto" in config_lib.MIXED_PRECISION_POLICIES:
        _, _, gan_bf16 = build("auto")
        steps, *_ = bench_steps(config, oracle, gan_bf16, args, "_bf16")
        record({k: v for k, v in steps.items() if "mle" not in k})
    elapsed = time.perf_counter() - started

    print()
    print(
        f"{info['cpu']} | {info['cpus']} CPUs | flags: "
        f"{' '.join(info['flags']) or '-'} | TF {info['tensorflow']}"
    )
    peak_text = ", ".join(f"{k} {v:.0f}" for k, v in peaks.items())
    print(f"measured GEMM peak (GFLOP/s): {peak_text}")
    print(
        f"median of {args.repeats} (steps: {args.repeats * 5}) after a "
        "warm-up" + ("  [QUICK: extrapolated]" if args.quick else "")
    )
    header = (
        f"{'measurement':<40}{'median':>10}{'GFLOP':>9}{'GFLOP/s':>9}"
        f"{'of peak':>9}{'RSS MB':>8}"
    )
    print(header)
    print("-" * len(header))
    table = {}
    for key, label in LABELS.items():
        if key not in rows:
            continue
        seconds, runs, flops = rows[key]
        rate = flops / seconds / 1e9
        peak = peaks["bfloat16"] if key.endswith("_bf16") else peaks["float32"]
        share = rate / peak
        table[key] = {
            "seconds": seconds,
            "runs": runs,
            "gflop": flops / 1e9,
            "gflops": rate,
            "share_of_peak": share,
            "peak_rss_mb": memory[key],
        }
        unit = (
            f"{seconds * 1000:8.1f}ms" if seconds < 1 else f"{seconds:8.2f}s "
        )
        print(
            f"{label:<40}{unit:>10}{flops / 1e9:9.2f}{rate:9.1f}"
            f"{share:9.1%}{memory[key]:8.0f}"
        )
    result = {"machine": info, "rows": table, "quick": args.quick}
    if "naive_rewards" in rows:
        ratio = rows["naive_rewards"][0] / rows["rewards"][0]
        result["reward_speedup"] = ratio
        print(f"{'rewards: naive / vectorised':<40}{ratio:9.2f}x")
    if "d_step_bf16" in rows:
        ratio = rows["d_step"][0] / rows["d_step_bf16"][0]
        result["d_step_bf16_speedup"] = ratio
        print(f"{'D step: fp32 / bf16':<40}{ratio:9.2f}x")
    seconds = {key: value[0] for key, value in rows.items()}
    if "pg_step" in seconds:
        estimates = {"float32": schedule_estimate(config, seconds)}
        if "d_step_bf16" in seconds:
            mixed = dict(seconds)
            mixed["d_step"] = seconds["d_step_bf16"]
            mixed["pg_step"] = seconds["pg_step_bf16"]
            estimates["auto (bf16 D)"] = schedule_estimate(config, mixed)
        result["paper_schedule_seconds"] = estimates
        print("\nestimated wall time of the `paper` schedule (hours)")
        names = list(estimates)
        print(f"{'':<40}" + "".join(f"{n:>16}" for n in names))
        for part in estimates[names[0]]:
            print(
                f"{part:<40}"
                + "".join(f"{estimates[n][part] / 3600:16.2f}" for n in names)
            )
    result["benchmark_seconds"] = elapsed
    print(f"\n(benchmark ran {elapsed:.0f} s)")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
