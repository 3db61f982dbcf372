"""What a discriminator learns, round by round: the study of
`seqgan_tf.reproduce.discriminator_study`, with a line per round.

The paper's Discriminator and RankGAN's Ranker, each trained for up to
`--rounds` D rounds against the frozen MLE generator of the `family`
schedule under three regimes (a fixed real set, the same with a
validation split and its best checkpoint kept, fresh oracle sequences
every round), probed after every round. Resumable: run it again to go on
after the last finished round. Rounds and checkpoints go to `--output`
(outside the repository; about 0.3 GB a (model, regime) at the family
sizes); the table and figure to `--results`.

    python benchmarks/discriminator_study.py                # the full study
    python benchmarks/discriminator_study.py --probe-samples 512   # ~3 h
    python benchmarks/discriminator_study.py --table-only   # rebuild the table
    python benchmarks/discriminator_study.py --schedule tiny_family \\
        --rounds 3 --probe-samples 64 --output /tmp/d_study --results /tmp/r

The sizes, the measured cost per round and the sizing are in the module's
docstring.
"""

import argparse
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT.parent / "runs" / "d_study"
DEFAULT_RESULTS = ROOT / "benchmarks" / "results" / "discriminator_study"
_THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
)


def parse(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", type=pathlib.Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--results", type=pathlib.Path, default=DEFAULT_RESULTS)
    parser.add_argument("--schedule", default="family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--probe-samples", type=int, default=1024)
    parser.add_argument(
        "--num-negatives",
        type=int,
        default=0,
        help="generated sequences a round (0: the schedule's, 1,024)",
    )
    parser.add_argument("--models", default="discriminator,ranker")
    parser.add_argument("--regimes", default="fixed,validated,fresh")
    parser.add_argument(
        "--stages-output",
        type=pathlib.Path,
        default=None,
        help="a family reproduction's output whose MLE stage to use",
    )
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--tolerance", type=float, default=0.005)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TensorFlow threads (the sizing is for one core)",
    )
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="rebuild the table and figure from what the rounds measured",
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    # Before TensorFlow starts.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(args.threads)
    from seqgan_tf.reproduce import discriminator_study as study_lib

    if args.table_only:
        table = study_lib.write_results(args.output, args.results)
        print(f"{len(table['runs'])} (model, regime) tables -> {args.results}")
        return 0
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    study = study_lib.Study(
        schedule=args.schedule,
        seed=args.seed,
        probe_samples=args.probe_samples,
        num_negatives=args.num_negatives,
    )
    study_lib.run_study(
        study,
        args.output,
        rounds=args.rounds,
        models=tuple(args.models.split(",")),
        regimes=tuple(args.regimes.split(",")),
        stages_output=args.stages_output,
        results=args.results,
        window=args.window,
        tolerance=args.tolerance,
        log=lambda message: print(message, flush=True),
    )
    print(f"Table and figure: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
