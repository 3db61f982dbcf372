"""The oracle of the synthetic experiment: a frozen LSTM that plays "real data".

Loads the SeqGAN authors' parameters, or draws a seeded N(0, 1) one.
"""

import importlib.resources

import keras
import numpy as np

from seqgan_tf import paper
from seqgan_tf.models.generator import Generator


def paper_params_path():
    """Path of the authors' oracle parameters shipped with the package."""
    return importlib.resources.files("seqgan_tf").joinpath(
        "resources/oracle/target_params.npz"
    )


def _weights_from_params(params):
    """Maps the authors' named arrays onto the Generator's weight list.

    Keras orders the LSTM gates i, f, c (candidate), o along the last axis.
    """
    gates = ("i", "f", "c", "o")
    return [
        params["embedding"],
        np.concatenate([params[f"W_{g}"] for g in gates], axis=1),
        np.concatenate([params[f"U_{g}"] for g in gates], axis=1),
        np.concatenate([params[f"b_{g}"] for g in gates], axis=0),
        params["W_out"],
        params["b_out"],
    ]


@keras.saving.register_keras_serializable(package="seqgan_tf")
class OracleLSTM(Generator):
    """A frozen `Generator` whose samples are the "real data".

    It has the generator's cell and interface (`log_prob`, `generate`,
    `complete`) and no trainable weights. `OracleLSTM.from_paper()` loads
    the parameters of the SeqGAN paper's synthetic experiment (vocabulary
    5000, length 20, embedding and hidden size 32; shipped as `.npz`, no
    pickle); `OracleLSTM.random(...)` draws every parameter from N(0, 1)
    with a seed, for other vocabulary sizes and lengths.

    Args: as `Generator`; `initializer_stddev` defaults to 1.0.

    Example:

    ```python
    oracle = seqgan_tf.OracleLSTM.from_paper()
    real = oracle.generate(9984, seed=(0, 88))
    nll = -float(tf.reduce_mean(oracle.log_prob(real)))  # about 5.75
    ```
    """

    def __init__(self, *args, initializer_stddev=1.0, **kwargs):
        super().__init__(*args, initializer_stddev=initializer_stddev, **kwargs)
        self.trainable = False

    @classmethod
    def from_paper(cls, path=None, dtype=None):
        """The authors' oracle (`target_params` of
        github.com/LantaoYu/SeqGAN); `dtype`: its Keras dtype policy
        (default: the global policy)."""
        path = paper_params_path() if path is None else path
        try:
            with np.load(path, allow_pickle=False) as archive:
                params = {key: archive[key] for key in archive.files}
        except (OSError, ValueError) as error:
            raise ValueError(
                f"Cannot read oracle parameters from {path}: {error}"
            )
        vocabulary_size, embedding_dim = params["embedding"].shape
        oracle = cls(
            vocabulary_size=vocabulary_size,
            sequence_length=paper.SEQUENCE_LENGTH,
            embedding_dim=embedding_dim,
            hidden_dim=params["U_i"].shape[0],
            dtype=dtype,
            name="paper_oracle",
        )
        oracle.set_weights(_weights_from_params(params))
        return oracle

    @classmethod
    def random(
        cls,
        vocabulary_size,
        sequence_length,
        embedding_dim=32,
        hidden_dim=32,
        seed=0,
        dtype=None,
    ):
        """An oracle with every parameter drawn from N(0, 1) by `seed`;
        `dtype`: its Keras dtype policy (default: the global policy)."""
        oracle = cls(
            vocabulary_size=vocabulary_size,
            sequence_length=sequence_length,
            embedding_dim=embedding_dim,
            hidden_dim=hidden_dim,
            dtype=dtype,
            name="random_oracle",
        )
        rng = np.random.default_rng(seed)
        oracle.set_weights(
            [
                rng.standard_normal(w.shape).astype("float32")
                for w in oracle.get_weights()
            ]
        )
        return oracle
