"""What this machine computes natively: the CPU's model and ISA flags, and
the precision `training.mixed_precision="auto"` picks from them.

Pure Python (no TensorFlow import): the accelerators present are passed
in by the caller.
"""

import platform

CPU_INFO = "/proc/cpuinfo"
# CPU flags (Linux /proc/cpuinfo names) of native bfloat16 arithmetic:
# AMX tiles (Sapphire Rapids and later) and AVX-512 BF16 (Cooper Lake,
# Zen 4). Without them TensorFlow emulates bfloat16, slower than float32.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
# The flags a benchmark report names.
REPORTED_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_bf16",
)


def _cpu_field(name, path):
    """The value of the first CPU's `name` line in `path`, or None (no
    such line, or no such file, e.g. not Linux)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_flags(path=CPU_INFO):
    """The ISA flags of the first CPU in `path` (a frozenset; empty where
    the file is missing, e.g. not Linux)."""
    return frozenset((_cpu_field("flags", path) or "").split())


def cpu_model(path=CPU_INFO):
    """The CPU's model name ("Intel(R) Xeon(R) ..."), or what `platform`
    knows."""
    return (
        _cpu_field("model name", path)
        or platform.processor()
        or platform.machine()
    )


def native_bf16(flags):
    """True if CPU `flags` include native bfloat16 units."""
    return any(flag in flags for flag in BF16_FLAGS)


def resolve_precision(setting, flags=None, accelerators=()):
    """The Keras policies (generator's, discriminator's) of a
    `training.mixed_precision` setting.

    "auto" computes the discriminator (where the time goes) in bfloat16
    when the machine has native bfloat16 units: an accelerator (GPU or
    TPU, in `accelerators`) or a CPU whose `flags` (default: this CPU's)
    include AMX-BF16 or AVX512-BF16; everywhere else, and for the
    generator (whose sampled tokens would change), it is "float32". Any
    other setting applies to both models ("" means "float32").
    """
    if setting == "auto":
        flags = cpu_flags() if flags is None else flags
        if accelerators or native_bf16(flags):
            return "float32", "mixed_bfloat16"
        return "float32", "float32"
    policy = setting or "float32"
    return policy, policy
