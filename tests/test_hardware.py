"""The precision `training.mixed_precision="auto"` picks, on mocked CPUs."""

import keras
import pytest

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import hardware

# /proc/cpuinfo excerpts of the two kinds of machine of this project.
XEON_AMX = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile
"""
EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse2 avx2 fma
"""
COOPER_LAKE = "model name\t: Intel Xeon\nflags\t\t: avx2 avx512f avx512_bf16\n"


@pytest.mark.parametrize(
    "text, model, bf16",
    [
        (XEON_AMX, "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", True),
        (EPYC, "AMD EPYC 7B12", False),
        (COOPER_LAKE, "Intel Xeon", True),
    ],
)
def test_flags_model_and_native_bf16_from_cpuinfo(tmp_path, text, model, bf16):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    flags = hardware.cpu_flags(path)
    assert "avx2" in flags
    assert hardware.cpu_model(path) == model
    assert hardware.native_bf16(flags) is bf16


def test_missing_cpuinfo_means_no_flags(tmp_path):
    assert hardware.cpu_flags(tmp_path / "absent") == frozenset()
    assert hardware.native_bf16(frozenset()) is False
    assert isinstance(hardware.cpu_model(tmp_path / "absent"), str)


def test_auto_picks_bf16_discriminator_only_where_native(tmp_path):
    amx = {"avx512f", "amx_bf16"}
    emulated = {"avx2", "avx512f"}  # AVX-512 without BF16: emulated
    assert hardware.resolve_precision("auto", amx) == (
        "float32",
        "mixed_bfloat16",
    )
    assert hardware.resolve_precision("auto", emulated) == (
        "float32",
        "float32",
    )
    # An accelerator computes bfloat16 natively whatever the CPU.
    assert hardware.resolve_precision("auto", emulated, ["GPU:0"]) == (
        "float32",
        "mixed_bfloat16",
    )
    for setting, policy in [
        ("", "float32"),
        ("float32", "float32"),
        ("mixed_bfloat16", "mixed_bfloat16"),
        ("mixed_float16", "mixed_float16"),
    ]:
        assert hardware.resolve_precision(setting, emulated) == (
            policy,
            policy,
        )


@pytest.mark.parametrize(
    "flags, discriminator",
    [({"amx_bf16"}, "mixed_bfloat16"), ({"avx2"}, "float32")],
)
def test_build_gan_follows_the_cpu(monkeypatch, flags, discriminator):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    config = config_lib.with_overrides(
        config_lib.get_preset("tiny"), ["training.mixed_precision=auto"]
    ).validate()
    gan = experiment.build_gan(config)
    assert gan.generator.dtype_policy.name == "float32"
    assert gan.discriminator.dtype_policy.name == discriminator
    assert keras.mixed_precision.global_policy().name == "float32"
    # The reward and the logits stay float32 either way.
    tokens = keras.ops.ones((2, 12), dtype="int32")
    assert gan.discriminator.predict_real(tokens).dtype == "float32"


def test_presets_default_to_float32():
    # bfloat16 is opt-in ("auto"): it changed the quick preset's result
    # beyond its seed spread (see the README).
    for name in ("paper", "quick", "tiny"):
        assert config_lib.get_preset(name).training.mixed_precision == ""
