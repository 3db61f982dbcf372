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

Several processes (one per host, or several on one host over loopback)
run `MultiWorkerMirroredStrategy`: each is started with the same cluster in
`TF_CONFIG` and its own `task`, and calls `make_strategy("multiworker")`
before any other TensorFlow op. Every worker runs the same program; only
the chief (`is_chief`) writes checkpoints and outputs where others can see
them, the other workers write theirs under `write_dir` and delete them.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.config import STRATEGIES

if TYPE_CHECKING:
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Any

TASK_TYPES = ("worker", "chief", "evaluator", "ps")


def make_strategy(
    name: str = "default",
    devices: Sequence[str] | None = None,
    tpu: str | None = None,
    timeout_seconds: float | None = 120,
    collective_timeout_seconds: float | None = None,
) -> tf.distribute.Strategy:
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
        timeout_seconds: "multiworker": how long this worker waits, at
            start, for every other chief and worker of `TF_CONFIG` to
            listen on its address. TensorFlow itself would wait forever
            for a missing worker (blocked in C++, not interruptible from
            Python); this bounds it and names the missing address. None:
            wait forever.
        collective_timeout_seconds: "multiworker": timeout of each
            collective operation during training
            (`tf.distribute.experimental.CommunicationOptions`); None (the
            default): no limit. A worker that dies is detected anyway by
            TensorFlow's coordination-service heartbeat, which aborts the
            others' collectives; this guards against a live but stuck
            worker, and must exceed the longest time one worker can spend
            between steps without the others (e.g. evaluating alone).

    Raises:
        ValueError: an unknown `name`, a bad `TF_CONFIG`, or no TPU.
        RuntimeError: "multiworker": a worker of the cluster did not come up
            within `timeout_seconds` (the message names its address), or
            this worker's own address cannot be served.

    Examples:
        >>> from seqgan_tf import distribute
        >>> strategy = distribute.make_strategy("default")
        >>> strategy.num_replicas_in_sync, distribute.is_chief(strategy)
        (1, True)
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
        return _multi_worker_strategy(
            timeout_seconds, collective_timeout_seconds
        )
    if name == "tpu":
        return _tpu_strategy(tpu)
    raise ValueError(
        f"Unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}."
    )


def validate_tf_config(
    tf_config: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Checks a `TF_CONFIG` (JSON text, or a dict) for a multi-worker run.

    Reads the `TF_CONFIG` environment variable when `tf_config` is None.
    Returns the parsed dict.

    Raises:
        ValueError: naming what is wrong: missing or not JSON, no
            `cluster.worker` list of addresses, no `task`, an unknown task
            type, or a task index out of range.

    Examples:
        >>> from seqgan_tf import distribute
        >>> tf_config = distribute.validate_tf_config({
        ...     "cluster": {"worker": ["host0:2222", "host1:2222"]},
        ...     "task": {"type": "worker", "index": 1}})
        >>> tf_config["task"]
        {'type': 'worker', 'index': 1}
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


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process writes the run's checkpoints and outputs.

    True for every strategy but `MultiWorkerMirroredStrategy`, where it is
    the "chief" task, or worker 0 of a cluster without one. `strategy`
    defaults to the one in scope.
    """
    strategy = strategy or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    resolver = strategy.cluster_resolver
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None or task_type == "chief":
        return True
    jobs = resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and "chief" not in jobs


def write_dir(
    directory: str | os.PathLike, strategy: tf.distribute.Strategy | None = None
) -> str:
    """Where this process writes what belongs in `directory`.

    `directory` itself on the chief (`is_chief`); on another worker of a
    multi-worker run a private `workertemp_<task type>_<task id>` directory
    inside it, which the caller deletes after writing (all workers must
    take part in a multi-worker save, but only the chief's copy is kept).

    Examples:
        >>> from seqgan_tf import distribute
        >>> distribute.write_dir("runs/tiny")  # one process: the chief
        'runs/tiny'
    """
    strategy = strategy or tf.distribute.get_strategy()
    if is_chief(strategy):
        return str(directory)
    resolver = strategy.cluster_resolver
    return os.path.join(
        str(directory), f"workertemp_{resolver.task_type}_{resolver.task_id}"
    )


def _multi_worker_strategy(timeout_seconds, collective_timeout_seconds):
    config = validate_tf_config()
    task = config["task"]
    cluster = config["cluster"]
    own = cluster[task["type"]][task["index"]]
    addresses = [a for values in cluster.values() for a in values]
    for address in addresses:
        _split_address(address)
    repeated = sorted({a for a in addresses if addresses.count(a) > 1})
    if repeated:
        raise ValueError(
            "TF_CONFIG cluster lists the same address for several tasks: "
            f"{', '.join(repeated)}; each task needs its own host:port."
        )
    coordinated = {
        task_type: cluster[task_type]
        for task_type in ("chief", "worker")
        if task_type in cluster
    }
    peers = [
        address
        for addresses in coordinated.values()
        for address in addresses
        if address != own
    ]
    if peers and task["type"] in coordinated:
        _wait_for_peers(own, peers, coordinated, timeout_seconds)
    options = tf.distribute.experimental.CommunicationOptions(
        timeout_seconds=collective_timeout_seconds
    )
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=options
    )


def _split_address(address):
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"TF_CONFIG address {address!r} is not of the form 'host:port'."
        )
    return host.strip("[]"), int(port)


def _wait_for_peers(own, peers, cluster, timeout_seconds):
    """A rendezvous before TensorFlow's, with a deadline.

    TensorFlow blocks forever (in C++, holding the interpreter lock, deaf
    to SIGTERM) while a worker of the cluster is missing. Here every
    worker listens on its own address, and says hello, with its
    `TF_CONFIG` cluster, to every peer's; it goes on once every peer has
    answered it and been answered (so no peer still needs its listener,
    which TensorFlow's server then replaces). A peer that does not answer
    within `timeout_seconds`, or lists another cluster, is a
    `RuntimeError` naming its address. A worker that dies after this
    rendezvous but before TensorFlow's can still block its peers.
    """
    _, port = _split_address(own)
    try:
        if socket.has_dualstack_ipv6():
            listener = socket.create_server(
                ("", port), family=socket.AF_INET6, dualstack_ipv6=True
            )
        else:
            listener = socket.create_server(("", port))
    except OSError as error:
        raise RuntimeError(
            f"This worker cannot listen on its TF_CONFIG address {own} "
            f"({error}); is another process using the port?"
        ) from None
    hello = (json.dumps({"address": own, "cluster": cluster}) + "\n").encode()
    greeted = {}  # peer address -> the cluster it said hello with
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                try:
                    connection.settimeout(2.0)
                    message = _read_hello(connection)
                    connection.sendall(hello)
                    # The caller closes first: no TIME_WAIT on this port.
                    connection.recv(1)
                except (OSError, ValueError):
                    continue
            greeted[message["address"]] = message["cluster"]

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = (
        None if timeout_seconds is None else time.monotonic() + timeout_seconds
    )
    answered = {}  # peer address -> the cluster it answered with
    try:
        while True:
            for address in peers:
                if address not in answered:
                    reply = _say_hello(address, hello)
                    if reply is not None:
                        answered[address] = reply["cluster"]
            for address, other in list(answered.items()) + list(
                greeted.items()
            ):
                if other != cluster or address not in peers:
                    raise RuntimeError(
                        f"The multi-worker worker at {address} has another "
                        f"TF_CONFIG cluster ({json.dumps(other)}) than this "
                        f"one at {own} ({json.dumps(cluster)}); every worker "
                        "needs the same `cluster`, and only its own `task`."
                    )
            waiting = [
                a for a in peers if a not in answered or a not in greeted
            ]
            if not waiting:
                return
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError(
                    f"Timed out after {timeout_seconds:g} s waiting for the "
                    "multi-worker cluster: no worker answers at "
                    f"{', '.join(waiting)} (this worker is {own}). Start "
                    "every worker of TF_CONFIG's cluster, check the "
                    "addresses and firewalls, or raise the timeout."
                )
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
        listener.close()


def _read_hello(connection):
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("no hello")
        data += chunk
    message = json.loads(data)
    if not isinstance(message, dict) or not {"address", "cluster"} <= set(
        message
    ):
        raise ValueError("not a hello")
    return message


def _say_hello(address, hello):
    """The peer's hello in answer to ours, or None (not up yet)."""
    host, port = _split_address(address)
    try:
        with socket.create_connection((host, port), timeout=2.0) as connection:
            connection.settimeout(2.0)
            connection.sendall(hello)
            return _read_hello(connection)
    except (OSError, ValueError):
        return None


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
