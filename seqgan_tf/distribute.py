"""The `tf.distribute` strategies the trainer runs under.

`make_strategy(name)` returns the strategy; create the models and the
`SeqGAN` inside `strategy.scope()` and the trainer runs every step on it
(see `seqgan_tf.trainer.SeqGAN`).

A CPU-only host can still run `MirroredStrategy` over several *logical*
CPU devices, which is how the tests check that two replicas train exactly
as one device does. The split must happen before TensorFlow initialises its
devices (before the first op, `tf.config.list_logical_devices`, or any
model is built):

```python
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
strategy = seqgan_tf.distribute.make_strategy("mirrored")  # /cpu:0, /cpu:1
```
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
TASK_TYPES = ("worker", "chief", "evaluator", "ps")


def make_strategy(name="default", devices=None, tpu=None):
    """Returns the `tf.distribute.Strategy` called `name`.

    Args:
        name: "default": `tf.distribute.get_strategy()` (the strategy in
            scope, normally the one-device default). "mirrored":
            `MirroredStrategy(devices)`; without `devices` it takes every
            GPU, or, on a CPU-only host split into several logical CPUs
            (see the module docstring), every logical CPU. "multiworker":
            `MultiWorkerMirroredStrategy` over the cluster of the
            `TF_CONFIG` environment variable, validated first. "tpu":
            `TPUStrategy` on the TPU `tpu` (default: the one the
            environment names, as in Colab).
        devices: device names for "mirrored" (e.g. ["/cpu:0", "/cpu:1"]).
        tpu: TPU name or address for "tpu".

    Raises:
        ValueError: an unknown `name`, a bad `TF_CONFIG`, or no TPU.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None:
            gpus = tf.config.list_logical_devices("GPU")
            cpus = tf.config.list_logical_devices("CPU")
            if not gpus and len(cpus) > 1:
                devices = [device.name for device in cpus]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        validate_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy(tpu)
    raise ValueError(
        f"Unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}."
    )


def validate_tf_config(tf_config=None):
    """Checks a `TF_CONFIG` (JSON text, or a dict) for a multi-worker run.

    Reads the `TF_CONFIG` environment variable when `tf_config` is None.
    Returns the parsed dict.

    Raises:
        ValueError: naming what is wrong: missing or not JSON, no
            `cluster.worker` list of addresses, no `task`, an unknown task
            type, or a task index out of range.
    """
    if tf_config is None:
        tf_config = os.environ.get("TF_CONFIG")
        if not tf_config:
            raise ValueError(
                "The multiworker strategy needs the TF_CONFIG environment "
                "variable (JSON with `cluster` and `task`), e.g. "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}.'
            )
    if isinstance(tf_config, str):
        try:
            config = json.loads(tf_config)
        except json.JSONDecodeError as error:
            raise ValueError(f"TF_CONFIG is not valid JSON: {error}.") from None
    else:
        config = tf_config
    if not isinstance(config, dict):
        raise ValueError(
            "TF_CONFIG must be a JSON object with `cluster` and `task`, got "
            f"{type(config).__name__}."
        )
    cluster = config.get("cluster")
    if not isinstance(cluster, dict):
        raise ValueError(
            "TF_CONFIG has no `cluster` object; expected e.g. "
            '"cluster": {"worker": ["host1:12345", "host2:12345"]}.'
        )
    workers = cluster.get("worker")
    if (
        not isinstance(workers, list)
        or not workers
        or not all(isinstance(w, str) and w for w in workers)
    ):
        raise ValueError(
            "TF_CONFIG has no `cluster.worker` list of 'host:port' "
            f"addresses; got {workers!r}."
        )
    for task_type, addresses in cluster.items():
        if task_type not in TASK_TYPES:
            raise ValueError(
                f"TF_CONFIG cluster has unknown task type {task_type!r}; "
                f"expected {', '.join(TASK_TYPES)}."
            )
        if not isinstance(addresses, list):
            raise ValueError(
                f"TF_CONFIG cluster.{task_type} must be a list of "
                f"'host:port' addresses, got {addresses!r}."
            )
    task = config.get("task")
    if not isinstance(task, dict):
        raise ValueError(
            "TF_CONFIG has no `task` object; expected e.g. "
            '"task": {"type": "worker", "index": 0}.'
        )
    task_type = task.get("type")
    if task_type not in TASK_TYPES:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} is unknown; expected one of "
            f"{', '.join(TASK_TYPES)}."
        )
    if task_type not in cluster:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} has no addresses in "
            f"`cluster` (which has {', '.join(sorted(cluster))})."
        )
    index = task.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValueError(
            f"TF_CONFIG task index must be an integer, got {index!r}."
        )
    if not 0 <= index < len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG task index {index} is out of range: cluster."
            f"{task_type} has {len(cluster[task_type])} address(es), so the "
            f"index must be in [0, {len(cluster[task_type])})."
        )
    return config


def _tpu_strategy(tpu=None):
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise ValueError(
            f"No TPU is reachable ({type(error).__name__}: {error}). The "
            "'tpu' strategy needs a TPU runtime (e.g. Colab with a TPU, or "
            "a TPU VM / TPU name); use 'default' or 'mirrored' otherwise."
        ) from error
    return tf.distribute.TPUStrategy(resolver)
