"""Table 1's schedules: how long each method trains and how it is
evaluated (`Schedule`), the named ones (`SCHEDULES`: `fast`, `authors`,
`family`, `paper` and their `tiny` versions for tests), and `METHODS`,
every method a schedule's rows can hold (the registry's).
"""

import dataclasses

from seqgan_tf import methods as methods_lib


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How long each method trains and how it is evaluated.

    Attributes:
        name: "tiny", "fast" or "paper".
        base: the preset every method starts from.
        mle_epochs: MLE pretraining epochs (shared by every method).
        discriminator_rounds, adversarial_rounds: SeqGAN's (and its
            ablations'); PG-BLEU makes as many policy-gradient rounds.
        ss_epochs: scheduled sampling's epochs (the rate falls by
            `1 / ss_epochs * 0.6` an epoch, to 0.4 at the end as in the
            authors' 300 epochs of 0.002).
        eval_samples: samples of the NLL-oracle of the table.
        test_samples: fresh oracle samples of NLL-test.
        curve_samples: samples per temperature of the quality-diversity
            curve.
        temperatures: the curve's temperatures.
        overrides: more `section.field=value` settings of every run.
        method_overrides: ((method, settings), ...): settings of one
            method's runs, applied last (the `paper` schedule's baselines
            train as the authors' older code trained them).
        table: the registry's table (`seqgan_tf.methods.TABLES`) whose
            methods are its rows, in registration order (`methods`).
    """

    name: str
    base: str
    mle_epochs: int
    discriminator_rounds: int
    adversarial_rounds: int
    ss_epochs: int
    eval_samples: int
    test_samples: int
    curve_samples: int
    temperatures: tuple = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)
    overrides: tuple = ()
    method_overrides: tuple = ()
    table: str = "classic"

    @property
    def methods(self):
        """The rows of its table: the methods registered in it."""
        return methods_lib.names(table=self.table)


# Every method `method_config` knows: the registry's.
METHODS = methods_lib.names()

SCHEDULES = {
    # For tests: the tiny random oracle, seconds per run.
    "tiny": Schedule(
        "tiny",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        table="classic",
    ),
    # The `authors` schedule at the tiny preset's size, for tests.
    "tiny_authors": Schedule(
        "tiny_authors",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=2,
        adversarial_rounds=3,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        overrides=("training.probe_samples=64", "training.eval_every=2"),
        method_overrides=(
            ("seqgan_constant_reward", ("training.discriminator_steps=0",)),
        ),
        table="authors",
    ),
    # The paper's models, data and algorithm in about two hours for every
    # method on three seeds (see the README's *Does SeqGAN beat MLE?*).
    "fast": Schedule(
        "fast",
        "quick",
        mle_epochs=10,
        discriminator_rounds=3,
        adversarial_rounds=10,
        ss_epochs=10,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=(
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=1024",
            "training.probe_samples=1024",
        ),
        table="classic",
    ),
    # The `family` schedule at the tiny preset's size, for tests.
    "tiny_family": Schedule(
        "tiny_family",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        table="family",
    ),
    # SeqGAN's successors on the `fast` schedule's budget: the paper's
    # oracle and models, 10 MLE epochs, 3 D (or ranker) pretraining rounds
    # and 10 adversarial rounds of 1 generator step and 1 D round of 1,024
    # fresh negatives. Every method keeps its paper's algorithm; only the
    # lengths (and LeakGAN's interleaved D pretraining, replaced by the
    # common one) are shortened.
    # The `critic` table at the tiny preset's size, for tests.
    "tiny_critic": Schedule(
        "tiny_critic",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        overrides=("training.probe_samples=64",),
        table="critic",
    ),
    # Does a critic that knows help? The family schedule's sizes (its MLE
    # stage; the D stage differs only by the probe), every learned critic
    # beside its constant control and the Bayes-optimal critic, probed
    # after every D round.
    "critic": Schedule(
        "critic",
        "quick",
        mle_epochs=10,
        discriminator_rounds=3,
        adversarial_rounds=10,
        ss_epochs=10,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=(
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=1024",
            "training.probe_samples=1024",
        ),
        table="critic",
    ),
    "family": Schedule(
        "family",
        "quick",
        mle_epochs=10,
        discriminator_rounds=3,
        adversarial_rounds=10,
        ss_epochs=10,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=(
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=1024",
        ),
        table="family",
    ),
    # The authors' discriminator training, exactly: the `paper` preset's
    # pretraining (120 MLE epochs; 50 D rounds of 3 epochs over 9,984 fresh
    # negatives and the 9,984 real sequences) and its adversarial round (1
    # policy-gradient step with 16 rollouts, then 5 such D rounds), for the
    # first 21 rounds (NLL-oracle after rounds 0, 5, 10, 15 and 20, as the
    # authors log it). Only the number of rounds and the evaluation differ
    # from the preset; the constant-reward control skips the D rounds,
    # which its generator never reads (same generator, a fraction of the
    # time).
    "authors": Schedule(
        "authors",
        "paper",
        mle_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=21,
        ss_epochs=300,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=("training.probe_samples=4992",),
        method_overrides=(
            ("seqgan_constant_reward", ("training.discriminator_steps=0",)),
        ),
        table="authors",
    ),
    # The authors' schedules (a GPU or days of CPU): SeqGAN and its
    # ablations as their current code (the `paper` preset); the baselines
    # as their older code, which holds them: MLE 350 epochs, scheduled
    # sampling 300 epochs (rate -0.002 an epoch), PG-BLEU 200 MLE epochs and
    # 800 rounds, each with Adam at its default 0.001.
    "paper": Schedule(
        "paper",
        "paper",
        mle_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=200,
        ss_epochs=300,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=10_000,
        method_overrides=(
            (
                "mle",
                (
                    "training.generator_epochs=350",
                    "generator.learning_rate=0.001",
                ),
            ),
            ("scheduled_sampling", ("generator.learning_rate=0.001",)),
            (
                "pg_bleu",
                (
                    "training.generator_epochs=200",
                    "training.adversarial_rounds=800",
                    "generator.learning_rate=0.001",
                ),
            ),
        ),
        table="classic",
    ),
}
