"""Times an exported generator the way a serving process would load it.

By default it builds a paper-size generator (Generator(5000, 20), random
weights), exports it with `seqgan_tf.export.export_generator` into a temporary
folder, and then measures it in a FRESH Python process that imports neither
`seqgan_tf` nor `keras` (both are blocked there: an export that needs either
could not be served by TF Serving). That process measures:

- load: `tf.saved_model.load` of the version folder;
- first call: the first `serving_default` call (num_samples=1) after the load,
  which includes the runtime's one-off graph set-up;
- for num_samples 1, 64 and 1,024: the median and p90 latency over
  `--repeats` calls (each with a new seed, after one warm-up call) and the
  throughput in sequences per second (num_samples / median latency).

It also prints the export's size on disk.

    python benchmarks/benchmark_serving.py                       # ~1 minute
    python benchmarks/benchmark_serving.py --repeats 50 --json out.json
    python benchmarks/benchmark_serving.py --saved-model export/models/seqgan/1

`--saved-model` takes a version folder (the one holding saved_model.pb) or a
model folder (the highest numbered version in it is used).
"""

import argparse
import importlib.machinery
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VOCABULARY_SIZE = 5000
SEQUENCE_LENGTH = 20
DEFAULT_SIZES = (1, 64, 1024)
SIGNATURE = "serving_default"
BLOCKED_MODULES = ("seqgan_tf", "keras")


# ----------------------------------------------------------------------------
# The parent process: export, size, start the worker, print the table.


def version_folder(path):
    """`path` itself if it holds saved_model.pb, else its highest numbered
    sub-folder that does."""
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    versions = [
        int(name)
        for name in os.listdir(path)
        if name.isdigit()
        and os.path.isfile(os.path.join(path, name, "saved_model.pb"))
    ]
    if not versions:
        raise SystemExit(
            f"{path} holds no saved_model.pb, nor any <version>/saved_model.pb"
        )
    return os.path.join(path, str(max(versions)))


def size_on_disk(path):
    """Total bytes of the files under `path`."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def export_paper_generator(output, seed):
    """Exports Generator(5000, 20) with random weights; returns its folder."""
    # Imported here, not at the top: the worker process runs this same file
    # and must import neither keras nor seqgan_tf.
    import keras

    import seqgan_tf
    from seqgan_tf.export import export_generator

    keras.utils.set_random_seed(seed)
    generator = seqgan_tf.Generator(VOCABULARY_SIZE, SEQUENCE_LENGTH)
    start = time.perf_counter()
    result = export_generator(generator, output, "seqgan", version=1)
    seconds = time.perf_counter() - start
    # export_generator returns the version folder; fall back to the layout.
    path = result if isinstance(result, (str, os.PathLike)) else None
    if path is None or not os.path.isfile(
        os.path.join(os.fspath(path), "saved_model.pb")
    ):
        path = os.path.join(output, "seqgan", "1")
    return os.fspath(path), seconds


def run_worker(path, sizes, repeats):
    """Runs this file's worker mode in a new interpreter; returns its JSON."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        path,
        "--sizes",
        ",".join(str(size) for size in sizes),
        "--repeats",
        str(repeats),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(
            f"the worker failed with exit code {completed.returncode}"
        )
    # The worker's last stdout line is its JSON report.
    return json.loads(completed.stdout.strip().splitlines()[-1])


def format_report(report):
    lines = []
    lines.append(f"SavedModel: {report['saved_model']}")
    mib = report["size_bytes"] / 2**20
    lines.append(
        f"size on disk: {report['size_bytes']:,} bytes ({mib:.1f} MiB)"
    )
    if report.get("export_seconds") is not None:
        lines.append(
            f"export (export_generator): {report['export_seconds']:.2f} s"
        )
    worker = report["worker"]
    lines.append(
        f"fresh process (no seqgan_tf, no keras): TF {worker['tensorflow']}, "
        f"{worker['cpu_count']} CPUs"
    )
    lines.append(f"load (tf.saved_model.load): {worker['load_seconds']:.2f} s")
    lines.append(
        f"first call ({SIGNATURE}, num_samples=1): "
        f"{worker['first_call_seconds'] * 1000:.1f} ms"
    )
    lines.append("")
    header = (
        f"{'num_samples':>11}  {'median ms':>10}  {'p90 ms':>10}  "
        f"{'sequences/s':>12}  {'repeats':>7}"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for row in worker["rows"]:
        lines.append(
            f"{row['num_samples']:>11,}  {row['median_ms']:>10.2f}  "
            f"{row['p90_ms']:>10.2f}  {row['sequences_per_second']:>12,.0f}  "
            f"{row['repeats']:>7}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--saved-model",
        help="time this export instead of exporting a random paper-size one",
    )
    parser.add_argument(
        "--output",
        help="export into this folder (kept) instead of a temporary one",
    )
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="comma-separated num_samples values (default: 1,64,1024)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if args.repeats < 1 or not sizes or min(sizes) < 1:
        parser.error("--repeats and every --sizes value must be >= 1")

    if args.worker:
        print(json.dumps(worker_main(args.worker, sizes, args.repeats)))
        return 0

    with tempfile.TemporaryDirectory(prefix="seqgan_serving_") as scratch:
        export_seconds = None
        if args.saved_model:
            path = version_folder(args.saved_model)
        else:
            output = args.output or scratch
            path, export_seconds = export_paper_generator(output, args.seed)
        report = {
            "saved_model": os.path.abspath(path),
            "size_bytes": size_on_disk(path),
            "export_seconds": export_seconds,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "worker": run_worker(path, sizes, args.repeats),
        }
    print(format_report(report))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(report, file, indent=2)
            file.write("\n")
    return 0


# ----------------------------------------------------------------------------
# The worker process: plain TensorFlow only.


class _Blocker:
    """A meta-path finder under which the blocked packages fail to import.

    `find_spec` answers with a spec that has no origin (so TensorFlow's own
    probing for an installed keras finds none, as on a machine without it),
    and whose loader raises ImportError when something really imports it.
    """

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in BLOCKED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(name, self, origin=None)

    def create_module(self, spec):
        raise ImportError(
            f"{spec.name} is blocked in the serving benchmark's worker"
        )

    def exec_module(self, module):  # pragma: no cover - never reached
        raise ImportError(f"{module.__name__} is blocked")


def percentile(values, fraction):
    """Linear-interpolated percentile of `values` (fraction in [0, 1])."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def worker_main(path, sizes, repeats):
    sys.meta_path.insert(0, _Blocker())
    # Imported only once the blocker is in place (see `_Blocker`).
    import tensorflow as tf

    def call(function, num_samples, seed):
        outputs = function(
            num_samples=tf.constant(num_samples, tf.int32),
            temperature=tf.constant(1.0, tf.float32),
            seed=tf.constant([seed, 7], tf.int64),
        )
        # Block until done and bring the results to the host, as a server's
        # response encoder would.
        outputs = {key: value.numpy() for key, value in outputs.items()}
        if outputs["tokens"].shape[0] != num_samples:
            raise AssertionError(
                f"asked for {num_samples} samples, got tokens "
                f"{outputs['tokens'].shape}"
            )
        return outputs

    start = time.perf_counter()
    loaded = tf.saved_model.load(path)
    load_seconds = time.perf_counter() - start
    function = loaded.signatures[SIGNATURE]

    start = time.perf_counter()
    call(function, 1, 0)
    first_call_seconds = time.perf_counter() - start

    rows = []
    seed = 1
    for num_samples in sizes:
        call(function, num_samples, seed)  # warm-up
        seed += 1
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call(function, num_samples, seed)
            times.append(time.perf_counter() - start)
            seed += 1
        median = percentile(times, 0.5)
        rows.append(
            {
                "num_samples": num_samples,
                "repeats": repeats,
                "median_ms": median * 1000,
                "p90_ms": percentile(times, 0.9) * 1000,
                "sequences_per_second": num_samples / median,
                "times_s": times,
            }
        )

    leaked = sorted(
        name for name in sys.modules if name.split(".")[0] in BLOCKED_MODULES
    )
    if leaked:
        raise AssertionError(f"the worker imported {leaked}")
    return {
        "tensorflow": tf.__version__,
        "cpu_count": os.cpu_count(),
        "signatures": sorted(loaded.signatures.keys()),
        "load_seconds": load_seconds,
        "first_call_seconds": first_call_seconds,
        "rows": rows,
    }


if __name__ == "__main__":
    sys.exit(main())
