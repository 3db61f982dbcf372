"""Times `seqgan_tf.bleu.bleu` / `self_bleu` against NLTK in a loop.

References are the COCO training captions, hypotheses the test captions
(whitespace-tokenised lines). For each order, NLTK's
`sentence_bleu(references, hyp, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1)` is timed on the first
`--num-hypotheses` hypotheses and compared score by score with ours (which
must agree to 1e-9); ours is also timed on every hypothesis. Self-BLEU uses
the first `--self-hypotheses` test lines, with NLTK scoring an evenly spaced
subsample of them against all the other lines.

    python benchmarks/benchmark_bleu.py                     # ~2 minutes
    python benchmarks/benchmark_bleu.py --num-hypotheses 5  # quicker
    python benchmarks/benchmark_bleu.py --json out.json
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nltk.translate.bleu_score import SmoothingFunction
from nltk.translate.bleu_score import sentence_bleu

from seqgan_tf import bleu

DATA = str(pathlib.Path(bleu.__file__).parent / "resources" / "coco")
TOLERANCE = 1e-9


def read_sentences(path):
    with open(path, encoding="utf-8") as handle:
        return [line.split() for line in handle if line.strip()]


def nltk_scores(hypotheses, references_for, order):
    """NLTK scores; `references_for(i)` gives hypothesis i's references."""
    weights = (1 / order,) * order
    smoothing = SmoothingFunction().method1
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, hypothesis in enumerate(hypotheses):
            scores.append(
                float(
                    sentence_bleu(
                        references_for(i),
                        hypothesis,
                        weights=weights,
                        smoothing_function=smoothing,
                    )
                )
            )
    return scores


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def max_difference(ours, theirs):
    return max(abs(a - b) for a, b in zip(ours, theirs))


def bench_bleu(references, hypotheses, order, num_nltk):
    sample = hypotheses[:num_nltk]
    theirs, nltk_seconds = timed(
        nltk_scores, sample, lambda i: references, order
    )
    ours_sample, ours_sample_seconds = timed(
        bleu.bleu_scores, sample, references, order
    )
    ours_all, ours_all_seconds = timed(
        bleu.bleu_scores, hypotheses, references, order
    )
    # A scorer indexes the references once and then scores small batches
    # (e.g. the samples of each evaluation epoch) at the per-hypothesis cost.
    scorer, build_seconds = timed(bleu.BleuScorer, references, order)
    ours_scorer, scorer_seconds = timed(scorer.scores, sample, order)
    # The public API (mean) on the NLTK sample, to check it too.
    mean_ours = bleu.bleu(sample, references, max_order=order)
    nltk_per = nltk_seconds / len(sample)
    ours_per = ours_all_seconds / len(hypotheses)
    return {
        "metric": f"BLEU-{order}",
        "references": len(references),
        "nltk_hypotheses": len(sample),
        "nltk_seconds_per_hypothesis": nltk_per,
        "ours_seconds_same_hypotheses": ours_sample_seconds,
        "ours_hypotheses": len(hypotheses),
        "ours_seconds_all": ours_all_seconds,
        "ours_seconds_per_hypothesis": ours_per,
        "speedup": nltk_per / ours_per,
        "speedup_same_hypotheses": nltk_seconds / ours_sample_seconds,
        "scorer_build_seconds": build_seconds,
        "scorer_seconds_same_hypotheses": scorer_seconds,
        "speedup_same_hypotheses_prebuilt_scorer": (
            nltk_seconds / scorer_seconds
        ),
        "max_abs_difference": max(
            max_difference(ours_sample, theirs),
            max_difference(ours_scorer, theirs),
            max_difference(ours_all[: len(sample)], theirs),
            abs(mean_ours - sum(theirs) / len(theirs)),
        ),
        "mean_nltk_sample": sum(theirs) / len(theirs),
        "mean_ours_all": sum(ours_all) / len(ours_all),
    }


def bench_self_bleu(corpus, everything, order, num_nltk):
    step = max(1, len(corpus) // num_nltk)
    indices = list(range(0, len(corpus), step))[:num_nltk]
    theirs, nltk_seconds = timed(
        nltk_scores,
        [corpus[i] for i in indices],
        lambda k: corpus[: indices[k]] + corpus[indices[k] + 1 :],
        order,
    )
    ours, ours_seconds = timed(bleu.self_bleu_scores, corpus, order)
    _, ours_all_seconds = timed(bleu.self_bleu_scores, everything, order)
    nltk_per = nltk_seconds / len(indices)
    ours_per = ours_seconds / len(corpus)
    return {
        "metric": f"Self-BLEU-{order}",
        "references": len(corpus) - 1,
        "nltk_hypotheses": len(indices),
        "nltk_seconds_per_hypothesis": nltk_per,
        "ours_hypotheses": len(corpus),
        "ours_seconds_all": ours_seconds,
        "ours_seconds_per_hypothesis": ours_per,
        "speedup": nltk_per / ours_per,
        "ours_full_corpus_hypotheses": len(everything),
        "ours_full_corpus_seconds": ours_all_seconds,
        "max_abs_difference": max_difference(
            [ours[i] for i in indices], theirs
        ),
        "mean_nltk_sample": sum(theirs) / len(theirs),
        "mean_ours_all": sum(ours) / len(ours),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", default=f"{DATA}/train.txt")
    parser.add_argument("--hypotheses", default=f"{DATA}/test.txt")
    parser.add_argument(
        "--num-hypotheses",
        type=int,
        default=20,
        help="hypotheses NLTK scores per BLEU order (~0.85 s each)",
    )
    parser.add_argument("--self-hypotheses", type=int, default=1000)
    parser.add_argument(
        "--num-self-nltk",
        type=int,
        default=20,
        help="Self-BLEU hypotheses NLTK scores per order",
    )
    parser.add_argument("--orders", default="2,3,4,5")
    parser.add_argument("--self-orders", default="2,3,4")
    parser.add_argument(
        "--json", metavar="PATH", help="also write results here"
    )
    args = parser.parse_args(argv)

    references = read_sentences(args.references)
    hypotheses = read_sentences(args.hypotheses)
    print(
        f"references: {len(references)} lines of {args.references}\n"
        f"hypotheses: {len(hypotheses)} lines of {args.hypotheses}\n"
        f"python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs\n"
    )

    rows = []
    for order in [int(o) for o in args.orders.split(",") if o]:
        rows.append(
            bench_bleu(references, hypotheses, order, args.num_hypotheses)
        )
        print_row(rows[-1])
    corpus = hypotheses[: args.self_hypotheses]
    for order in [int(o) for o in args.self_orders.split(",") if o]:
        rows.append(
            bench_self_bleu(corpus, hypotheses, order, args.num_self_nltk)
        )
        print_row(rows[-1])

    print()
    print_table(rows)
    worst = max(row["max_abs_difference"] for row in rows)
    ok = worst <= TOLERANCE
    print(
        f"\nmax |ours - nltk| over all compared scores: {worst:.3g} "
        f"({'OK' if ok else 'FAIL'}: tolerance {TOLERANCE:g})"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"rows": rows, "tolerance": TOLERANCE}, handle, indent=2)
    return 0 if ok else 1


def print_row(row):
    print(
        f"{row['metric']:<12} done: "
        f"nltk {row['nltk_seconds_per_hypothesis']:.4f} s/hyp, "
        f"ours {row['ours_seconds_per_hypothesis'] * 1e6:.1f} us/hyp",
        flush=True,
    )


def print_table(rows):
    header = (
        f"{'metric':<12} {'refs':>6} {'nltk s/hyp':>11} {'(n)':>4} "
        f"{'ours us/hyp':>12} {'(n)':>6} {'ours total s':>13} {'speedup':>9} "
        f"{'max |diff|':>10} {'mean (ours)':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['metric']:<12} {row['references']:>6} "
            f"{row['nltk_seconds_per_hypothesis']:>11.4f} "
            f"{row['nltk_hypotheses']:>4} "
            f"{row['ours_seconds_per_hypothesis'] * 1e6:>12.1f} "
            f"{row['ours_hypotheses']:>6} {row['ours_seconds_all']:>13.3f} "
            f"{row['speedup']:>8.0f}x {row['max_abs_difference']:>10.2g} "
            f"{row['mean_ours_all']:>12.6f}"
        )
    print(
        "\nours s/hyp includes indexing the references once, amortised over "
        "all (n) hypotheses; speedup = nltk s/hyp / ours s/hyp."
    )
    for row in rows:
        if "speedup_same_hypotheses" in row:
            print(
                f"{row['metric']}: on the same {row['nltk_hypotheses']} "
                f"hypotheses (incl. indexing) ours takes "
                f"{row['ours_seconds_same_hypotheses']:.3f} s, "
                f"{row['speedup_same_hypotheses']:.0f}x faster than nltk; "
                f"with a BleuScorer built once ("
                f"{row['scorer_build_seconds']:.2f} s) it takes "
                f"{row['scorer_seconds_same_hypotheses'] * 1e3:.2f} ms, "
                f"{row['speedup_same_hypotheses_prebuilt_scorer']:.0f}x"
            )
        else:
            print(
                f"{row['metric']}: ours on all "
                f"{row['ours_full_corpus_hypotheses']} test lines takes "
                f"{row['ours_full_corpus_seconds']:.3f} s"
            )


if __name__ == "__main__":
    sys.exit(main())
