"""The padding mask of EOS-terminated, PAD-filled sequences."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.data.vocabulary import EOS_ID

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def padding_mask(
    token_ids: ArrayLike, eos_id: int | None = EOS_ID
) -> tf.Tensor:
    """True up to and including the first EOS of each row, False after it.

    Rows without EOS are all True (the fixed-length synthetic task). Works
    on any rank; the last axis is time. Pass `eos_id=None` for data whose
    ids carry no EOS meaning (the oracle's tokens: there id 2 is an
    ordinary token), which gives an all-True mask.

    | token_ids (EOS = 2)  | mask     |
    | -------------------- | -------- |
    | 2 0 0 0              | T F F F  |
    | 5 2 0 0              | T T F F  |
    | 5 6 7 2              | T T T T  |
    | 5 6 7 8              | T T T T  |
    | 5 2 2 0              | T T F F  |

    Args:
        token_ids: int tensor [..., T].
        eos_id: the EOS id, or None.

    Returns:
        A bool tensor shaped like `token_ids`.

    Examples:
        >>> from seqgan_tf.data import padding_mask
        >>> padding_mask([[5, 2, 0, 0], [5, 6, 7, 8]]).numpy()
        array([[ True,  True, False, False],
               [ True,  True,  True,  True]])
    """
    token_ids = tf.convert_to_tensor(token_ids)
    if eos_id is None:
        return tf.ones_like(token_ids, tf.bool)
    is_eos = tf.cast(tf.equal(token_ids, eos_id), tf.int32)
    # EOS seen strictly before this position <=> past the end.
    return tf.equal(tf.cumsum(is_eos, axis=-1, exclusive=True), 0)
