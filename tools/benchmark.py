"""Throughput and peak memory of the model a config builds, for inference and a training step.

    python tools/benchmark.py CONFIG [--mode infer train] [--batch-size 8] [--input-size 224]
        [--frames 8] [--dtype auto|fp32|fp16|bf16] [--optimize] [--device cpu|cuda]
        [--channels-last] [--compile] [--warmup 2] [--repeat 10] [--threads N] [--cpu-time]
        [--compare] [--cpu-ghz GHZ] [--json OUT.json] [--cfg-options KEY=VALUE ...]

The model is built from the config with its library's ``MODELS`` registry (any task:
mmpretrain, mmaction2, mmdet, mmseg, mmpose) and fed random inputs ``(B, 3, H, W)`` or
``(B, 3, T, H, W)`` (the data preprocessor is not timed). The timed forward is the most
complete tensor forward of the model (:func:`mmuniformer.libraries.forward_candidates`:
``model(x, mode='tensor')``, mmaction2's ``extract_feat(stage='head')``, else the backbone).
A training step is that forward, ``backward()`` of the mean of its outputs and one step of
the config's optimizer (``optim_wrapper``, built with mmengine). ``--dtype fp16/bf16`` runs
under ``torch.autocast``; the weights stay float32. ``--dtype auto`` picks the dtype
:func:`mmuniformer.apis.auto_dtype` picks for the device (bf16 on CPUs with AMX-BF16 or
AVX512-BF16). ``--optimize`` times inference of :func:`mmuniformer.apis.optimize`'s model
instead (folds done once, weights cast to the dtype, no autocast; with ``--compile`` the
backbone is compiled by it, inductor with freezing); training steps keep autocast.

Each row also reports the achieved GFLOP/s: twice the multiply-adds that
:func:`mmuniformer.analysis.count_params_flops` counts for the timed forward (attention
matmuls included), three times that for a training step (backward ~ twice the forward),
divided by the median time; on CPU also its share of one core's peak for the row's dtype
times the threads (:func:`cpu_peak_gflops`, which states its assumption; the CPU's matrix
units are printed from ``/proc/cpuinfo``).

Peak memory is the largest amount of memory allocated during one timed call above what
was allocated before it: ``torch.cuda.max_memory_allocated`` on CUDA, the CPU allocator's
running total from ``torch.profiler`` (``profile_memory=True``) on CPU.

``--compare`` times, interleaved in the same process (round-robin over ``--repeat``
rounds, so that load changes hit every variant alike), the model with
``F.scaled_dot_product_attention`` and with its explicit ``softmax(q k^T) v`` path, for
inference also with its plain kernels (no folded BatchNorm / DPE, no fused linear + GELU:
:mod:`mmuniformer.models.layers.inference`), and,
for a video ``UniFormer`` backbone, mmaction2's own ``UniFormer`` backbone loaded with the
same weights (both backbones alone), and prints the time ratios.
"""
import argparse
import contextlib
import copy
import json
import os
import os.path as osp
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import DictAction

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.analysis import count_params_flops
from mmuniformer.apis import (auto_dtype, build_model_from_config, cpu_flags,
                              input_shape_from_config, matrix_units, optimize)
from mmuniformer.libraries import flatten_tensors, forward_candidates
from mmuniformer.models.backbones.base import find_uniformer
from mmuniformer.models.layers import fused_kernels

DTYPES = {'fp32': torch.float32, 'fp16': torch.float16, 'bf16': torch.bfloat16}
MODES = ('infer', 'train')


def cpu_peak_gflops(dtype: str, flags: FrozenSet[str], vendor: str, family: int,
                    ghz: float) -> Tuple[Optional[float], str]:
    """One core's peak GFLOP/s for ``dtype`` matmuls on a CPU with ``flags`` at ``ghz``,
    and the assumption in words: FMA width x 2 FMA pipes x 2 FLOPs x clock. AVX-512 FMA:
    16 fp32 lanes (AMD before Zen 5 runs 512-bit ops on 256-bit pipes: 8); AVX2: 8 lanes;
    AVX512-BF16 (``vdpbf16ps``): a pair of bf16 products per fp32 lane, twice the fp32 rate;
    AMX-BF16: 1024 bf16 multiply-adds per cycle per core (Intel's TMUL figure)."""
    amd_256 = vendor == 'AuthenticAMD' and family < 0x1a
    if 'avx512f' in flags:
        lanes, unit = (8, 'avx512f (256-bit pipes)') if amd_256 else (16, 'avx512f')
    elif 'avx2' in flags:
        lanes, unit = 8, 'avx2'
    else:
        return None, 'no AVX2/AVX-512: peak not known'
    fp32 = lanes * 2 * 2
    if dtype == 'bf16' and 'amx_bf16' in flags:
        per_cycle, unit = 2048, 'amx_bf16 (1024 bf16 multiply-adds/cycle)'
    elif dtype == 'bf16' and 'avx512_bf16' in flags:
        per_cycle, unit = 2 * fp32, f'avx512_bf16 (2 x the {unit} fp32 rate)'
    elif dtype == 'fp16' and 'amx_fp16' in flags:
        per_cycle, unit = 2048, 'amx_fp16 (1024 fp16 multiply-adds/cycle)'
    else:
        per_cycle, unit = fp32, f'{unit} fp32 FMA ({lanes} lanes x 2 pipes x 2)'
    return per_cycle * ghz, f'{unit}: {per_cycle} FLOP/cycle x {ghz:.2f} GHz'


def cpu_clock_ghz() -> float:
    """The core's maximum clock from cpufreq, else the clock ``/proc/cpuinfo`` reports (a
    virtual machine's nominal clock: a core that boosts above it shows shares over 100%)."""
    try:
        with open('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq') as f:
            return int(f.read()) / 1e6
    except (OSError, ValueError):
        pass
    info = _cpuinfo_fields()
    try:
        return float(info.get('cpu MHz', '0')) / 1e3 or 1.
    except ValueError:
        return 1.


def _cpuinfo_fields() -> Dict[str, str]:
    fields: Dict[str, str] = {}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if not line.strip():
                    break  # first processor only
                key, _, value = line.partition(':')
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--mode', nargs='+', choices=MODES, default=list(MODES),
                        help='what to time (default: both)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--input-size', type=int, nargs='+', default=None,
                        help='S or H W (default: the test pipeline crop, else 224)')
    parser.add_argument('--frames', type=int, default=None,
                        help='video clip length T (default: the test pipeline clip_len, else 8)')
    parser.add_argument('--dtype', choices=['auto'] + sorted(DTYPES), default='fp32',
                        help='fp16/bf16: torch.autocast around forward (and backward); auto: '
                             "the dtype mmuniformer.apis.optimize's 'auto' picks for the device")
    parser.add_argument('--optimize', action='store_true',
                        help='time inference of mmuniformer.apis.optimize(model, dtype, '
                             'compile) instead of the model under autocast')
    parser.add_argument('--cpu-ghz', type=float, default=None,
                        help='core clock for the peak GFLOP/s (default: cpufreq max, else '
                             '/proc/cpuinfo)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--channels-last', action='store_true',
                        help='model and input in channels-last memory format')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model')
    parser.add_argument('--warmup', type=int, default=2, help='untimed calls first')
    parser.add_argument('--repeat', type=int, default=10, help='timed calls (rounds)')
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads')
    parser.add_argument('--cpu-time', action='store_true',
                        help='time with the process CPU time (time.process_time) instead of '
                             'wall time: steadier on a shared CPU machine; CPU only')
    parser.add_argument('--compare', action='store_true',
                        help='also time the explicit-softmax attention path and, for video, '
                             "mmaction2's UniFormer; print ratios")
    parser.add_argument('--json', default=None, help='write the results to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    args = parser.parse_args(argv)
    for name in ('batch_size', 'repeat'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.input_size is not None and len(args.input_size) not in (1, 2):
        parser.error(f'--input-size takes S or H W, got {args.input_size}')
    if args.frames is not None and args.frames < 1:
        parser.error(f'--frames must be >= 1, got {args.frames}')
    if args.dtype == 'fp16' and not args.device.startswith('cuda') and not args.optimize:
        parser.error('--dtype fp16 autocast needs a CUDA device; on CPU use bf16')
    if args.cpu_time and not args.device.startswith('cpu'):
        parser.error('--cpu-time measures CPU devices only (GPU kernels run asynchronously)')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: CUDA is not available; use --device cpu')
    if args.dtype == 'auto':
        args.dtype = auto_dtype(args.device)
    return args


@dataclass
class Result:
    """One timed variant: times in ms per call, throughput from the median."""
    variant: str
    mode: str
    forward: str
    batch_size: int
    times_ms: List[float]
    peak_mem_mb: Optional[float] = None
    median_ms: float = 0.
    spread_ms: float = 0.
    throughput: float = 0.
    gflops: Optional[float] = None
    peak_share: Optional[float] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def finish(self) -> 'Result':
        self.median_ms = statistics.median(self.times_ms)
        q = statistics.quantiles(self.times_ms, n=4) if len(self.times_ms) > 1 else [self.median_ms] * 3
        self.spread_ms = q[2] - q[0]  # inter-quartile range
        self.throughput = self.batch_size / (self.median_ms / 1e3)
        return self


class Variant:
    """A callable to time: ``run()`` does one inference call or one training step."""

    def __init__(self, name: str, mode: str, forward: str, run: Callable[[], Any],
                 prepare: Callable[[], None] = lambda: None) -> None:
        self.name, self.mode, self.forward, self.run = name, mode, forward, run
        self.prepare = prepare  # before the memory measurement


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def pick_forward(model: nn.Module, x: torch.Tensor) -> Tuple[str, Callable]:
    """The most complete tensor forward that runs on ``x`` (one eval call each)."""
    errors = []
    model.eval()
    for cand in forward_candidates(model):
        try:
            with torch.no_grad():
                if flatten_tensors(cand.fn(model, x)):
                    return cand.description, cand.fn
        except Exception as err:  # noqa: BLE001  try the next, smaller forward
            errors.append(f'{cand.description}: {type(err).__name__}: {err}')
    raise RuntimeError('no forward of the model runs on the benchmark input:\n' + '\n'.join(errors))


def make_variants(name: str, model: nn.Module, fn: Callable, desc: str, x: torch.Tensor,
                  modes: Sequence[str], autocast: Callable, optimizer: Optional[Any],
                  context: Callable) -> List[Variant]:
    """Inference and training-step callables of ``model``; ``context()`` wraps each call
    (e.g. the explicit-attention switch)."""
    variants = []
    if 'infer' in modes:
        def infer() -> Any:
            model.eval()
            with context(), torch.inference_mode(), autocast():
                return fn(model, x)
        variants.append(Variant(name, 'infer', desc, infer))
    if 'train' in modes:
        def train_step() -> None:
            model.train()
            with context():
                optimizer.zero_grad(set_to_none=True)
                with autocast():
                    loss = sum(t.float().mean() for t in flatten_tensors(fn(model, x)))
                loss.backward()
                optimizer.step()
        # gradients freed first: the step's peak includes its gradients, not the last step's
        variants.append(Variant(name, 'train', desc, train_step,
                                lambda: optimizer.zero_grad(set_to_none=True)))
    return variants


def peak_memory_mb(run: Callable[[], Any], device: torch.device) -> float:
    """Peak memory allocated during ``run()`` above what was allocated before it."""
    if device.type == 'cuda':
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        run()
        _sync(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    # The profiler's tracing library (kineto) logs its start/stop and, on a CPU-only machine, an
    # "ERROR: gpuGetDeviceCount failed" that is no error; it reads its log level from the
    # environment when first started. Level 6 keeps it quiet unless the user set one.
    os.environ.setdefault('KINETO_LOG_LEVEL', '6')
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == '[memory]']
    current = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        current += event.nbytes()
        peak = max(peak, current)
    return peak / 2**20


def time_variants(variants: List[Variant], batch: int, warmup: int, repeat: int,
                  device: torch.device, clock: Callable[[], float] = time.perf_counter
                  ) -> List[Result]:
    """Warm up every variant, then time them round-robin, ``repeat`` rounds, with
    ``clock`` (seconds)."""
    from mmengine.utils import ProgressBar
    for v in variants:
        for _ in range(warmup):
            v.run()
    times: List[List[float]] = [[] for _ in variants]
    bar = ProgressBar(repeat * len(variants))
    for _ in range(repeat):
        for i, v in enumerate(variants):
            _sync(device)
            start = clock()
            v.run()
            _sync(device)
            times[i].append((clock() - start) * 1e3)
            bar.update()
    sys.stdout.write('\n')
    results = []
    for v, ts in zip(variants, times):
        v.run()  # this variant's steady state (after the others ran)
        v.prepare()
        results.append(Result(v.name, v.mode, v.forward, batch, ts,
                              peak_memory_mb(v.run, device)).finish())
    return results


def to_memory_format(model: nn.Module, fmt: torch.memory_format) -> None:
    """Put the 4-D (``channels_last``) or 5-D (``channels_last_3d``) parameters and buffers
    of ``model`` in ``fmt`` (``Module.to`` refuses models that mix both ranks)."""
    rank = 4 if fmt == torch.channels_last else 5
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.dim() == rank:
                t.data = t.data.contiguous(memory_format=fmt)


def mmaction_uniformer(backbone: nn.Module) -> Optional[nn.Module]:
    """mmaction2's built-in ``UniFormer`` with ``backbone``'s weights, or None when
    ``backbone`` is not a plain video UniFormer that model can express."""
    from mmuniformer.models.backbones import UniFormer
    if not isinstance(backbone, UniFormer) or backbone.ndim != 3:
        return None
    if (backbone.split or backbone.std or backbone.arch['stem'] != 'plain'
            or backbone.arch['layer_scale_stages'] or backbone.temporal_stride != 2
            or backbone.out_norm != 'bn'):
        return None
    try:
        from mmaction.models.backbones.uniformer import UniFormer as MMAUniFormer
    except ImportError:
        return None
    from mmuniformer.checkpoint import ours_to_official
    arch = backbone.arch
    theirs = MMAUniFormer(depth=list(arch['depths']), embed_dim=list(arch['embed_dims']),
                          head_dim=arch['head_dim'], mlp_ratio=arch['mlp_ratio'],
                          pretrained=None, init_cfg=None)
    state = ours_to_official(backbone.state_dict()).state
    theirs.load_state_dict(state, strict=True)
    return theirs


def run(args: argparse.Namespace) -> Dict[str, Any]:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model, cfg, scope = build_model_from_config(args.config, args.cfg_options)
    _, backbone = find_uniformer(model)
    ndim = getattr(backbone, 'ndim', 2)
    frames, hw = input_shape_from_config(cfg)
    if args.input_size:
        hw = tuple(args.input_size) * (2 if len(args.input_size) == 1 else 1)
    hw = hw or (224, 224)
    shape = (args.batch_size, 3) + ((args.frames or frames or 8, ) if ndim == 3 else ()) + tuple(hw)
    if ndim == 2 and args.frames:
        raise SystemExit(f'--frames is for video models; {args.config} builds an image model')
    x = torch.randn(shape, device=device)
    model.to(device)
    fmt = None
    if args.channels_last:
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        to_memory_format(model, fmt)
        x = x.contiguous(memory_format=fmt)
    desc, fn = pick_forward(model, x)
    call = fn
    if args.compile and not args.optimize:
        compiled = torch.compile(model)
        call = lambda m, inp: fn(compiled, inp)  # noqa: E731
    dtype = DTYPES[args.dtype]

    def autocast() -> Any:
        return torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)

    optimizer = None
    if 'train' in args.mode:
        from mmengine.optim import build_optim_wrapper
        optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    name = 'ours (sdpa)' if args.compare else 'ours'
    variants = []
    if args.optimize and 'infer' in args.mode:
        fast = optimize(copy.deepcopy(model), dtype, compile=args.compile)
        no_autocast = contextlib.nullcontext
        label = f"ours optimize({args.dtype}{', compile' if args.compile else ''})"
        variants += make_variants(label, fast, fn, desc, x, ['infer'], no_autocast, None,
                                  contextlib.nullcontext)
    modes = [m for m in args.mode if not (args.optimize and m == 'infer' and not args.compare)]
    variants += make_variants(name, model, call, desc, x, modes, autocast, optimizer,
                              contextlib.nullcontext)
    notes = []
    if args.compare:
        variants += make_variants('ours (explicit softmax)', model, call, desc, x, args.mode,
                                  autocast, optimizer,
                                  lambda: fused_kernels(model, False, 'attention'))
        if 'infer' in args.mode:  # the inference kernels never run in a training step
            variants += make_variants('ours (plain kernels)', model, call, desc, x, ['infer'],
                                      autocast, optimizer,
                                      lambda: fused_kernels(model, False, 'inference'))
        theirs = mmaction_uniformer(backbone) if backbone is not None else None
        if theirs is not None:
            theirs.to(device)
            if fmt is not None:
                to_memory_format(theirs, fmt)
            opt2 = opt_b = None
            if 'train' in args.mode:
                from mmengine.optim import build_optim_wrapper
                opt2 = build_optim_wrapper(theirs, cfg.optim_wrapper).optimizer
                opt_b = build_optim_wrapper(backbone, cfg.optim_wrapper).optimizer
            back = lambda m, inp: m(inp)  # noqa: E731
            variants += make_variants('ours backbone', backbone, back, 'backbone(inputs)', x,
                                      args.mode, autocast, opt_b, contextlib.nullcontext)
            variants += make_variants('mmaction2 UniFormer backbone', theirs, back,
                                      'backbone(inputs)', x, args.mode, autocast, opt2,
                                      contextlib.nullcontext)
        elif ndim == 3:
            notes.append("mmaction2's UniFormer covers the plain video UniFormer only "
                         '(no split/std/conv stem/light models): not compared')
    clock = time.process_time if args.cpu_time else time.perf_counter
    results = time_variants(variants, args.batch_size, args.warmup, args.repeat, device, clock)
    peak, peak_note = add_gflops(results, model, fn, x, args)
    notes += peak_note
    ratios = {}
    if args.compare:
        by = {(r.variant, r.mode): r for r in results}
        for mode in args.mode:
            base = by.get(('ours (sdpa)', mode))
            other = by.get(('ours (explicit softmax)', mode))
            if base and other:
                ratios[f'{mode}: explicit / sdpa time'] = other.median_ms / base.median_ms
            plain = by.get(('ours (plain kernels)', mode))
            if base and plain:
                ratios[f'{mode}: plain kernels / ours time'] = plain.median_ms / base.median_ms
            ours_b, theirs_b = by.get(('ours backbone', mode)), by.get(
                ('mmaction2 UniFormer backbone', mode))
            if ours_b and theirs_b:
                ratios[f'{mode}: mmaction2 / ours time (speed-up)'] = (
                    theirs_b.median_ms / ours_b.median_ms)
    return dict(config=args.config, scope=scope, input_shape=list(shape), dtype=args.dtype,
                device=str(device), device_name=device_name(device),
                threads=torch.get_num_threads(), channels_last=args.channels_last,
                compile=args.compile, optimize=args.optimize,
                clock='cpu time' if args.cpu_time else 'wall time', torch=torch.__version__,
                matrix_units=matrix_units() if device.type == 'cpu' else [], peak_gflops=peak,
                results=[asdict(r) for r in results], ratios=ratios, notes=notes)


def add_gflops(results: List[Result], model: nn.Module, fn: Callable, x: torch.Tensor,
               args: argparse.Namespace) -> Tuple[Dict[str, float], List[str]]:
    """Fill each result's achieved GFLOP/s (2 FLOPs per multiply-add of the forward, 3x the
    forward for a training step) and, on CPU, its share of the peak of the row's dtype for
    ``args.threads`` cores; returns the peaks by dtype and notes stating them."""
    _, macs = count_params_flops(model, x, fn)
    flops = {'infer': 2. * macs, 'train': 6. * macs}
    peaks: Dict[str, float] = {}
    notes = []
    if args.device.startswith('cpu'):
        info = _cpuinfo_fields()
        try:
            family = int(info.get('cpu family', '0'))
        except ValueError:
            family = 0
        ghz = args.cpu_ghz or cpu_clock_ghz()
        # a row's matmuls run in the dtype of the weights (optimize) or of autocast
        for dtype in {args.dtype, 'fp32'}:
            peak, how = cpu_peak_gflops(dtype, cpu_flags(), info.get('vendor_id', ''), family, ghz)
            if peak is not None:
                peaks[dtype] = peak * torch.get_num_threads()
            threads = f' x {torch.get_num_threads()} threads' if peak else ''
            notes.append(f'peak {dtype}: {how}{threads}')
    for r in results:
        r.gflops = flops[r.mode] / (r.median_ms / 1e3) / 1e9
        peak = peaks.get(args.dtype)
        if peak:
            r.peak_share = r.gflops / peak
    return peaks, notes


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    import platform
    name = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            name = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return name


def format_table(report: Dict[str, Any]) -> str:
    """The results as a text table (mmengine-style), then the ratios."""
    unit = 'clips/s' if len(report['input_shape']) == 5 else 'img/s'
    header = ['variant', 'mode', f'{unit}', 'median ms', 'IQR ms', 'peak MB', 'GFLOP/s',
              '% peak']
    rows = [[r['variant'], r['mode'], f"{r['throughput']:.2f}", f"{r['median_ms']:.1f}",
             f"{r['spread_ms']:.1f}",
             '-' if r['peak_mem_mb'] is None else f"{r['peak_mem_mb']:.0f}",
             '-' if r['gflops'] is None else f"{r['gflops']:.1f}",
             '-' if r['peak_share'] is None else f"{100 * r['peak_share']:.0f}"]
            for r in report['results']]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    fmt_row = lambda row: '| ' + ' | '.join(str(c).ljust(w) for c, w in zip(row, widths)) + ' |'  # noqa
    out = [f"{report['config']}  input {tuple(report['input_shape'])}  {report['dtype']}  "
           f"{report['device']} ({report['device_name']}, {report['threads']} threads)"
           f"{'  channels_last' if report['channels_last'] else ''}"
           f"{'  optimize()' if report['optimize'] else ''}"
           f"{'  compiled' if report['compile'] else ''}  {report['clock']}",
           f"matrix units: {' '.join(report['matrix_units']) or '-'}",
           f"forward: {report['results'][0]['forward']}", line, fmt_row(header), line]
    out += [fmt_row(r) for r in rows] + [line]
    out += [f'{k}: {v:.3f}' for k, v in report['ratios'].items()]
    out += report['notes']
    return '\n'.join(out)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    report = run(args)
    print(format_table(report))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)


if __name__ == '__main__':
    main()
