"""Runs per hour of independent whole runs, one process at a time against
`--jobs N` processes side by side (`seqgan_tf.reproduce.jobs`).

Each run is a short schedule with the `paper` preset's models whose time
is spent where the `authors` reproduction spends it, in D rounds of 3
epochs over fresh negatives and real sequences (plus one policy-gradient
step with 16 rollouts per adversarial round). The same runs (one seed
each) go through `jobs.run` with 1 job, then with N; the script prints the
runs per hour of each, their ratio, whether the final weights agree, the
CPU model and the machine's measured float32 GEMM peak, and writes them
to `benchmarks/results/speed/benchmark_jobs.json`.

    python benchmarks/benchmark_jobs.py            # 4 runs, --jobs 2
    python benchmarks/benchmark_jobs.py --runs 6 --jobs 3
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

# Before TensorFlow: the parent's own thread count does not matter (it only
# waits), the workers set theirs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from seqgan_tf import config as config_lib  # noqa: E402
from seqgan_tf import hardware  # noqa: E402
from seqgan_tf.reproduce import jobs  # noqa: E402

RESULT = HERE / "results" / "speed" / "benchmark_jobs.json"


def run_config(seed, negatives):
    """The benchmark's run: paper models, no MLE, 1 D pretraining round and
    1 adversarial round (1 PG step, 1 D round), `negatives` per round."""
    return config_lib.with_overrides(
        config_lib.get_preset("paper"),
        [
            f"seed={seed}",
            "training.generator_epochs=0",
            "training.discriminator_rounds=1",
            "training.adversarial_rounds=1",
            "training.discriminator_steps=1",
            f"training.num_negatives={negatives}",
            "training.eval_every=0",
            "training.eval_samples=1000",
        ],
    )


def one_run(seed, negatives, directory):
    """Trains one run into `directory`; returns (seconds, a checksum of its
    final generator weights)."""
    from seqgan_tf import experiment  # noqa: PLC0415 (in the worker)

    started = time.perf_counter()
    experiment.train(
        run_config(seed, negatives), directory, verbose=0, log=None
    )
    seconds = time.perf_counter() - started
    run = experiment.restore_run(directory)
    total = sum(float(np.sum(w)) for w in run.gan.generator.get_weights())
    return seconds, total


def measure(count, job_count, negatives, root):
    tasks = [
        (seed, negatives, str(root / f"jobs{job_count}_seed{seed}"))
        for seed in range(count)
    ]
    started = time.perf_counter()
    done = jobs.run(one_run, tasks, job_count, log=lambda message: None)
    wall = time.perf_counter() - started
    return {
        "jobs": job_count,
        "threads_per_job": jobs.threads_per_job(job_count)
        if job_count > 1
        else os.cpu_count(),
        "runs": count,
        "wall_seconds": wall,
        "runs_per_hour": count / wall * 3600,
        "run_seconds": [value[0] for _, value in done],
        "checksums": [value[1] for _, value in done],
    }


def gemm_peak():
    import tensorflow as tf  # noqa: PLC0415

    a = tf.random.normal([2048, 2048])
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, a)))
    product().numpy()
    best = 0.0
    for _ in range(5):
        started = time.perf_counter()
        product().numpy()
        best = max(best, 2 * 2048**3 / (time.perf_counter() - started) / 1e9)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--negatives", type=int, default=2048)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        root = pathlib.Path(root)
        serial = measure(args.runs, 1, args.negatives, root)
        parallel = measure(args.runs, args.jobs, args.negatives, root)
    agree = np.allclose(serial["checksums"], parallel["checksums"], rtol=1e-5)
    result = {
        "cpu": hardware.cpu_model(),
        "cpus": os.cpu_count(),
        "peak_gflops_float32": gemm_peak(),
        "negatives_per_round": args.negatives,
        "serial": serial,
        "parallel": parallel,
        "speedup": parallel["runs_per_hour"] / serial["runs_per_hour"],
        "same_weights": bool(agree),
    }
    print(f"CPU: {result['cpu']} ({result['cpus']} cores), measured fp32 "
          f"GEMM peak {result['peak_gflops_float32']:.0f} GFLOP/s")  # fmt: skip
    for row in (serial, parallel):
        print(
            f"--jobs {row['jobs']} ({row['threads_per_job']} thread(s) "
            f"each): {row['runs']} runs in {row['wall_seconds']:.1f} s = "
            f"{row['runs_per_hour']:.0f} runs/hour"
        )
    print(
        f"ratio {result['speedup']:.2f}x; final weights agree: "
        f"{result['same_weights']}"
    )
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"Wrote {RESULT}.")


if __name__ == "__main__":
    main()
