"""Independent runs of a reproduction side by side: `reproduce --jobs N`.

One SeqGAN step on a 2-core CPU keeps TensorFlow's kernels well below the
machine's peak, so N single-threaded processes (each with
`cores // N` intra-op threads) finish more runs per hour than one process
with every core. Each worker is a fresh interpreter (spawned, not forked:
TensorFlow's runtime does not survive a fork) whose thread counts are set
before TensorFlow starts. Runs share nothing but their shared stages,
which `seqgan_tf.reproduce.stages` guards with a lock.
"""

import concurrent.futures
import multiprocessing
import os

# TensorFlow reads these when its runtime starts.
_THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
)


def threads_per_job(jobs, cores=None):
    """Intra-op threads of each of `jobs` workers on `cores` cores (the
    machine's by default): an equal share, at least one."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, int(jobs)))


def run(function, tasks, jobs=1, log=print):
    """`[(task, function(*task)) ...]` in the order of `tasks`: in this
    process when `jobs` is 1, else in `jobs` worker processes (results are
    collected as each finishes; the first failure is raised after the
    running ones end)."""
    jobs = int(jobs)
    if jobs < 1:
        raise ValueError(f"`jobs` must be >= 1, got {jobs}.")
    if jobs == 1 or len(tasks) <= 1:
        return [(task, function(*task)) for task in tasks]
    threads = threads_per_job(jobs)
    log(
        f"Running {len(tasks)} runs in {jobs} processes, {threads} "
        "thread(s) each."
    )
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_limit_threads,
        initargs=(threads,),
    ) as pool:
        futures = [pool.submit(function, *task) for task in tasks]
        return [(task, future.result()) for task, future in zip(tasks, futures)]


def _limit_threads(threads):
    """A worker's start: its thread counts, before TensorFlow runs."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    import tensorflow as tf  # noqa: PLC0415 (after the variables are set)

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
