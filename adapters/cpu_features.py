"""Which CPU features a native build needs, and whether this host offers them."""

from __future__ import annotations

from pathlib import Path

# llama.cpp's names for the CPU features a build uses, and the kernel's /proc/cpuinfo names.
CPU_FLAGS = {
    "SSE3": "pni",
    "SSSE3": "ssse3",
    "AVX": "avx",
    "AVX2": "avx2",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX_VNNI": "avx_vnni",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
}


def missing_cpu_features(system_info: str, cpu_flags: set[str]) -> list[str]:
    """The features this llama.cpp build was compiled for that the host does not offer."""
    # system_info reads like "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 0 | ..."
    built = {part.split("=")[0].split()[-1] for part in system_info.split("|") if part.strip().endswith("= 1")}
    return sorted(name for name in built if name in CPU_FLAGS and CPU_FLAGS[name] not in cpu_flags)


def host_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU flags the kernel enabled, or ``None`` where the system does not say."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    line = next((line for line in text.splitlines() if line.startswith("flags")), None)
    return set(line.split(":", 1)[1].split()) if line else None
