"""Shared training stages: each seed's MLE pretraining and discriminator
pretraining run once, and every method that starts from them starts from
a copy of the stage's checkpoint.

A method's run directory is seeded from a stage by copying what the stage
wrote (its newest checkpoint, which holds both models, the three
optimizers with their slots, the dropout RNG states and the next epoch;
the real data or vocabulary; metrics rows; the MLE generator's weights;
sample files) and writing the method's own config.json. `experiment.train`
then resumes it. Because every random draw of a run is derived from the
seed and the epoch (`seqgan_tf.seeds`), the method continues exactly as it
would have after training those epochs itself.

A stage is used only where it is a prefix of the method: the method's
config equals the stage's in every field that the stage's phases read
(`IGNORED` lists those they do not), and the stage's epochs are the
method's first epochs. Otherwise the method trains from scratch.

Stages live in `OUTPUT/stages/seed_S/{mle,discriminator}`; each is an
ordinary resumable run directory, guarded by a lock file so that parallel
jobs (`reproduce --jobs N`) train it once.
"""

import dataclasses
import os
import pathlib
import shutil

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import methods
from seqgan_tf import runs
from seqgan_tf import schedule as schedule_lib

MLE = "mle"
DISCRIMINATOR = "discriminator"
STAGES = (MLE, DISCRIMINATOR)
STAGES_DIR = "stages"
DONE_FILE = "stage_done.json"

# Settings that change what is measured, not what is trained.
_EVALUATION = (
    "training.method",
    "training.eval_every",
    "training.eval_samples",
    "training.checkpoint_every",
)
# Settings of the adversarial phase only.
_ADVERSARIAL = (
    "training.adversarial_rounds",
    "training.generator_steps",
    "training.discriminator_steps",
    "training.num_rollouts",
    "training.rollout_update_rate",
    "training.rollout_chunk_size",
    "training.reward",
    "training.objective",
    "training.constant_reward",
    "training.reward_baseline",
    "training.adversarial_real",
    "training.pg_reduction",
    "training.bleu_reference_fraction",
    "training.leakgan_rescale",
    "training.interleaved_mle_steps",
    "training.mali_continuations",
    "training.mali_prefix_decrement",
)
# Settings of the discriminator's rounds.
_DISCRIMINATOR_ROUNDS = (
    "training.discriminator_rounds",
    "training.discriminator_epochs",
    "training.num_negatives",
    "training.probe_samples",
)
# The fields a stage's phases never read: a method may differ from the
# stage in these (and only these) and still start from it. The phase
# lengths are checked apart (the stage must be a prefix).
IGNORED = {
    MLE: _EVALUATION + _ADVERSARIAL + _DISCRIMINATOR_ROUNDS,
    DISCRIMINATOR: _EVALUATION + _ADVERSARIAL,
}
_LENGTHS = ("training.generator_epochs", "training.discriminator_rounds")


def stage_config(config, stage):
    """The config of the stage `stage` of a method's `config`: its phases
    up to the end of MLE pretraining (`MLE`) or of D pretraining
    (`DISCRIMINATOR`), with every field the stage does not read set to its
    preset's value, so that all methods of a seed share one stage."""
    preset = config_lib.get_preset(config.preset).training
    flat_ignored = {
        name.split(".", 1)[1] for name in IGNORED[stage] if name not in _LENGTHS
    }
    changes = {name: getattr(preset, name) for name in flat_ignored}
    changes["adversarial_rounds"] = 0
    if stage == MLE:
        changes["discriminator_rounds"] = 0
    training = dataclasses.replace(config.training, **changes)
    return dataclasses.replace(config, training=training).validate()


def usable_stage(config, stage_configs):
    """The last stage of `stage_configs` ({stage: config}) that `config`
    can start from (None: it trains from scratch). A stage is usable when
    `config` agrees with it on every field it reads and its epochs are the
    first epochs of `config`'s schedule, which must go on past them."""
    t = config.training
    found = None
    flat = config_lib.flatten(config.to_dict())
    for stage in STAGES:
        staged = stage_configs.get(stage)
        if staged is None:
            continue
        s = staged.training
        other = config_lib.flatten(staged.to_dict())
        ignored = set(IGNORED[stage]) | set(_LENGTHS)
        if any(
            flat.get(key) != other.get(key)
            for key in set(flat) | set(other)
            if key not in ignored
        ):
            continue
        if stage == MLE:
            prefix = t.generator_epochs >= s.generator_epochs > 0
        else:
            prefix = (
                t.generator_epochs == s.generator_epochs
                and t.discriminator_rounds >= s.discriminator_rounds > 0
            )
        if prefix:
            found = stage
    return found


def epochs(config):
    """The number of epochs of a config's schedule."""
    t = config.training
    return len(
        schedule_lib.plan(
            t.generator_epochs, t.discriminator_rounds, t.adversarial_rounds
        )
    )


def stage_family(method):
    """The family of shared stages a method starts from (its registered
    `Method.stage_family`, or its nearest ancestor's): None (SeqGAN's), or
    "leakgan" for LeakGAN's variants (its own generator: they share its
    MLE and D pretraining). RankGAN's ranker trains from scratch."""
    families = [m.stage_family for m in methods.lineage(method)]
    return next((f for f in reversed(families) if f is not None), None)


def after(config, staged):
    """`config` without the epochs of the stage `staged` it starts from."""
    t, s = config.training, staged.training
    return dataclasses.replace(
        config,
        training=dataclasses.replace(
            t,
            generator_epochs=t.generator_epochs - s.generator_epochs,
            discriminator_rounds=t.discriminator_rounds
            - s.discriminator_rounds,
        ),
    )


def stage_dir(output, seed, stage, family=None):
    """Where the stage `stage` of seed `seed` is trained: SeqGAN's stages
    (shared by the methods that pretrain as it does), or those of another
    `family` of methods with their own models (e.g. "leakgan")."""
    seed_dir = pathlib.Path(output) / STAGES_DIR / f"seed_{seed}"
    return (seed_dir / family if family else seed_dir) / stage


def is_done(directory):
    """True once a stage directory finished training."""
    return (pathlib.Path(directory) / DONE_FILE).exists()


def ensure_stage(
    stage_configs,
    stage,
    output,
    log=print,
    verbose=0,
    data_dir=None,
    family=None,
):
    """Trains (or resumes, or finds finished) the stage `stage` with its
    config from `stage_configs` ({stage: config}, see `stage_config`) in
    `OUTPUT/stages/seed_S/STAGE`; the discriminator stage starts from a
    copy of the MLE stage. Returns the stage directory. `log` receives a
    line when a stage trains (None: silent); `data_dir` is the TFDS data
    directory of a text task's `tfds:` dataset; `family` names the stages
    of methods with their own models (`stage_dir`)."""
    staged = stage_configs[stage]
    directory = stage_dir(output, staged.seed, stage, family)
    if is_done(directory):
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with runs.locked(directory.parent / f".{stage}.lock"):
        if is_done(directory):  # another job finished it meanwhile
            return directory
        if (
            stage == DISCRIMINATOR
            and not (directory / runs.CONFIG_FILE).exists()
        ):
            previous = ensure_stage(
                stage_configs, MLE, output, log, verbose, data_dir, family
            )
            seed_from(previous, directory, staged)
        if log:
            log(f"  shared stage {stage}, seed {staged.seed}: {directory}")
        summary = experiment.train(
            staged, directory, data_dir=data_dir, verbose=verbose, log=None
        )
        runs.write_json(
            directory / DONE_FILE,
            {"stage": stage, "wall_seconds": summary["wall_seconds"]},
        )
    return directory


def seed_from(source, run_dir, config):
    """Makes `run_dir` (which must not hold a run) a copy of the finished
    run `source` with `config` as its config: the newest checkpoint, real
    data or vocabulary, metrics, the MLE generator, samples. Built in a
    temporary folder and renamed into place, so an interruption leaves
    either no run or the whole copy."""
    source, run_dir = pathlib.Path(source), pathlib.Path(run_dir)
    if (run_dir / runs.CONFIG_FILE).exists():
        raise runs.RunError(f"{run_dir} already holds a run.")
    checkpoints = runs.checkpoint_candidates(source)
    if not checkpoints:
        raise runs.RunError(f"{source} has no checkpoint to start from.")
    newest = pathlib.Path(checkpoints[0])
    temporary = run_dir.with_name(f".{run_dir.name}.seeding")
    shutil.rmtree(temporary, ignore_errors=True)
    (temporary / runs.CHECKPOINT_DIR).mkdir(parents=True)
    for path in newest.parent.glob(newest.name + ".*"):
        shutil.copy2(path, temporary / runs.CHECKPOINT_DIR / path.name)
    for name in (
        runs.REAL_DATA_FILE,
        runs.VOCABULARY_FILE,
        runs.METRICS_CSV,
        runs.METRICS_JSON,
        runs.PRETRAINED_WEIGHTS,
        runs.EVALUATION_FILE,
    ):
        if (source / name).exists():
            shutil.copy2(source / name, temporary / name)
    if (source / runs.SAMPLES_DIR).is_dir():
        shutil.copytree(source / runs.SAMPLES_DIR, temporary / runs.SAMPLES_DIR)
    runs.write_json(temporary / runs.CONFIG_FILE, config.to_dict())
    if run_dir.exists():
        if any(run_dir.iterdir()):
            shutil.rmtree(temporary, ignore_errors=True)
            raise runs.RunError(
                f"{run_dir} is not empty and holds no {runs.CONFIG_FILE}; "
                "refusing to start a run from a shared stage in it."
            )
        run_dir.rmdir()
    os.replace(temporary, run_dir)


def start(
    config,
    run_dir,
    stage_configs,
    output,
    log=print,
    verbose=0,
    data_dir=None,
    family=None,
):
    """Prepares a method's run directory: seeds it from the last usable
    stage of `stage_configs` (training that stage first) unless it already
    holds a run. Returns the stage used (None: from scratch). `family`:
    see `stage_dir`."""
    run_dir = pathlib.Path(run_dir)
    stage = usable_stage(config, stage_configs)
    if stage is None or (run_dir / runs.CONFIG_FILE).exists():
        return stage
    directory = ensure_stage(
        stage_configs, stage, output, log, verbose, data_dir, family
    )
    seed_from(directory, run_dir, config)
    return stage
