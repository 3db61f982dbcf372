"""Does a bfloat16 discriminator learn as well as a float32 one?

The paper's discriminator, built and initialised identically under both
precisions, is trained by the trainer's `discriminator_step` on the same
batches of a fixed task: oracle samples (real, label 1) against samples
of the same oracle at temperature 1.5 (generated, label 0). Printed:
held-out accuracy and loss per epoch and the wall time of each
precision's steps.

    python benchmarks/bf16_accuracy.py [--epochs 3] [--json out.json]
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqgan_tf import config as config_lib  # noqa: E402
from seqgan_tf import experiment  # noqa: E402
from seqgan_tf import sampler  # noqa: E402

TRAIN, TEST = 4992, 2000
# Generated = the oracle sampled hotter: far enough for a few epochs to
# learn, near enough to stay below 100%.
FAKE_TEMPERATURE = 1.5


def task(oracle):
    """(train ids, train labels, test ids, test labels): half real, half
    tempered, shuffled with a fixed seed."""
    real = sampler.sample_many(oracle, TRAIN + TEST, seed=(11, 1))
    fake = sampler.sample_many(
        oracle, TRAIN + TEST, seed=(11, 2), temperature=FAKE_TEMPERATURE
    )
    ids = np.concatenate([real, fake])
    labels = np.repeat([1, 0], TRAIN + TEST).astype(np.int32)
    is_test = np.zeros(len(ids), bool)
    is_test[TRAIN : TRAIN + TEST] = is_test[-TEST:] = True
    order = np.random.default_rng(0).permutation(int((~is_test).sum()))
    train_ids, train_labels = ids[~is_test][order], labels[~is_test][order]
    return train_ids, train_labels, ids[is_test], labels[is_test]


def run(precision, data, epochs):
    config = config_lib.with_overrides(
        config_lib.get_preset("paper"),
        [f"training.mixed_precision={precision}"],
    ).validate()
    gan = experiment.build_gan(config, experiment.build_oracle(config))
    train_ids, train_labels, test_ids, test_labels = data
    batch = config.training.batch_size
    history, seconds = [], 0.0
    predict = tf.function(gan.discriminator.predict_real)
    for epoch in range(epochs):
        started = time.perf_counter()
        for start in range(0, len(train_ids) - batch + 1, batch):
            gan.discriminator_step(
                train_ids[start : start + batch],
                train_labels[start : start + batch],
            )
        seconds += time.perf_counter() - started
        p_real = np.concatenate(
            [
                predict(tf.constant(test_ids[i : i + 1000])).numpy()
                for i in range(0, len(test_ids), 1000)
            ]
        )
        accuracy = float(((p_real > 0.5) == (test_labels == 1)).mean())
        loss = float(
            -np.mean(
                np.log(np.where(test_labels == 1, p_real, 1 - p_real) + 1e-7)
            )
        )
        history.append({"epoch": epoch + 1, "accuracy": accuracy, "loss": loss})
        print(
            f"{precision:>15} epoch {epoch + 1}: held-out accuracy "
            f"{accuracy:.4f}, loss {loss:.4f}",
            flush=True,
        )
    policy = gan.discriminator.dtype_policy.name
    return {"policy": policy, "history": history, "train_seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    config = config_lib.get_preset("paper")
    data = task(experiment.build_oracle(config))
    results = {
        precision: run(precision, data, args.epochs)
        for precision in ("float32", "mixed_bfloat16")
    }
    fp32, bf16 = (results[p]["history"][-1] for p in results)
    gap = (bf16["accuracy"] - fp32["accuracy"]) * 100
    print(
        f"final held-out accuracy: float32 {fp32['accuracy']:.4f}, bfloat16 "
        f"{bf16['accuracy']:.4f} ({gap:+.2f} points); training time "
        f"{results['float32']['train_seconds']:.1f} s vs "
        f"{results['mixed_bfloat16']['train_seconds']:.1f} s"
    )
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
