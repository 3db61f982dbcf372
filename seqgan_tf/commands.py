"""The `seqgan-tf` commands: thin adapters from parsed arguments to the
library (`experiment`, `runs`, `evaluation`, `export`, `report`,
`quality`). `seqgan_tf.cli` parses the command line and calls them; this
module is where TensorFlow gets imported.
"""

import errno
import json
import math
import pathlib
import re

import tensorflow as tf

from seqgan_tf import config as config_lib
from seqgan_tf import evaluation
from seqgan_tf import experiment
from seqgan_tf import export as export_lib
from seqgan_tf import methods as methods_lib
from seqgan_tf import metrics
from seqgan_tf import quality
from seqgan_tf import report
from seqgan_tf import reproduce
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.data import CorpusError
from seqgan_tf.data import get_tokenizer
from seqgan_tf.data import read_corpus
from seqgan_tf.trainer import NonFiniteLossError


class CLIError(Exception):
    """Bad user input; printed as one line, exit status 2."""


# --- train -----------------------------------------------------------------


def command_train(args):
    config = config_lib.get_preset(args.preset)
    if args.dataset:
        config = config_lib.for_dataset(config, args.dataset)
    if args.method:
        config = config_lib.for_method(config, args.method)
    overrides = list(args.set or [])
    if args.text_key:
        overrides.append(f"data.text_key={args.text_key}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.strategy:
        overrides.append(f"training.strategy={args.strategy}")
    if args.mixed_precision:
        policy = (
            "" if args.mixed_precision == "float32" else args.mixed_precision
        )
        overrides.append(f"training.mixed_precision={policy}")
    config = config_lib.with_overrides(config, overrides).validate()
    summary = experiment.train(
        config,
        args.output,
        data_dir=args.data_dir,
        verbose=args.verbose,
        stop_after=args.stop_after,
    )
    if summary is not None:
        print("\n".join(evaluation.summary_lines(summary)))
    return 0


# --- evaluate / generate ----------------------------------------------------


def command_evaluate(args):
    sources = [bool(args.checkpoint), bool(args.tokens), bool(args.text)]
    if sum(sources) != 1:
        raise CLIError(
            "give exactly one of --checkpoint RUN_DIR, --tokens FILE "
            "(oracle task) or --text FILE (with --dataset)."
        )
    if args.samples < 1:
        raise CLIError(f"--samples must be >= 1, got {args.samples}.")
    if args.pretrained and not args.checkpoint:
        raise CLIError("--pretrained applies to --checkpoint.")
    _check_seed(args.seed)
    if args.checkpoint:
        result = _evaluate_checkpoint(args)
    elif args.text:
        result = _evaluate_text_file(args)
    else:
        config = config_lib.with_overrides(
            config_lib.get_preset(args.preset), args.set or []
        ).validate()
        if config.is_text:
            raise CLIError("--tokens is for the oracle task; use --text.")
        tokens = runs.read_token_file(
            args.tokens, config.vocabulary_size, config.sequence_length
        )
        result = {
            "source": args.tokens,
            "samples": int(len(tokens)),
            "nll_oracle": metrics.nll(experiment.build_oracle(config), tokens),
        }
    print(json.dumps(result))
    return 0


def _evaluate_checkpoint(args):
    run = experiment.restore_run(args.checkpoint, args.step)
    if args.pretrained:
        run.load_pretrained()
    result = {
        "source": args.checkpoint,
        "generator": "pretrained" if args.pretrained else "checkpoint",
        "epoch": None if args.pretrained else run.epoch,
    }
    if run.config.is_text:
        data = experiment.load_text(
            run.config, run.vocabulary, args.data_dir, log=None
        )
        scores, _ = evaluation.evaluate_text(
            run.gan.generator,
            data,
            args.samples,
            seed=(args.seed, 1),
            music_task=evaluation.is_music(run.config),
        )
        result.update(scores)
    else:
        result["samples"] = args.samples
        result["nll_oracle"] = metrics.nll_oracle(
            run.gan.generator, run.gan.oracle, args.samples, seed=(args.seed, 1)
        )
    return result


def _evaluate_text_file(args):
    """BLEU-2..5 against a dataset's held-out set and Self-BLEU-2..4 of the
    sentences of a text file (e.g. another implementation's samples),
    tokenised as the dataset is."""
    if not args.dataset:
        raise CLIError(
            "--text needs --dataset (its held-out set is the BLEU reference)."
        )
    config = config_lib.for_dataset(
        config_lib.get_preset(args.preset), args.dataset
    )
    config = config_lib.with_overrides(config, args.set or []).validate()
    data = experiment.load_text(config, data_dir=args.data_dir, log=None)
    tokenizer = get_tokenizer(
        config.data.tokenizer, **config.tokenizer_options()
    )
    try:
        hypotheses = read_corpus(args.text, tokenizer).sequences
    except CorpusError as error:
        raise CLIError(str(error)) from None
    result = {"source": args.text, "samples": len(hypotheses)}
    result.update(evaluation.bleu_table(hypotheses, data))
    return result


# `generate -n` above one sampler call is drawn in chunks of this many
# rows (bounded memory, lines streamed to the output); above the cap it is
# refused before anything is allocated.
GENERATE_CHUNK = 10_000
MAX_GENERATE = 10_000_000


def command_generate(args):
    if bool(args.checkpoint) == bool(args.saved_model):
        raise CLIError(
            "give exactly one of --checkpoint RUN_DIR or --saved-model DIR."
        )
    if not 1 <= args.num_samples <= MAX_GENERATE:
        raise CLIError(
            f"-n must be in [1, {MAX_GENERATE:,}], got {args.num_samples}."
        )
    if not (args.temperature > 0 and math.isfinite(args.temperature)):
        raise CLIError(
            f"--temperature must be a finite number > 0, got "
            f"{args.temperature}."
        )
    _check_seed(args.seed)
    if args.saved_model:
        if args.step is not None:
            raise CLIError("--step applies to --checkpoint, not --saved-model.")
        batches = [_generate_from_saved_model(args)]
    else:
        batches = _generate_from_checkpoint(
            experiment.restore_run(args.checkpoint, args.step), args
        )
    if args.output:
        count = runs.write_line_batches(args.output, batches)
        print(f"Wrote {count} sequences to {args.output}.")
    else:
        for lines in batches:
            for line in lines:
                print(line)
    return 0


def _generate_from_checkpoint(run, args):
    """Yields the sampled lines in batches. Up to `GENERATE_CHUNK`
    sequences are one sampler call with the seed pair as given, exactly
    what the exported `generate` signature does: a checkpoint and its
    export print the same lines for the same --seed. More are drawn in
    chunks (`sampler.sample_chunks`)."""
    seed = (args.seed, 7)
    if args.num_samples <= GENERATE_CHUNK:
        samples = run.gan.generator.generate(
            args.num_samples, seed=seed, temperature=args.temperature
        )
        yield run.decode(samples.numpy())
        return
    for chunk in sampler.sample_chunks(
        run.gan.generator,
        args.num_samples,
        seed=seed,
        batch_size=GENERATE_CHUNK,
        temperature=args.temperature,
    ):
        yield run.decode(chunk.numpy())


def _check_seed(seed):
    if not -(2**31) <= seed < 2**31:
        raise CLIError(f"--seed must fit in 32 bits, got {seed}.")


def _generate_from_saved_model(args):
    """Serves from an export as a client would: `tf.saved_model.load` and
    the `serving_default` (generate) signature; returns its text lines."""
    directory = export_lib.resolve_saved_model(args.saved_model)
    try:
        model = tf.saved_model.load(str(directory))
    except (OSError, ValueError, tf.errors.OpError) as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise CLIError(f"cannot load {directory}: {reason}") from None
    if "serving_default" not in model.signatures:
        raise CLIError(f"{directory} has no serving_default signature.")
    try:
        outputs = model.signatures["serving_default"](
            num_samples=tf.constant(args.num_samples, tf.int32),
            temperature=tf.constant(args.temperature, tf.float32),
            seed=tf.constant([args.seed, 7], tf.int64),
        )
    except tf.errors.InvalidArgumentError as error:
        found = re.search(r"assertion failed: \[([^\]]*)\]", error.message)
        reason = found.group(1) if found else error.message.strip()[:300]
        reason = " ".join(reason.rstrip(". ").split())
        raise CLIError(f"{directory} rejected the request: {reason}.") from None
    return [text.decode("utf-8") for text in outputs["text"].numpy()]


# --- export / report / sweep ------------------------------------------------


def command_export(args):
    target = export_lib.export_run(
        experiment.restore_run(args.checkpoint),
        args.output,
        args.name,
        version=args.version,
        overwrite=args.overwrite,
    )
    print(f"Exported {args.checkpoint} to {target}.")
    return 0


def command_report(args):
    try:
        path = report.write_report(args.run_dir, args.output)
    except ValueError as error:
        raise CLIError(str(error)) from None
    print(f"Wrote {path}.")
    return 0


def _parse_temperatures(text):
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CLIError(
            f"--temperatures: expected comma-separated numbers, got {text!r}."
        ) from None
    if not values or not all(math.isfinite(t) and t > 0 for t in values):
        raise CLIError(f"--temperatures must be numbers > 0, got {text!r}.")
    return values


def command_sweep(args):
    """Quality-diversity sweep of the sampling temperature for the run's
    checkpoint and (when saved) its MLE-pretrained generator."""
    temperatures = _parse_temperatures(args.temperatures)
    if args.samples < 2:
        raise CLIError(f"--samples must be >= 2, got {args.samples}.")
    _check_seed(args.seed)
    run = experiment.restore_run(args.checkpoint, args.step)
    output = pathlib.Path(args.output or run.run_dir / runs.SWEEP_DIR)
    text_data = None
    if run.config.is_text:
        text_data = experiment.load_text(
            run.config, run.vocabulary, args.data_dir, log=None
        )
    result = quality.sweep_run(
        run,
        temperatures,
        num_samples=args.samples,
        seed=args.seed,
        output=output,
        text_data=text_data,
    )
    print("\n".join(quality.sweep_table(result["models"])))
    print(f"Wrote {output / runs.SWEEP_FILE} and {output / runs.SWEEP_PLOT}.")
    return 0


def command_reproduce(args):
    output = pathlib.Path(args.output or f"runs/{args.table}")
    seeds = tuple(range(args.seeds))
    module = reproduce.TABLES[args.table]
    schedule = args.schedule or ("family" if args.table == "coco" else "fast")
    if schedule not in module.SCHEDULES:
        raise CLIError(
            f"--schedule {schedule} does not apply to {args.table}; choose "
            f"from {', '.join(module.SCHEDULES)}."
        )
    if args.table == "table1":
        if args.data_dir:
            raise CLIError("--data-dir applies to table2 and coco (text).")
        table = _reproduce_table1(args, schedule, seeds, output)
    else:
        if args.jobs != 1:
            raise CLIError("--jobs applies to table1.")
        if args.methods and args.table == "table2":
            raise CLIError(
                "--methods applies to table1 and coco; table2 runs mle and "
                "seqgan."
            )
        table = _reproduce_text(args, module, schedule, seeds, output)
    print((output / module.TABLE_FILES[0]).read_text(), end="")
    incomplete = [r["method"] for r in table["rows"] if not r["complete"]]
    if incomplete:
        print(f"Incomplete: {', '.join(incomplete)}.")
    print(
        f"Wrote {', '.join(str(output / f) for f in module.TABLE_FILES)} "
        f"and {output / module.PLOT_FILE}."
    )
    return 0


# Printed before a reproduction's estimate: timing one step of each kind of
# model can take a minute or more on a busy machine (COCO's vocabulary).
ESTIMATING = "Timing one step of each kind of model for the estimate..."


def _methods(args, known):
    """The methods of `--methods` (None when it is not given); one not in
    `known` is a clear error."""
    if not args.methods:
        return None
    methods = tuple(m.strip() for m in args.methods.split(",") if m)
    unknown = sorted(set(methods) - set(known))
    if unknown:
        raise CLIError(
            f"unknown methods {unknown}; choose from {', '.join(known)}."
        )
    return methods


def _reproduce_table1(args, schedule, seeds, output):
    table1 = reproduce.table1
    methods = (
        _methods(args, methods_lib.names())
        or table1.SCHEDULES[schedule].methods
    )
    if not args.table_only:
        print(ESTIMATING, flush=True)
        estimate = table1.estimate_seconds(schedule, seeds, methods)
        print(
            f"Reproducing Table 1 ({schedule} schedule, {len(methods)} "
            f"methods x {len(seeds)} seeds): about {estimate / 60:.0f} min "
            "on this machine with one job (from its measured step costs, "
            "each shared stage once per seed; finished runs are not "
            "counted out)."
        )
    table = table1.reproduce_table1(
        schedule,
        seeds,
        output,
        verbose=args.verbose,
        methods=methods,
        jobs=args.jobs,
        table_only=args.table_only,
    )
    if args.copy_results:
        copied = table1.copy_results(output, args.copy_results, methods, seeds)
        print(f"Copied {copied} result files to {args.copy_results}.")
    return table


def _reproduce_text(args, module, schedule, seeds, output):
    """table2 or coco: the text harness (`reproduce.table2`)."""
    spec = module.SCHEDULES[schedule]
    methods = _methods(args, spec.methods)
    shown = ("mle", *(m for m in methods or spec.methods if m != "mle"))
    if not args.table_only:
        print(ESTIMATING, flush=True)
        estimate = reproduce.table2.estimate_seconds(
            spec, seeds, args.data_dir, shown
        )
        print(
            f"Reproducing {module.TITLE} ({schedule} schedule, "
            f"{', '.join(shown)} x {len(seeds)} seeds): about "
            f"{estimate / 60:.0f} min on this machine (from its measured "
            "step costs; finished runs are skipped but not counted out)."
        )
    table = reproduce.table2.reproduce_text(
        spec,
        seeds,
        output,
        module.TABLE_FILES,
        module.PLOT_FILE,
        methods=methods,
        data_dir=args.data_dir,
        verbose=args.verbose,
        table_only=args.table_only,
    )
    if args.copy_results:
        copied = reproduce.table2.copy_results(
            output,
            args.copy_results,
            spec,
            seeds,
            (*module.TABLE_FILES, module.PLOT_FILE),
        )
        print(f"Copied {copied} result files to {args.copy_results}.")
    return table


COMMANDS = {
    "train": command_train,
    "evaluate": command_evaluate,
    "generate": command_generate,
    "export": command_export,
    "report": command_report,
    "sweep": command_sweep,
    "reproduce": command_reproduce,
}
# Library errors that are the user's input, shown as one line.
USER_ERRORS = (
    CLIError,
    NonFiniteLossError,
    config_lib.ConfigError,
    runs.RunError,
    export_lib.ExportError,
)
# What a full disk or a file-size limit looks like, in OS and TF errors.
_NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_NO_SPACE_TEXT = ("No space left", "File too large", "Disk quota")
_FILE_TEXT = ("Permission denied", "Read-only file system", "Not a directory")
_RESUME_HINT = (
    " (free space, then run the same command again: a training run resumes "
    "from its last checkpoint)"
)


def one_line_error(error):
    """The one-line message of an error that is the user's input or the
    machine's state (a file, a full disk, memory), or None for a bug.

    Every OS error on a path the CLI reads or writes (a read-only folder,
    a path under a regular file, a full disk) names the path and the
    reason; TensorFlow's own file and memory errors keep their first line.
    """
    if isinstance(error, USER_ERRORS):
        return str(error)
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        text = f"{error.filename}: {reason}" if error.filename else reason
        return text + (_RESUME_HINT if error.errno in _NO_SPACE else "")
    if isinstance(error, tf.errors.ResourceExhaustedError):
        return (
            "out of memory: "
            + _first_line(error.message)
            + " (ask for fewer samples or a smaller batch)"
        )
    if isinstance(error, tf.errors.OpError):
        message = _first_line(error.message)
        if any(text in message for text in _NO_SPACE_TEXT):
            return message + _RESUME_HINT
        if isinstance(
            error, (tf.errors.PermissionDeniedError, tf.errors.NotFoundError)
        ) or any(text in message for text in _FILE_TEXT):
            return message
    return None


def _first_line(text):
    """The first line of a TF error message without its op decorations
    (`{{function_node ...}}`, `[Op:SaveV2]`)."""
    line = (str(text).strip().splitlines() or [""])[0]
    line = re.sub(r"\{\{[^}]*\}\}\s*", "", line)
    line = re.sub(r"\s*\[Op:\w+\]", "", line)
    return line.strip()[:300]
