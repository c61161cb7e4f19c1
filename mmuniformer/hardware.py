"""What this machine's CPU computes natively: its feature flags and whether it has bf16
arithmetic units. Asked by :func:`mmuniformer.apis.optimize` (``dtype='auto'``), by
:class:`mmuniformer.AutoAmpOptimWrapper` (bf16 autocast on a CPU-only machine) and by
``tools/benchmark.py`` (the units and their peak)."""
from typing import FrozenSet, List, Optional

import torch

#: the CPU's matrix/vector units as /proc/cpuinfo names them, widest first
MATRIX_UNITS = ('amx_bf16', 'avx512_bf16', 'avx512f', 'avx2')
#: /proc/cpuinfo flags of CPUs with bf16 arithmetic units (x86 AMX-BF16 or AVX512-BF16; Arm BF16)
BF16_CPU_FLAGS = frozenset({'amx_bf16', 'avx512_bf16', 'bf16'})


def cpu_flags(cpuinfo: str = '/proc/cpuinfo') -> FrozenSet[str]:
    """The CPU feature flags of ``cpuinfo`` (first processor); empty where it is unreadable
    (not Linux)."""
    try:
        with open(cpuinfo, encoding='utf-8') as f:
            for line in f:
                if line.startswith(('flags', 'Features')):
                    return frozenset(line.split(':', 1)[1].split())
    except OSError:
        pass
    return frozenset()


def matrix_units(flags: Optional[FrozenSet[str]] = None) -> List[str]:
    """The CPU's matrix/vector units among :data:`MATRIX_UNITS` (``flags``: default
    :func:`cpu_flags`)."""
    flags = cpu_flags() if flags is None else flags
    return [unit for unit in MATRIX_UNITS if unit in flags]


def cpu_has_bf16_units(flags: Optional[FrozenSet[str]] = None) -> bool:
    """Whether this CPU computes bf16 natively (so bf16 is faster than float32 on it).

    With ``flags`` given, those decide (:data:`BF16_CPU_FLAGS`). Otherwise PyTorch's cpuinfo
    answers first (``torch.cpu._is_avx512_bf16_supported`` / ``_is_amx_tile_supported``), then
    the kernel's ``/proc/cpuinfo`` flags. AVX-512 without the BF16 extension emulates bf16
    through float32 conversions and is slower than float32, so it counts as no.
    """
    if flags is None:
        for name in ('_is_avx512_bf16_supported', '_is_amx_tile_supported'):
            check = getattr(torch.cpu, name, None)
            if check is not None and check():
                return True
        flags = cpu_flags()
    return bool(BF16_CPU_FLAGS & set(flags))
