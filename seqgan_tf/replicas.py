"""How every training step runs on the `tf.distribute` strategy in scope.

A step takes a global batch of `batch_size` rows; `Replicas.distribute`
gives replica r rows [r B / R, (r + 1) B / R), each replica body computes
its loss already scaled for the global batch, `Replicas.apply` sums the
gradients across replicas (clipping the sum as the single-device gradient
would be clipped) and applies them (`Replicas.apply_clipped_apart` clips
groups of variables each on its own), and `Replicas.reduce_sum` adds the
replicas' losses for the trackers. Under the default strategy there is
one replica and the same code runs.
"""

import contextlib

import keras
import tensorflow as tf


class Replicas:
    """The strategy of a trainer and its global batch.

    Args:
        strategy: a `tf.distribute.Strategy`.
        batch_size: rows of a global batch (a multiple of the replicas).
    """

    def __init__(self, strategy, batch_size):
        self.strategy = strategy
        self.num_replicas = int(strategy.num_replicas_in_sync)
        self.batch_size = int(batch_size)
        if self.batch_size % self.num_replicas:
            raise ValueError(
                f"`batch_size` ({batch_size}) must be a multiple of the "
                f"number of replicas ({self.num_replicas}) of the "
                f"{type(strategy).__name__}: each replica takes an "
                "equal slice of every batch."
            )
        self.local_batch = self.batch_size // self.num_replicas

    def distribute(self, batch):
        """Per-replica slices of a global batch: replica r gets rows
        [r * B / R, (r + 1) * B / R)."""
        batch = tf.convert_to_tensor(batch)
        if self.num_replicas == 1:
            return batch
        per_replica = batch.shape[0] // self.num_replicas

        def value_fn(context):
            index = context.replica_id_in_sync_group
            return batch[index * per_replica : (index + 1) * per_replica]

        return self.strategy.experimental_distribute_values_from_function(
            value_fn
        )

    def reduce_sum(self, value):
        """The sum over replicas of a per-replica value (cross-replica)."""
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, None)

    @staticmethod
    def all_reduce_sum(value):
        """The sum over replicas, in replica context."""
        context = tf.distribute.get_replica_context()
        return context.all_reduce(tf.distribute.ReduceOp.SUM, value)

    def row_offset(self):
        """The global index of this replica's first row of a batch (in
        replica context)."""
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.cast(replica, tf.int32) * self.local_batch

    def apply(self, optimizer, tape, loss, variables):
        """Applies the gradient of `loss` summed over replicas.

        Called in replica context with `loss` scaled for the global batch.
        Keras optimizers clip (`clipnorm`, `global_clipnorm`, `clipvalue`)
        each replica's own gradient before summing them; so with several
        replicas and clipping the gradients are summed here first, clipped
        as the single-device gradient would be, and handed over divided by
        the number of replicas (the optimizer's own clipping is then a
        no-op and its sum restores them)."""
        with tape:  # Loss scaling (mixed float16) must be recorded too.
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        if self.num_replicas > 1 and _clips(inner):
            grads = self.all_reduce_sum(
                [tf.convert_to_tensor(g) for g in grads]
            )
            factor = 1.0
            if inner is not optimizer:  # LossScaleOptimizer: clip unscaled.
                factor = tf.cast(optimizer.dynamic_scale, tf.float32)
            grads = _clip([g / factor for g in grads], inner)
            grads = [g * (factor / self.num_replicas) for g in grads]
        optimizer.apply(grads, variables)

    def apply_clipped_apart(self, optimizer, tape, loss, groups):
        """Applies the gradient of `loss` to the variables of `groups`
        (disjoint lists of variables) in one step of `optimizer`, each
        group's gradient clipped to the optimizer's `global_clipnorm` on its
        own: one group's norm does not scale another's. The optimizer's own
        joint clip is off for this step (its other settings and its state
        are untouched); without a `global_clipnorm` this is `apply`.

        Called in replica context, on one replica. Under a
        `LossScaleOptimizer` the groups are clipped unscaled, as the
        optimizer would clip them."""
        if self.num_replicas > 1:
            raise ValueError(
                "Clipping groups of variables apart is implemented for one "
                f"replica; the strategy has {self.num_replicas}."
            )
        variables = [v for group in groups for v in group]
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        clip_norm = inner.global_clipnorm
        if clip_norm is None or clip_norm <= 0:
            self.apply(optimizer, tape, loss, variables)
            return
        with tape:  # Loss scaling (mixed float16) must be recorded too.
            scaled = optimizer.scale_loss(loss)
        # Dense: the norm of an embedding's IndexedSlices counts the parts
        # of a repeated row apart (Keras' own clip measures them so); this
        # clips the gradient's norm.
        grads = [
            None if g is None else tf.convert_to_tensor(g)
            for g in tape.gradient(scaled, variables)
        ]
        if inner is not optimizer:
            # LossScaleOptimizer: the gradients are the loss scale times
            # the unscaled ones, whose norm is clipped to clip_norm.
            clip_norm = clip_norm * tf.cast(optimizer.dynamic_scale, "float32")
        clipped, start = [], 0
        for group in groups:
            part = grads[start : start + len(group)]
            start += len(group)
            clipped.extend(tf.clip_by_global_norm(part, clip_norm)[0])
        with _without_global_clip(inner):
            optimizer.apply(clipped, variables)


@contextlib.contextmanager
def _without_global_clip(optimizer):
    """`optimizer` (not a `LossScaleOptimizer`) with no `global_clipnorm`
    while the block runs: it is read when `apply` runs (or is traced)."""
    saved = optimizer.global_clipnorm
    optimizer.global_clipnorm = None
    try:
        yield optimizer
    finally:
        optimizer.global_clipnorm = saved


def _clips(optimizer):
    return (
        optimizer.clipnorm is not None
        or optimizer.global_clipnorm is not None
        or optimizer.clipvalue is not None
    )


def _clip(grads, optimizer):
    """`grads` clipped as `optimizer`'s own settings clip them."""
    if optimizer.clipnorm is not None and optimizer.clipnorm > 0:
        return [tf.clip_by_norm(g, optimizer.clipnorm) for g in grads]
    if optimizer.global_clipnorm is not None and optimizer.global_clipnorm > 0:
        return tf.clip_by_global_norm(grads, optimizer.global_clipnorm)[0]
    if optimizer.clipvalue is not None and optimizer.clipvalue > 0:
        value = optimizer.clipvalue
        return [tf.clip_by_value(g, -value, value) for g in grads]
    return grads


def loss_scaled(optimizer):
    """`optimizer` wrapped in a `LossScaleOptimizer` (unless it is one)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def unscaled(optimizer):
    """The optimizer inside a `LossScaleOptimizer`, else `optimizer`."""
    return getattr(optimizer, "inner_optimizer", optimizer)
