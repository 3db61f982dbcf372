"""The `seqgan-tf` command line: train, evaluate, generate, export, report,
sweep.

This module parses arguments without importing TensorFlow; `main` then
routes the native (C++) log of TensorFlow to a file, so that the command's
own output comes first and alone, and runs the command from
`seqgan_tf.commands`. Errors in user input end in one line on stderr and
exit status 2.
"""

import argparse
import contextlib
import importlib
import os
import sys
import tempfile

from seqgan_tf import methods
from seqgan_tf.config import STRATEGIES

# Where TensorFlow's native log goes (default: a temporary file, removed
# unless the command crashed).
NATIVE_LOG_VARIABLE = "SEQGAN_TF_NATIVE_LOG"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def make_parser():
    parser = _Parser(
        prog="seqgan-tf",
        description="SeqGAN for TensorFlow 2 / Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    for add in (
        _add_train,
        _add_evaluate,
        _add_generate,
        _add_export,
        _add_report_commands,
        _add_reproduce,
    ):
        add(commands)
    return parser


def _add_train(commands):
    train = commands.add_parser(
        "train", help="train a SeqGAN (default: the quick synthetic experiment)"
    )
    train.add_argument(
        "--preset",
        default="quick",
        help="paper | quick | tiny (default: quick)",
    )
    train.add_argument(
        "--output",
        help="run directory (default: runs/PRESET); "
        "re-running with the same one resumes it",
    )
    train.add_argument(
        "--dataset",
        help="train on text: coco | chinese_quatrains | folk_tunes (their "
        "/small configs too) | a text file, one sequence a line | tfds:NAME "
        "(a TFDS dataset prepared on this machine); default: the preset's "
        "synthetic oracle",
    )
    train.add_argument(
        "--text-key",
        help="the text feature of a tfds:NAME dataset (default: text)",
    )
    train.add_argument(
        "--data-dir",
        help="TFDS data directory (default: TFDS's, ~/tensorflow_datasets)",
    )
    train.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help="tf.distribute strategy (default: one device); mirrored: all "
        "GPUs of this host; multiworker: the cluster of TF_CONFIG; tpu: "
        "the TPU of the environment (Colab)",
    )
    train.add_argument(
        "--mixed-precision",
        choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"),
        help="float32 (default); auto: the discriminator in bfloat16 where "
        "the machine has native bfloat16 units (AMX or AVX512-BF16 CPUs, "
        "GPUs, TPUs), else float32; or bfloat16 / float16 (GPUs, with loss "
        "scaling) for both models; logits, losses and rewards stay float32",
    )
    train.add_argument(
        "--method",
        choices=methods.names(command_line=True),
        help=(
            "how the generator learns: "
            + "; ".join(
                f"{name}: {methods.get(name).summary}"
                for name in methods.names(command_line=True)
            )
            + " (default: seqgan; the registry seqgan_tf.methods)"
        ).replace("%", "%%"),
    )
    train.add_argument("--seed", type=int, help="root random seed")
    train.add_argument(
        "--set",
        action="append",
        metavar="SECTION.FIELD=VALUE",
        help="override any config field, e.g. "
        "--set training.adversarial_rounds=50 (repeatable)",
    )
    train.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0 silent, 1 progress bars, 2 one line per epoch",
    )
    train.add_argument(
        "--stop-after",
        type=_positive_int,
        metavar="EPOCHS",
        help="stop (with a checkpoint) after this many epochs; "
        "run again to continue",
    )
    train.set_defaults(command="train")


def _add_evaluate(commands):
    evaluate = commands.add_parser(
        "evaluate",
        help="NLL-oracle (oracle task) or BLEU-2..5, Self-BLEU-2..4 and "
        "NLL-test (text) of a checkpoint; or score a file of samples",
    )
    evaluate.add_argument("--checkpoint", metavar="RUN_DIR")
    evaluate.add_argument(
        "--pretrained",
        action="store_true",
        help="evaluate the run's generator as it was after MLE pretraining",
    )
    evaluate.add_argument(
        "--text",
        metavar="FILE",
        help="sentences to score with BLEU / Self-BLEU against --dataset's "
        "held-out set",
    )
    evaluate.add_argument("--dataset", help="the dataset of --text")
    evaluate.add_argument("--data-dir", help="TFDS data directory")
    evaluate.add_argument(
        "--step", type=int, help="checkpoint epoch (default: latest)"
    )
    evaluate.add_argument(
        "--tokens",
        metavar="FILE",
        help="sequences of space-separated token ids",
    )
    evaluate.add_argument(
        "--preset",
        default="quick",
        help="the oracle of --tokens comes from this preset",
    )
    evaluate.add_argument(
        "--set", action="append", metavar="SECTION.FIELD=VALUE"
    )
    evaluate.add_argument("--samples", type=int, default=9984)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(command="evaluate")


def _add_generate(commands):
    generate = commands.add_parser(
        "generate", help="sample from a checkpoint or an exported SavedModel"
    )
    generate.add_argument("--checkpoint", metavar="RUN_DIR")
    generate.add_argument(
        "--saved-model",
        metavar="DIR",
        help="an export's version folder, or its model folder (the highest "
        "version is used)",
    )
    generate.add_argument("--step", type=int)
    generate.add_argument("-n", "--num-samples", type=int, default=10)
    generate.add_argument("--temperature", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument(
        "--output", help="write to this file instead of stdout"
    )
    generate.set_defaults(command="generate")


def _add_export(commands):
    export = commands.add_parser(
        "export", help="export a run's generator as a TF Serving SavedModel"
    )
    export.add_argument("--checkpoint", metavar="RUN_DIR", required=True)
    export.add_argument(
        "--output",
        default="export/models",
        help="base folder of models (default: export/models)",
    )
    export.add_argument(
        "--name", default="seqgan", help="model name (default: seqgan)"
    )
    export.add_argument(
        "--version",
        type=_positive_int,
        help="version number (default: the next free one)",
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing version",
    )
    export.set_defaults(command="export")


def _add_report_commands(commands):
    report = commands.add_parser(
        "report",
        help="write an HTML report of a run (config, curves, samples, timings)",
    )
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument(
        "--output", help="report folder (default: RUN_DIR/report)"
    )
    report.set_defaults(command="report")

    sweep = commands.add_parser(
        "sweep",
        help="quality-diversity sweep of the sampling temperature for the "
        "checkpoint and the MLE-pretrained generator",
    )
    sweep.add_argument("--checkpoint", metavar="RUN_DIR", required=True)
    sweep.add_argument(
        "--step", type=int, help="checkpoint epoch (default: latest)"
    )
    sweep.add_argument(
        "--temperatures",
        default="0.1,0.5,0.8,1.0,1.2,1.5",
        help="comma-separated sampling temperatures "
        "(default: 0.1,0.5,0.8,1.0,1.2,1.5)",
    )
    sweep.add_argument(
        "--samples",
        type=int,
        default=1000,
        help="samples per temperature (default: 1000)",
    )
    sweep.add_argument("--seed", type=int, default=0)
    sweep.add_argument("--data-dir", help="TFDS data directory")
    sweep.add_argument(
        "--output",
        help="folder of sweep.json and quality_diversity.png "
        "(default: RUN_DIR/sweep, where the report finds them)",
    )
    sweep.set_defaults(command="sweep")


def _add_reproduce(commands):
    reproduce = commands.add_parser(
        "reproduce",
        help="reproduce a table of the paper: every method on several "
        "seeds, with statistics (table1: the synthetic oracle; table2: "
        "Chinese quatrains; coco: SeqGAN's successors on COCO captions)",
    )
    reproduce.add_argument("table", choices=("table1", "table2", "coco"))
    reproduce.add_argument(
        "--schedule",
        choices=(
            "fast",
            "authors",
            "family",
            "critic",
            "paper",
            "tiny",
            "tiny_authors",
            "tiny_family",
            "tiny_critic",
        ),
        help="fast (the default of table1 and table2: about two hours on 2 "
        "CPU cores), authors (table1: the authors' pretraining and "
        "discriminator training, the first 21 rounds), family (table1 and "
        "coco, coco's default: SeqGAN's successors MaliGAN, RankGAN and "
        "LeakGAN beside SeqGAN and MLE on the fast budget), critic (table1: "
        "SeqGAN, MaliGAN and RankGAN with their learned critic, a constant "
        "control and the Bayes-optimal critic, on the family budget), paper "
        "(the authors' schedules) or tiny / tiny_authors / tiny_family / "
        "tiny_critic (tests)",
    )
    reproduce.add_argument(
        "--seeds", type=_positive_int, default=3, help="seeds 0..N-1"
    )
    reproduce.add_argument(
        "--output",
        help="folder of the runs and tables (default: runs/TABLE; "
        "re-running resumes)",
    )
    reproduce.add_argument(
        "--methods",
        help="table1 and coco: comma-separated subset of the methods "
        "(default: all; coco always runs mle)",
    )
    reproduce.add_argument(
        "--data-dir",
        help="table2 and coco: TFDS data directory of the text (default: "
        "TFDS's)",
    )
    reproduce.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="table1: independent (method, seed) runs side by side, each "
        "process with an equal share of the cores (default: 1)",
    )
    reproduce.add_argument(
        "--table-only",
        action="store_true",
        help="train nothing; build the table from the protocol results in "
        "--output (missing runs are marked)",
    )
    reproduce.add_argument(
        "--copy-results",
        metavar="DIR",
        help="also copy what rebuilds the table (protocol files, metrics, "
        "tables, plots; no checkpoints) into DIR, e.g. to commit",
    )
    reproduce.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0)
    reproduce.set_defaults(command="reproduce")


@contextlib.contextmanager
def native_log_to_file():
    """Sends what native code writes to file descriptor 2 (TensorFlow's C++
    start-up lines: oneDNN, CUDA probing) to a log file while Python's own
    `sys.stderr` keeps writing where it did. Yields the log's path."""
    path = os.environ.get(NATIVE_LOG_VARIABLE) or os.path.join(
        tempfile.gettempdir(), f"seqgan-tf-native-{os.getpid()}.log"
    )
    try:
        python_stderr_is_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        python_stderr_is_fd2 = False  # replaced, e.g. captured by pytest
    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 2)
    os.close(log)
    previous = sys.stderr
    if python_stderr_is_fd2:
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield path
    finally:
        if python_stderr_is_fd2:
            sys.stderr.close()
            sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    keep_log = bool(os.environ.get(NATIVE_LOG_VARIABLE))
    commands = None  # set once its import (and TensorFlow's) succeeds
    with native_log_to_file() as log_path:
        try:
            # TensorFlow is imported here, with its native log redirected.
            commands = importlib.import_module("seqgan_tf.commands")
            return commands.COMMANDS[args.command](args)
        except KeyboardInterrupt:
            print(
                "seqgan-tf: interrupted; the last checkpoint is kept.",
                file=sys.stderr,
            )
            return 130
        except Exception as error:
            message = commands.one_line_error(error) if commands else None
            if message is not None:
                print(f"seqgan-tf: error: {message}", file=sys.stderr)
                return 2
            keep_log = True
            print(
                f"seqgan-tf: TensorFlow's native log is in {log_path}.",
                file=sys.stderr,
            )
            raise
        finally:
            if not keep_log:
                with contextlib.suppress(OSError):
                    os.remove(log_path)


if __name__ == "__main__":
    sys.exit(main())
