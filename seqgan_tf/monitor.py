"""What a trainer measures at the end of an epoch: NLL-oracle and the
generator's entropy, NLL of held-out data, and the discriminator probe."""

from seqgan_tf import metrics
from seqgan_tf import sampler
from seqgan_tf import seeds


class Monitor:
    """The end-of-epoch measurements of a trainer (`SeqGAN.monitor`).

    Args:
        trainer: the `SeqGAN` whose generator, discriminator and oracle it
            measures.
        eval_samples: samples per NLL-oracle.
        probe_samples: 0, or the sequences of each kind with which
            `metrics.discriminator_probe` judges the discriminator.
    """

    def __init__(self, trainer, eval_samples, probe_samples):
        self.trainer = trainer
        self.eval_samples = int(eval_samples)
        self.probe_samples = int(probe_samples)

    def evaluate(self, epoch, held_out):
        """NLL-oracle and entropy (with an oracle) of `eval_samples`
        sequences drawn for `epoch`, and `nll_test` of `held_out`."""
        trainer = self.trainer
        logs = {}
        if trainer.oracle is not None:
            # Drawn once, in the chunks of 1,000 `metrics.nll_oracle` uses
            # (the same sequences `evaluate_nll_oracle` would score), for
            # both NLL-oracle and the generator's entropy.
            drawn = sampler.sample_many(
                trainer.generator,
                self.eval_samples,
                seeds.seed_pair(trainer.seed, seeds.EVAL, epoch),
                batch_size=1000,
            )
            logs["nll_oracle"] = metrics.nll(trainer.oracle, drawn)
            logs["entropy"] = metrics.mean_entropy(trainer.generator, drawn)
        if held_out is not None:
            logs["nll_test"] = metrics.nll(trainer.generator, held_out)
        return logs

    def probe(self, epoch, real, round_data):
        """The discriminator probe's logs after an epoch ({} when off or
        without an oracle). Its held-out sequences are disjoint from the
        real data and from the epoch's D rounds (`round_data`: their
        (positives, negatives)); its "training real" are the real sequences
        of the epoch's last D round (the real data when it made none)."""
        trainer = self.trainer
        if not self.probe_samples or trainer.oracle is None:
            return {}
        training_real = real
        if round_data:
            training_real = round_data[-1][0]
        exclude = [real] + [rows for pair in round_data for rows in pair]
        return metrics.discriminator_probe(
            trainer.discriminator,
            trainer.generator,
            trainer.oracle,
            training_real,
            self.probe_samples,
            seed=seeds.seed_pair(trainer.seed, seeds.PROBE, epoch),
            exclude=exclude,
        )
