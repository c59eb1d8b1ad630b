"""What this machine's CPU is (no TensorFlow import): for the records and the reproduce report."""
import os
import platform


def cpu_info():
    """{'model': ..., 'cores': n, 'flags': set(), 'mhz': float or None} of this machine's CPU,
    from /proc/cpuinfo (the first processor's entries)."""
    model, flags, mhz = None, None, None
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                key, value = key.strip(), value.strip()
                if key == 'model name' and value and model is None:
                    model = value
                elif key == 'flags' and flags is None:
                    flags = set(value.split())
                elif key == 'cpu MHz' and mhz is None:
                    try:
                        mhz = float(value)
                    except ValueError:
                        pass
    except OSError:
        pass
    return {'model': model or platform.processor() or platform.machine(),
            'cores': os.cpu_count(), 'flags': flags or set(), 'mhz': mhz}


#: (lscpu flag, name): the widest vector unit first found, then the bfloat16 units
WIDEST = (('avx512f', 'AVX-512'), ('avx2', 'AVX2'))
BFLOAT16 = (('avx512_bf16', 'AVX512_BF16'), ('amx_bf16', 'AMX'))


def vector_units(info=None):
    """The CPU's widest vector unit and its bfloat16 units, e.g. ``['AVX-512', 'AVX512_BF16']``
    or ``['AVX2']``: AMD EPYC VMs of either kind carry the same model name."""
    flags = (info or cpu_info())['flags']
    widest = [name for flag, name in WIDEST if flag in flags][:1]
    return widest + [name for flag, name in BFLOAT16 if flag in flags]


def cpu_label(model, units):
    """``'AMD EPYC (AVX-512, AVX512_BF16)'``: the model and its units, as records show it."""
    return '%s (%s)' % (model, ', '.join(units)) if units else model


def record_machine(record):
    """Where a benchmark record was timed: its GPUs' names, or its CPU's model and vector
    units (AMD EPYC VMs with AVX2 only and with AVX-512 carry the same model name and differ
    3-4x in these nets' speed)."""
    if record.get('device') != 'cpu':
        return ', '.join(record.get('device_names') or []) or record['device'].upper()
    return cpu_label(record.get('cpu_model') or 'CPU', record.get('vector_units') or [])


def cpu_peak_gflops(info=None):
    """Float32 peak of this CPU: cores x clock x FLOPs per cycle (FMA: 2 x the SIMD lanes)."""
    info = info or cpu_info()
    flags = info['flags']
    lanes = 16 if 'avx512f' in flags else 8 if 'avx2' in flags else 4
    per_cycle = lanes * (4 if 'fma' in flags else 2)  # two FMA units of `lanes` floats
    return (info['cores'] or 1) * (info['mhz'] or 3500.0) / 1000.0 * per_cycle
