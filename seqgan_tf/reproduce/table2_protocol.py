"""The text reproductions' evaluation protocol, and where its results are
kept. A generator is measured by the BLEU of its samples against the
held-out set (per sequence) and their Self-BLEU, at the schedule's
orders (`score`, `bleu_point`), with NLL-test, at temperature 1 and along
the temperature curve (`evaluate_generator`) or at one temperature
(`point`); `matched_temperature` finds where the MLE generator's
Self-BLEU equals another method's. A run directory keeps the result in
`PROTOCOL_FILE` (`PUBLISHED_FILE` at the published protocol) and the
per-sequence BLEU of each order in `bleu_N.npy` (`save_per_sequence`);
`load_result` reads a result back.
"""

import json
import pathlib

import numpy as np

from seqgan_tf import bleu
from seqgan_tf import metrics
from seqgan_tf import sampler
from seqgan_tf.reproduce import common

PROTOCOL_FILE = "protocol.json"
PUBLISHED_FILE = "as_published.json"
SEQUENCE_BLEU_FILE = "bleu_2.npy"


def score(hypotheses, data, schedule):
    """({order: per-sequence BLEU-order against the held-out set}, {order:
    Self-BLEU-order}) of token lists, at the schedule's orders."""
    per_sequence = {
        n: np.asarray(data.bleu_scorer.scores(hypotheses, max_order=n))
        for n in schedule.bleu_orders
    }
    self_scores = {
        n: bleu.self_bleu(hypotheses, max_order=n)
        for n in schedule.self_bleu_orders
    }
    return per_sequence, self_scores


def bleu_point(per_sequence, self_scores):
    """{"bleu_N": the mean of the per-sequence BLEU-N, "self_bleu_N":
    Self-BLEU-N} of each order."""
    point = {f"bleu_{n}": float(v.mean()) for n, v in per_sequence.items()}
    point.update({f"self_bleu_{n}": v for n, v in self_scores.items()})
    return point


def evaluate_generator(generator, data, schedule, seed):
    """The protocol of one generator: BLEU (per sequence) and Self-BLEU of
    `eval_samples` samples, NLL-test of the held-out set, and all of them
    at each temperature of the curve (NLL-test at every temperature from
    one teacher-forced pass). Returns (result, {order: per-sequence
    BLEU})."""
    seed = (seed, common.EVAL_STREAM)
    temperatures = [1.0, *schedule.temperatures]
    nll = metrics.nll_at_temperatures(generator, data.test_ids, temperatures)
    per_sequence, result = _scored(generator, data, schedule, seed, 1.0)
    result["nll_test"] = nll[0]
    curve = []
    for temperature, nll_test in zip(schedule.temperatures, nll[1:]):
        point = _scored(generator, data, schedule, seed, temperature)[1]
        point.update(temperature=float(temperature), nll_test=nll_test)
        curve.append(point)
    result.update(samples=int(schedule.eval_samples), curve=curve)
    return result, per_sequence


def _scored(generator, data, schedule, seed, temperature):
    samples = sampler.sample_many(
        generator, schedule.eval_samples, seed=seed, temperature=temperature
    )
    per_sequence, self_scores = score(data.tokens(samples), data, schedule)
    return per_sequence, bleu_point(per_sequence, self_scores)


def point(generator, data, schedule, seed, temperature):
    """BLEU, Self-BLEU and NLL-test of `generator` at `temperature`;
    returns (point, {order: per-sequence BLEU})."""
    per_sequence, result = _scored(generator, data, schedule, seed, temperature)
    result = {"temperature": float(temperature), **result}
    result["nll_test"] = metrics.nll(
        generator, data.test_ids, temperature=temperature
    )
    return result, per_sequence


def matched_temperature(curve, target, key="self_bleu_2"):
    """The temperature at which a generator's Self-BLEU (`key`) equals
    `target`, linearly interpolated between the curve's neighbouring
    temperatures (Self-BLEU falls as the temperature rises). Returns
    (temperature, inside): outside the curve's range the nearest end is
    returned and `inside` is False."""
    points = sorted((p["temperature"], p[key]) for p in curve)
    for (t0, s0), (t1, s1) in zip(points, points[1:]):
        if min(s0, s1) <= target <= max(s0, s1):
            if s0 == s1:
                return t0, True
            return t0 + (target - s0) * (t1 - t0) / (s1 - s0), True
    # Outside: the end whose Self-BLEU is nearest the target.
    nearest = min(points, key=lambda p: abs(p[1] - target))
    return nearest[0], False


def load_result(path):
    """A result (protocol, published or real) read back from its JSON
    file."""
    return json.loads(pathlib.Path(path).read_text())


def save_per_sequence(directory, per_sequence):
    """Writes each order's per-sequence BLEU to `bleu_N.npy` in
    `directory`."""
    for n, values in per_sequence.items():
        np.save(directory / f"bleu_{n}.npy", values.astype(np.float32))
