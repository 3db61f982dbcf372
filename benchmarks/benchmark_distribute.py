"""Step times of the three SeqGAN updates: one device vs MirroredStrategy vs
mixed precision.

Each configuration runs in a fresh process (splitting the CPU into logical
devices must happen before TensorFlow starts), with the paper's models
(Generator(5000, 20), the paper's Discriminator) and batch 64:

- MLE step: one generator maximum-likelihood update;
- D step: one discriminator update on 64 sequences;
- PG step: sample 64 sequences, 16 rollouts per prefix, rewards, update.

On one CPU host, MirroredStrategy over two logical CPUs shows the overhead
of replication (the two "devices" share the same two cores); the gain of
more replicas needs more hardware. bfloat16 only pays on CPUs with AMX or
AVX-512 BF16 (and on TPUs); float16 needs a GPU.

    python benchmarks/benchmark_distribute.py            # ~5 minutes
    python benchmarks/benchmark_distribute.py --repeats 3 --json out.json
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CONFIGS = {
    "one device, float32": {"replicas": 1, "policy": "float32"},
    "mirrored 2 logical CPUs, float32": {"replicas": 2, "policy": "float32"},
    "one device, mixed_bfloat16": {"replicas": 1, "policy": "mixed_bfloat16"},
    "mirrored 2 logical CPUs, mixed_bfloat16": {
        "replicas": 2,
        "policy": "mixed_bfloat16",
    },
}


def measure(replicas, policy, repeats):
    """Runs in the child process; returns median seconds per step."""
    # TensorFlow and the models are imported in the child only, and only
    # after the CPU is split into logical devices (before TF initialises).
    import tensorflow as tf

    if replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
        )
    import keras

    import seqgan_tf
    from seqgan_tf import distribute

    strategy = distribute.make_strategy(
        "mirrored" if replicas > 1 else "default"
    )
    keras.mixed_precision.set_global_policy(policy)
    with strategy.scope():
        gan = seqgan_tf.SeqGAN(
            seqgan_tf.Generator(5000, 20),
            seqgan_tf.Discriminator(5000, 20),
            batch_size=64,
            num_rollouts=16,
            seed=1,
        )
        gan.compile()
    keras.mixed_precision.set_global_policy("float32")
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 5000, (64, 20)).astype(np.int32)
    labels = rng.integers(0, 2, 64).astype(np.int32)
    steps = {
        "mle": (lambda: gan.mle_step(tokens), 10 * repeats),
        "discriminator": (
            lambda: gan.discriminator_step(tokens, labels),
            5 * repeats,
        ),
        "policy_gradient": (
            lambda: gan.policy_gradient_step(
                tf.constant([1, 2]), tf.constant([3, 4])
            ),
            repeats,
        ),
    }
    result = {}
    for name, (run, count) in steps.items():
        run()  # trace and warm up
        times = []
        for _ in range(count):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        result[name] = float(np.median(times))
    result["replicas"] = int(strategy.num_replicas_in_sync)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        config = CONFIGS[args.child]
        print(
            json.dumps(
                measure(config["replicas"], config["policy"], args.repeats)
            )
        )
        return 0

    print(
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; paper-size models, batch 64\n"
    )
    rows = {}
    for name in CONFIGS:
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--repeats",
                str(args.repeats),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode:
            print(f"{name}: failed\n{completed.stderr[-2000:]}")
            rows[name] = None
            continue
        rows[name] = json.loads(completed.stdout.strip().splitlines()[-1])
        print(f"{name}: done", flush=True)
    base = rows.get("one device, float32")
    header = (
        f"{'configuration':<42}{'MLE step':>10}{'D step':>10}{'PG step':>10}"
        f"{'  vs one device (MLE / D / PG)':>32}"
    )
    print()
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        if row is None:
            print(f"{name:<42}{'failed':>10}")
            continue
        ratios = ""
        if base:
            ratios = " / ".join(
                f"{row[k] / base[k]:.2f}x"
                for k in ("mle", "discriminator", "policy_gradient")
            )
        print(
            f"{name:<42}{row['mle'] * 1e3:>8.1f}ms"
            f"{row['discriminator'] * 1e3:>8.1f}ms"
            f"{row['policy_gradient']:>9.2f}s{ratios:>32}"
        )
    print("\nmedians; ratios > 1 are slower than one float32 device.")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
