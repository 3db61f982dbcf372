"""The oracle of the synthetic experiment: a frozen LSTM that plays "real data".

Loads the SeqGAN authors' parameters, or draws a seeded N(0, 1) one.
"""

from __future__ import annotations

import importlib.resources
from typing import TYPE_CHECKING

import keras
import numpy as np

from seqgan_tf import paper
from seqgan_tf.models.generator import Generator

if TYPE_CHECKING:
    import os
    from typing import Any


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

    Args:
        *args: `Generator`'s arguments.
        initializer_stddev: the standard deviation of the initial weights
            (1.0, the authors' oracle's).
        **kwargs: `Generator`'s keyword arguments.

    Examples:
        >>> import seqgan_tf
        >>> oracle = seqgan_tf.OracleLSTM.from_paper()
        >>> oracle.vocabulary_size, oracle.sequence_length, oracle.trainable
        (5000, 20, False)
        >>> real = oracle.generate(8, seed=(0, 88))
        >>> real.shape
        TensorShape([8, 20])
        >>> small = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> small.generate(3, seed=(0, 1)).shape
        TensorShape([3, 6])
    """

    def __init__(
        self, *args: Any, initializer_stddev: float = 1.0, **kwargs: Any
    ):
        super().__init__(*args, initializer_stddev=initializer_stddev, **kwargs)
        self.trainable = False

    @classmethod
    def from_paper(
        cls, path: str | os.PathLike | None = None, dtype: str | None = None
    ) -> OracleLSTM:
        """The authors' oracle (`target_params` of
        github.com/LantaoYu/SeqGAN): vocabulary 5,000, length 20.

        Args:
            path: an `.npz` of the parameters (default: the copy shipped
                with the package).
            dtype: its Keras dtype policy (default: the global policy).

        Examples:
            >>> from seqgan_tf.models import OracleLSTM
            >>> oracle = OracleLSTM.from_paper()
            >>> oracle.name, oracle.hidden_dim
            ('paper_oracle', 32)
        """
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
        vocabulary_size: int,
        sequence_length: int,
        embedding_dim: int = 32,
        hidden_dim: int = 32,
        seed: int = 0,
        dtype: str | None = None,
    ) -> OracleLSTM:
        """An oracle with every parameter drawn from N(0, 1) by `seed`.

        Args:
            vocabulary_size: number of token ids.
            sequence_length: length of its sequences.
            embedding_dim: size of the token embedding.
            hidden_dim: size of the LSTM state.
            seed: the seed of the parameters: the same seed, the same
                oracle.
            dtype: its Keras dtype policy (default: the global policy).

        Examples:
            >>> from seqgan_tf.models import OracleLSTM
            >>> a = OracleLSTM.random(20, 6, seed=3)
            >>> b = OracleLSTM.random(20, 6, seed=3)
            >>> import numpy as np
            >>> np.array_equal(a.get_weights()[0], b.get_weights()[0])
            True
        """
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
