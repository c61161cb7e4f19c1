"""Export the model of a config to ONNX with a dynamic batch axis, and check it with onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG [--checkpoint CKPT] [--out model.onnx]
        [--part auto|classifier|recognizer|backbone] [--shape S | H W | T H W] [--batch 2]
        [--opset 17] [--verify] [--cfg-options KEY=VALUE ...]

What is exported (``--part auto`` picks by the config's library,
:attr:`mmuniformer.libraries.Library.export_part`):

* ``classifier`` (mmpretrain): ``model(inputs, mode='tensor')``, input ``(B, 3, H, W)`` normalised
  pixels, output the class logits ``(B, K)`` (softmax them for scores);
* ``recognizer`` (mmaction2): backbone + ``cls_head`` of one clip, input ``(B, 3, T, H, W)``,
  output the class logits ``(B, K)``;
* ``backbone`` (mmdet, mmseg, mmpose, or any config): ``model.backbone(inputs)``, one output per
  returned stage ``(B, C_i, H_i, W_i)``; the window and hybrid stage-3 modes included.

Data preprocessing (mean / std, BGR -> RGB) is not part of the graph: feed normalised inputs.
Only the batch axis is dynamic; the spatial (and temporal) size is the one exported (``--shape``,
default the config's test-pipeline size), because the window partition, its padding and the
light models' number of kept tokens are computed from it. Detection / segmentation heads (RoI
ops, NMS, mmseg's resize to the original image) are not exported.

Attention runs its explicit ``softmax(q k^T) v`` path in the graph (the same numbers as the
fused kernel, which the TorchScript exporter handles less uniformly across opsets).
``--verify`` runs the ONNX file with onnxruntime at batch ``--batch`` and ``--batch + 1`` and
compares it with PyTorch (exit status 1 if the max abs difference exceeds ``--atol``).
"""
import argparse
import contextlib
import os.path as osp
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import DictAction
from mmengine.logging import MMLogger

try:
    import mmuniformer  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    import mmuniformer  # noqa: F401
from mmuniformer.apis import build_model_from_config, input_shape_from_config
from mmuniformer.libraries import BACKBONE, BY_SCOPE, LIBRARIES, flatten_tensors
from mmuniformer.models.layers import fused_kernels

#: the parts that can be exported: a library's own (its class logits) and the backbone
EXPORT_PARTS = {lib.export_part: lib for lib in LIBRARIES if lib.export_part != 'backbone'}
PARTS = ('auto', *EXPORT_PARTS, 'backbone')
DEFAULT_SIZE = 224
DEFAULT_FRAMES = 8


class ExportWrapper(nn.Module):
    """``forward(x)`` = ``fn(model, x)`` as a tuple of tensors (what the exporter needs)."""

    def __init__(self, model: nn.Module, fn: Callable[[nn.Module, torch.Tensor], Any]) -> None:
        super().__init__()
        self.model = model
        self._fn = fn

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return flatten_tensors(self._fn(self.model, x))


def resolve_part(part: str, scope: str) -> str:
    """The exported part for ``--part`` (``auto``: by the config's ``default_scope``)."""
    if part not in PARTS:
        raise ValueError(f'unknown part {part!r}; choose one of {PARTS}')
    if part != 'auto':
        return part
    lib = BY_SCOPE.get(scope)
    return lib.export_part if lib is not None else 'backbone'


def export_fn(part: str, scope: str) -> Callable[[nn.Module, torch.Tensor], Any]:
    """The forward of ``part``: the class logits of a classifier (``(B, 3, H, W)`` -> ``(B,
    K)``) or a recogniser (``(B, 3, T, H, W)``, one clip each), else ``model.backbone``; refuses
    parts the config's library does not have."""
    if part == 'backbone':
        return BACKBONE.fn
    lib = EXPORT_PARTS[part]
    if scope != lib.scope:
        raise ValueError(f"--part {part} needs an {lib.package} config (default_scope "
                         f"'{lib.scope}'); this config's scope is {scope!r}: use --part backbone")
    return lib.logits


def input_size(shape: Optional[Sequence[int]], cfg: Any, video: bool) -> Tuple[int, ...]:
    """``(H, W)`` or ``(T, H, W)`` from ``--shape``, else the config's test pipeline."""
    frames, hw = input_shape_from_config(cfg)
    if shape:
        if len(shape) not in (1, 2, 3) or any(s < 1 for s in shape):
            raise ValueError(f'--shape takes 1, 2 or 3 positive integers (S, H W or T H W), '
                             f'got {list(shape)}')
        size = tuple(shape) * 2 if len(shape) == 1 else tuple(shape)
    else:
        size = hw or (DEFAULT_SIZE, DEFAULT_SIZE)
    if video and len(size) == 2:
        size = (frames or DEFAULT_FRAMES, ) + size
    if not video and len(size) == 3:
        raise ValueError(f'--shape {list(shape)} has a time axis, but this model takes images')
    return size


def _contiguous_symbolic(g: Any, x: Any, memory_format: Any) -> Any:
    """``x.contiguous(memory_format=...)`` in ONNX: the identity. ONNX tensors have no memory
    layout, while torch's own symbolic refuses any format but the default (the backbones keep
    their maps channels-last on CPU)."""
    return x


def _movedim_symbolic(g: Any, x: Any, source: Any, destination: Any) -> Any:
    """``x.movedim(source, destination)`` as one ONNX ``Transpose``, negative dims included
    (torch's TorchScript symbolic writes them into ``perm`` unnormalised, which ONNX
    refuses)."""
    from torch.onnx import symbolic_helper
    rank = symbolic_helper._get_tensor_rank(x)
    if rank is None:
        raise RuntimeError('movedim needs an input of known rank to be exported')
    src, dst = ([int(d) % rank
                 for d in torch.as_tensor(symbolic_helper._maybe_get_const(v, 't')).flatten()]
                for v in (source, destination))
    perm = [-1] * rank
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(rank) if i not in src)
    perm = [p if p >= 0 else next(rest) for p in perm]
    return g.op('Transpose', x, perm_i=perm)


# aten op -> symbolic replacing torch's own during the export
_SYMBOLICS = {'aten::contiguous': _contiguous_symbolic, 'aten::movedim': _movedim_symbolic}


@contextlib.contextmanager
def _export_symbolics(opset: int) -> Iterator[None]:
    for name, fn in _SYMBOLICS.items():
        torch.onnx.register_custom_op_symbolic(name, fn, opset)
    try:
        yield
    finally:
        for name in _SYMBOLICS:
            torch.onnx.unregister_custom_op_symbolic(name, opset)


def export_onnx(model: nn.Module, fn: Callable[[nn.Module, torch.Tensor], Any],
                example: torch.Tensor, out: str, opset: int = 17) -> List[str]:
    """Export ``fn(model, x)`` to ``out`` with a dynamic batch; returns the output names.

    ``example``: ``(B, C, ...)``; use B >= 2 so that no size-1 batch gets folded away.
    """
    wrapper = ExportWrapper(model, fn).eval()
    with torch.no_grad(), fused_kernels(model, False, 'attention'), _export_symbolics(opset):
        n_out = len(wrapper(example))
        names = ['output'] if n_out == 1 else [f'output{i}' for i in range(n_out)]
        axes: Dict[str, Dict[int, str]] = {n: {0: 'batch'} for n in ['input', *names]}
        torch.onnx.export(wrapper, (example, ), out, input_names=['input'], output_names=names,
                          dynamic_axes=axes, opset_version=opset, do_constant_folding=True,
                          dynamo=False)
    return names


def torch_outputs(model: nn.Module, fn: Callable[[nn.Module, torch.Tensor], Any],
                  x: torch.Tensor) -> List[np.ndarray]:
    """PyTorch reference outputs of ``fn(model, x)`` (eval mode, fused attention as trained)."""
    with torch.no_grad():
        return [t.numpy() for t in ExportWrapper(model, fn).eval()(x)]


def onnx_outputs(path: str, x: np.ndarray) -> List[np.ndarray]:
    """Outputs of the ONNX file ``path`` on ``x`` with onnxruntime's CPU provider."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    return session.run(None, {'input': x.astype(np.float32)})


def max_abs_diff(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Largest absolute difference over matching outputs (shapes must agree)."""
    if len(a) != len(b):
        raise AssertionError(f'{len(a)} outputs against {len(b)}')
    for x, y in zip(a, b):
        if x.shape != y.shape:
            raise AssertionError(f'output shapes differ: {x.shape} against {y.shape}')
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint (state_dict of the whole model); '
                        'default: the initial weights')
    parser.add_argument('--out', default=None, help='ONNX file (default: <config stem>.onnx)')
    parser.add_argument('--part', default='auto', choices=PARTS, help='what to export')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='S, H W, or T H W for video (default: the test pipeline size)')
    parser.add_argument('--batch', type=int, default=2, help='example batch (>= 2)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset')
    parser.add_argument('--verify', action='store_true',
                        help='compare onnxruntime with PyTorch at two batch sizes')
    parser.add_argument('--atol', type=float, default=1e-4, help='--verify tolerance')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    logger = MMLogger.get_current_instance()
    if args.batch < 2:
        raise SystemExit(f'--batch must be >= 2 (a batch of 1 can be folded into the graph), '
                         f'got {args.batch}')
    model, cfg, scope = build_model_from_config(args.config, args.cfg_options)
    if args.checkpoint:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    try:
        part = resolve_part(args.part, scope)
        fn = export_fn(part, scope)
        video = part == 'recognizer' or getattr(getattr(model, 'backbone', None), 'ndim', 2) == 3
        size = input_size(args.shape, cfg, video)
    except ValueError as err:
        raise SystemExit(str(err))
    out = args.out or osp.splitext(osp.basename(args.config))[0] + '.onnx'
    gen = torch.Generator().manual_seed(0)
    example = torch.randn(args.batch, 3, *size, generator=gen)
    names = export_onnx(model, fn, example, out, args.opset)
    logger.info(f'exported {part} of {args.config} ({scope}) to {out}: input (batch, 3, '
                f'{", ".join(map(str, size))}), outputs {names}, opset {args.opset}')
    print(f'{out}: {part}, input (batch, 3, {", ".join(map(str, size))}), outputs {names}')
    if not args.verify:
        return 0
    worst = 0.
    for batch in (args.batch, args.batch + 1):
        x = torch.randn(batch, 3, *size, generator=gen)
        diff = max_abs_diff(onnx_outputs(out, x.numpy()), torch_outputs(model, fn, x))
        print(f'verify batch {batch}: max |onnxruntime - pytorch| = {diff:.3g}')
        worst = max(worst, diff)
    if worst > args.atol:
        print(f'FAILED: difference {worst:.3g} exceeds --atol {args.atol}')
        return 1
    print('verified')
    return 0


if __name__ == '__main__':
    sys.exit(main())
