"""Where the discriminator step's time goes, part by part, in one run.

`benchmark_core.py` reports the trainer's whole D step as a share of the
machine's GEMM peak. This script splits that step (the `paper` D, batch
64, float32) into the parts TensorFlow runs, each timed alone on the
same weights and batch:

- the forward pass with the loss (dropout on, as in training);
- forward and backward (all gradients, no update);
- the optimizer update alone (`FusedAdam` on fixed gradients), with the
  bytes it must move (variable, gradient and two moments read; variable
  and moments written) and the bandwidth that implies;
- the highway's six GEMMs alone (two forward, four backward) at the
  step's shapes;
- the twelve convolutions with ReLU and max over time, forward and
  backward, alone.

Then it prints how long the step would take if each part ran at the rate
it reaches alone, and the time the step must reach for a given share of
the peak. The gap between the two says whether scheduling (overlap,
dispatch) or the kernels themselves bound the step.

    python benchmarks/d_step_breakdown.py            # ~1 minute on 2 cores
    python benchmarks/d_step_breakdown.py --json out.json
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchmark_core as core  # noqa: E402

from seqgan_tf import losses  # noqa: E402
from seqgan_tf import sampler  # noqa: E402


def conv_flops(config, batch):
    d, length = config.discriminator, config.sequence_length
    return batch * sum(
        2 * (length - w + 1) * w * d.embedding_dim * f
        for w, f in zip(d.filter_sizes, d.num_filters)
    )


def parts(config, oracle, gan, repeats):
    """{name: (seconds, flops, bytes)} of the D step and its parts."""
    d = gan.discriminator
    batch_size = config.training.batch_size
    real = sampler.sample_many(oracle, batch_size, seed=(1, 2))
    fake = sampler.sample_many(gan.generator, batch_size, seed=(3, 4))
    half = batch_size // 2
    batch = tf.constant(np.concatenate([real[:half], fake[:half]]))
    labels = tf.constant(np.repeat([1, 0], half), tf.int32)
    step_flops = 3 * batch_size * core.discriminator_flops(config)
    variables = d.trainable_variables

    def loss_of(token_ids):
        logits = d(token_ids, training=True)
        loss, _ = losses.discriminator_loss(
            logits,
            labels,
            regularization=keras.ops.sum(d.losses),
            global_batch_size=batch_size,
            num_replicas=1,
        )
        return loss

    @tf.function
    def forward():
        return loss_of(batch)

    @tf.function
    def forward_backward():
        with tf.GradientTape() as tape:
            loss = loss_of(batch)
        grads = tape.gradient(loss, variables)
        # Sum one element of each gradient so nothing is pruned.
        return tf.add_n(
            [tf.reduce_sum(tf.convert_to_tensor(g)[..., :1]) for g in grads]
        )

    with tf.GradientTape() as tape:
        loss = loss_of(batch)
    fixed = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]

    @tf.function
    def update():
        gan.d_optimizer.apply_gradients(zip(fixed, variables))
        return tf.constant(0)

    update_bytes = sum(7 * 4 * int(np.prod(v.shape)) for v in variables)

    features = sum(config.discriminator.num_filters)
    x = tf.random.normal([batch_size, features])
    dy = tf.random.normal([batch_size, features])
    # Transform and gate: distinct kernels, or TF computes the products once.
    kernels = [tf.random.normal([features, features]) for _ in range(2)]

    @tf.function
    def highway_gemms():
        total = 0.0
        for w in kernels:
            total += tf.reduce_sum(tf.matmul(x, w))
            total += tf.reduce_sum(tf.matmul(dy, w, transpose_b=True))
            total += tf.reduce_sum(tf.matmul(x, dy * w[0], transpose_a=True))
        return total

    gemm_flops = 6 * 2 * batch_size * features * features
    embedded = tf.Variable(d.embedding(batch))
    conv_variables = [v for c in d.convolutions for v in c.trainable_variables]

    @tf.function
    def convolutions():
        with tf.GradientTape() as tape:
            pooled = tf.concat(
                [tf.reduce_max(c(embedded), axis=1) for c in d.convolutions],
                -1,
            )
            total = tf.reduce_sum(pooled * dy)
        grads = tape.gradient(total, conv_variables + [embedded])
        return tf.add_n([tf.reduce_sum(g[..., :1]) for g in grads])

    runs = {
        "step": (
            lambda: gan.discriminator_step(batch, labels).numpy(),
            step_flops,
            0,
        ),
        "forward": (lambda: forward().numpy(), step_flops / 3, 0),
        "forward_backward": (
            lambda: forward_backward().numpy(),
            step_flops,
            0,
        ),
        "update": (lambda: update().numpy(), 0, update_bytes),
        "highway_gemms": (lambda: highway_gemms().numpy(), gemm_flops, 0),
        "convolutions": (
            lambda: convolutions().numpy(),
            3 * conv_flops(config, batch_size),
            0,
        ),
    }
    result = {}
    for name, (function, flops, moved) in runs.items():
        seconds, _ = core.median_time(function, repeats)
        result[name] = (seconds, flops, moved)
    return result


LABELS = {
    "step": "D step (the trainer's, with update)",
    "forward": "forward + loss",
    "forward_backward": "forward + backward, no update",
    "update": "optimizer update alone",
    "highway_gemms": "highway: its 6 GEMMs alone",
    "convolutions": "12 convs + max, fwd + bwd alone",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--share",
        type=float,
        default=0.5,
        help="the share of the fp32 peak to compare against (default 0.5)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write here")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    info = core.machine(argparse.Namespace(repeats=3))
    peak = info["peak_gflops"]["float32"]
    config, oracle, gan = core.build("")
    measured = parts(config, oracle, gan, args.repeats)

    print()
    print(f"{info['cpu']} | {info['cpus']} CPUs | TF {info['tensorflow']}")
    print(f"measured fp32 GEMM peak: {peak:.0f} GFLOP/s")
    print(f"median of {args.repeats} after a warm-up")
    header = (
        f"{'part':<38}{'median':>9}{'GFLOP':>8}{'GFLOP/s':>9}"
        f"{'of peak':>9}{'GB/s':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = {}
    for key, label in LABELS.items():
        seconds, flops, moved = measured[key]
        rate = flops / seconds / 1e9
        bandwidth = moved / seconds / 1e9
        rows[key] = {
            "seconds": seconds,
            "gflop": flops / 1e9,
            "gflops": rate,
            "share_of_peak": rate / peak,
            "gb_per_s": bandwidth,
        }
        print(
            f"{label:<38}{seconds * 1e3:7.1f}ms{flops / 1e9:8.2f}"
            f"{rate:9.1f}{rate / peak:9.1%}"
            + (f"{bandwidth:7.1f}" if moved else f"{'':>7}")
        )
    step, step_flops, _ = measured["step"]
    forward_backward = measured["forward_backward"][0]
    update = measured["update"][0]
    # The two compute parts cover all but the embedding lookup, the output
    # layer and the element-wise ops; back to back at their standalone
    # speed, with the update, they bound what this TF build can reach.
    floor = measured["convolutions"][0] + measured["highway_gemms"][0] + update
    target = step_flops / (args.share * peak * 1e9)
    print()
    print(
        f"step {step * 1e3:.1f} ms = forward+backward "
        f"{forward_backward * 1e3:.1f} + update {update * 1e3:.1f} "
        f"{(step - forward_backward - update) * 1e3:+.1f} (overlap/dispatch)"
    )
    print(
        f"convs + highway GEMMs + update at their standalone speed: "
        f"{floor * 1e3:.1f} ms = {step_flops / floor / 1e9 / peak:.0%} of "
        f"peak; {args.share:.0%} of peak needs {target * 1e3:.1f} ms"
    )
    result = {
        "machine": info,
        "rows": rows,
        "share": args.share,
        "target_step_seconds": target,
        "standalone_floor_seconds": floor,
    }
    if args.json:
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
