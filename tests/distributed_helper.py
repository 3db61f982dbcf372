"""Runs in a subprocess of tests/test_distribute.py; prints one JSON line.

Splitting the CPU into logical devices, and the thread pools' sizes, must be
set before TensorFlow initialises, so each check runs in a fresh process:

    python tests/distributed_helper.py train (basic|delayed_eos) [dropout]
    python tests/distributed_helper.py sampler
    python tests/distributed_helper.py threads (one|default)
    python tests/distributed_helper.py mixed
    python tests/distributed_helper.py multiworker TIMEOUT CHECKPOINT_DIR
    python tests/distributed_helper.py single
    python tests/distributed_helper.py lone TIMEOUT
    python tests/distributed_helper.py save DIRECTORY
    python tests/distributed_helper.py restore DIRECTORY

`multiworker` and `lone` read the cluster from TF_CONFIG.

keras and seqgan_tf are imported inside each check, after it has set up
TensorFlow's devices, threads or cluster, so that nothing they do on import
can initialise TensorFlow first.
"""

import json
import os
import sys
import time

import numpy as np
import tensorflow as tf

VOCABULARY, LENGTH = 26, 12


def split_cpu(count=2):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * count
    )


def build(strategy, initial=None, dropout=0.0, variant="basic"):
    import keras

    import seqgan_tf

    keras.utils.set_random_seed(3)
    with strategy.scope():
        # "delayed_eos": variable-length sequences (masked MLE and PG, the
        # global token count), the delayed rollout copy, the "sum" loss.
        eos = variant == "delayed_eos"
        generator = seqgan_tf.Generator(
            VOCABULARY,
            LENGTH,
            embedding_dim=8,
            hidden_dim=8,
            eos_id=1 if eos else None,
        )
        discriminator = seqgan_tf.Discriminator(
            VOCABULARY,
            LENGTH,
            embedding_dim=8,
            filter_sizes=(2, 3),
            num_filters=(4, 4),
            dropout=dropout,
            pad_id=0 if eos else None,
        )
        if initial is not None:
            generator.set_weights(initial[0])
            discriminator.set_weights(initial[1])
        gan = seqgan_tf.SeqGAN(
            generator,
            discriminator,
            batch_size=8,
            num_negatives=16,
            discriminator_epochs=1,
            discriminator_steps=1,
            num_rollouts=2,
            rollout_chunk_size=64,
            pg_reduction="sum" if eos else "mean",
            rollout_policy="delayed" if eos else "current",
            seed=5,
        )
        gan.compile()
    return gan


def train(variant="basic", dropout=0.0):
    split_cpu(2)
    import seqgan_tf

    oracle = seqgan_tf.OracleLSTM.random(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8, seed=0
    )
    real = oracle.generate(32, seed=(0, 1)).numpy()
    results = {}
    initial = None
    strategies = {
        "one": tf.distribute.get_strategy(),
        "two": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    }
    for name, strategy in strategies.items():
        gan = build(strategy, initial, dropout, variant)
        if initial is None:
            initial = (
                gan.generator.get_weights(),
                gan.discriminator.get_weights(),
            )
        history = gan.train(
            real,
            generator_epochs=2,
            discriminator_rounds=1,
            adversarial_rounds=2,
            verbose=0,
        )
        results[name] = {
            "replicas": gan.num_replicas,
            "weights": [w for w in gan.generator.get_weights()]
            + [w for w in gan.discriminator.get_weights()],
            "logs": {
                key: [float(v) for v in values]
                for key, values in history.history.items()
                if key != "seconds"
            },
        }
    one, two = results["one"], results["two"]
    weight_diff = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(one["weights"], two["weights"])
    )
    moved = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(one["weights"], initial[0] + initial[1])
    )
    log_diff = {}
    for key, values in one["logs"].items():
        a = np.asarray(values)
        b = np.asarray(two["logs"][key])
        both = ~np.isnan(a)
        # Relative to the logged value (PG "sum" losses are large).
        log_diff[key] = (
            float(
                np.max(
                    np.abs(a[both] - b[both]) / np.maximum(1.0, np.abs(a[both]))
                )
            )
            if both.any()
            else 0.0
        )
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            log_diff[key] = float("inf")
    return {
        "replicas": [one["replicas"], two["replicas"]],
        "max_weight_diff": weight_diff,
        "max_weight_change": moved,
        "log_diff": log_diff,
        "logs_one": one["logs"],
    }


def sampler_split():
    split_cpu(2)
    import keras

    import seqgan_tf
    from seqgan_tf import sampler

    keras.utils.set_random_seed(1)
    generator = seqgan_tf.Generator(300, LENGTH, embedding_dim=8, hidden_dim=8)
    rows = 24
    prefix = np.random.default_rng(0).integers(0, 300, (rows, LENGTH))
    prefix = tf.constant(prefix, tf.int32)
    prefix_length = tf.constant(np.arange(rows) % 5, tf.int32)
    seed = tf.constant([4, 2], tf.int32)
    whole = sampler.sample(generator, prefix, prefix_length, seed).numpy()
    halves = []
    for part, device in enumerate(["/cpu:0", "/cpu:1"]):
        rows_of_part = slice(part * rows // 2, (part + 1) * rows // 2)
        with tf.device(device):
            halves.append(
                sampler.sample(
                    generator,
                    prefix[rows_of_part],
                    prefix_length[rows_of_part],
                    seed,
                    row_ids=tf.range(rows)[rows_of_part],
                    num_global_rows=rows,
                ).numpy()
            )
    split = np.concatenate(halves)
    return {
        "equal": bool(np.array_equal(whole, split)),
        "sampled_fraction": float(np.mean(whole != prefix.numpy())),
    }


def threads(mode):
    if mode == "one":
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    import keras

    import seqgan_tf

    keras.utils.set_random_seed(2)
    generator = seqgan_tf.Generator(2000, LENGTH, embedding_dim=8, hidden_dim=8)
    tokens = generator.generate(512, seed=(7, 9)).numpy()
    return {"tokens": tokens.tolist()}


def mixed():
    """A tiny fit under each mixed-precision policy (a process-wide
    setting, hence the subprocess)."""
    import keras

    import seqgan_tf

    real = np.random.default_rng(0).integers(0, VOCABULARY, (32, LENGTH))
    results = {}
    for policy in ("mixed_bfloat16", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        keras.utils.set_random_seed(0)
        generator = seqgan_tf.Generator(
            VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8
        )
        discriminator = seqgan_tf.Discriminator(
            VOCABULARY,
            LENGTH,
            embedding_dim=8,
            filter_sizes=(2, 3),
            num_filters=(4, 4),
        )
        gan = seqgan_tf.SeqGAN(
            generator,
            discriminator,
            batch_size=8,
            num_negatives=16,
            discriminator_epochs=1,
            discriminator_steps=1,
            num_rollouts=2,
        )
        gan.compile()
        history = gan.train(
            real,
            generator_epochs=2,
            discriminator_rounds=1,
            adversarial_rounds=1,
            verbose=0,
        ).history
        rewards = seqgan_tf.rollout.rollout_rewards(
            generator, discriminator.predict_real, real[:4], (1, 2), 2
        )
        results[policy] = {
            "compute": generator.lstm.compute_dtype,
            "d_compute": discriminator.convolutions[0].compute_dtype,
            "variables": generator.lstm.cell.kernel.dtype,
            "logits": generator(real[:2]).dtype.name,
            "d_logits": discriminator(real[:2]).dtype.name,
            "rewards": rewards.dtype.name,
            "optimizers": [
                type(o).__name__
                for o in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer)
            ],
            "losses": [
                v
                for key in ("g_loss", "d_loss", "mean_reward")
                for v in history[key]
                if not np.isnan(v)
            ],
        }
    keras.mixed_precision.set_global_policy("float32")
    return results


def _weights(gan):
    return [
        np.asarray(w).tolist()
        for w in gan.generator.get_weights() + gan.discriminator.get_weights()
    ]


def _optimizer_weights(gan):
    return [
        np.asarray(variable).tolist()
        for optimizer in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer)
        for variable in optimizer.variables
    ]


def _fit_small(strategy, checkpoint_dir=None):
    """The run that multi-worker training must reproduce on one device."""
    import seqgan_tf
    from seqgan_tf import distribute
    from seqgan_tf.callbacks import CheckpointCallback

    class RecordingCheckpoints(CheckpointCallback):
        """Records, per save, whether the model's strategy made it the
        chief's."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.saves = []

        def _save(self):
            self.saves.append(distribute.is_chief(self._strategy()))
            super()._save()

    oracle = seqgan_tf.OracleLSTM.random(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8, seed=0
    )
    real = oracle.generate(32, seed=(0, 1)).numpy()
    reference = build(tf.distribute.get_strategy())
    initial = (
        reference.generator.get_weights(),
        reference.discriminator.get_weights(),
    )
    gan = build(strategy, initial)
    callbacks = []
    if checkpoint_dir:
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        manager = tf.train.CheckpointManager(
            gan.make_checkpoint(epoch), checkpoint_dir, max_to_keep=2
        )
        callbacks.append(RecordingCheckpoints(manager, epoch, every=2))
    history = gan.train(
        real,
        generator_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        callbacks=callbacks,
        verbose=0,
    )
    return {
        "replicas": gan.num_replicas,
        "saves_as_chief": [c.saves for c in callbacks],
        "weights": _weights(gan),
        "initial": [np.asarray(w).tolist() for w in initial[0] + initial[1]],
        "logs": {
            key: [float(v) for v in values]
            for key, values in history.history.items()
            if key != "seconds"
        },
    }


def multiworker(timeout, checkpoint_dir):
    from seqgan_tf import distribute

    start = time.perf_counter()
    strategy = distribute.make_strategy(
        "multiworker", timeout_seconds=float(timeout)
    )
    ready = time.perf_counter() - start
    result = _fit_small(strategy, checkpoint_dir)
    result["chief"] = distribute.is_chief(strategy)
    result["write_dir"] = distribute.write_dir(checkpoint_dir, strategy)
    result["ready_seconds"] = ready
    return result


def lone(timeout):
    from seqgan_tf import distribute

    distribute.make_strategy("multiworker", timeout_seconds=float(timeout))
    return {"started": True}


def save(directory):
    """Trains briefly and saves with one and with two replicas."""
    split_cpu(2)
    results = {}
    for name, strategy in _strategies().items():
        gan = build(strategy)
        gan.train(
            np.random.default_rng(0).integers(0, VOCABULARY, (32, LENGTH)),
            generator_epochs=1,
            discriminator_rounds=1,
            adversarial_rounds=1,
            verbose=0,
        )
        epoch = tf.Variable(3, dtype=tf.int64, trainable=False)
        manager = tf.train.CheckpointManager(
            gan.make_checkpoint(epoch), os.path.join(directory, name), 1
        )
        manager.save()
        results[name] = {
            "replicas": gan.num_replicas,
            "weights": _weights(gan),
            "optimizers": _optimizer_weights(gan),
        }
    return results


def restore(directory):
    """Restores each checkpoint of `save` under the other replica count."""
    split_cpu(2)
    results = {}
    strategies = _strategies()
    for saved, restored in (("one", "two"), ("two", "one")):
        strategy = strategies[restored]
        gan = build(strategy)
        with strategy.scope():
            epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        checkpoint = gan.make_checkpoint(epoch)
        path = tf.train.latest_checkpoint(os.path.join(directory, saved))
        checkpoint.read(path).assert_existing_objects_matched().expect_partial()
        results[f"{saved}_to_{restored}"] = {
            "replicas": gan.num_replicas,
            "epoch": int(epoch.numpy()),
            "weights": _weights(gan),
            "optimizers": _optimizer_weights(gan),
            "replicas_agree": _replicas_agree(gan),
        }
    return results


def _replicas_agree(gan):
    """[variables with several replica copies, whether the copies agree]."""
    variables = gan.generator.weights + gan.discriminator.weights
    for optimizer in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer):
        variables = variables + list(optimizer.variables)
    mirrored, agree = 0, True
    for variable in variables:
        variable = getattr(variable, "_value", variable)
        copies = [np.asarray(v) for v in getattr(variable, "values", ())]
        mirrored += len(copies) > 1
        agree &= all(np.array_equal(c, copies[0]) for c in copies[1:])
    return [mirrored, bool(agree)]


def _strategies():
    return {
        "one": tf.distribute.get_strategy(),
        "two": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
    }


def main(argv):
    mode = argv[1]
    if mode == "multiworker":
        result = multiworker(argv[2], argv[3] if len(argv) > 3 else None)
    elif mode == "single":
        result = _fit_small(tf.distribute.get_strategy())
    elif mode == "lone":
        result = lone(argv[2])
    elif mode == "save":
        result = save(argv[2])
    elif mode == "restore":
        result = restore(argv[2])
    elif mode == "train":
        result = train(argv[2], float(argv[3]) if len(argv) > 3 else 0.0)
    elif mode == "sampler":
        result = sampler_split()
    elif mode == "mixed":
        result = mixed()
    elif mode == "threads":
        result = threads(argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
