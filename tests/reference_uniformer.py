"""Independent functional reference of the official UniFormer classifiers (image and video).

Written from the architecture of the official release (Sense-X/UniFormer
image_classification/models/uniformer.py and video_classification/slowfast/models/
uniformer.py) and the paper (arXiv 2201.09450, section 3), on plain
``torch.nn.functional`` calls over a state dict in the **official** key layout. It stands
in for the official implementation, which the project does not vendor, so that tests can
check that converted checkpoints reproduce the official outputs. It deliberately does
not import ``mmuniformer``.

Layouts: images ``(B, C, H, W)``, video ``(B, C, T, H, W)``; tokens ``(B, N, C)`` with
``N = H * W`` (``T * H * W``).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

StateDict = Dict[str, torch.Tensor]

PLAIN_LN_EPS = 1e-5  # patch-embedding LayerNorm (torch default)
GLOBAL_LN_EPS = 1e-6  # LayerNorms of the global blocks
BN_EPS = 1e-5


# ----------------------------------------------------------------------------- shapes
def official_shapes(depths: Sequence[int],
                    dims: Sequence[int] = (64, 128, 320, 512),
                    stem: str = 'plain',
                    layer_scale_stages: Sequence[int] = (),
                    num_classes: int = 1000,
                    mlp_ratio: float = 4.,
                    aux_head: bool = False,
                    in_chans: int = 3) -> Dict[str, Tuple[int, ...]]:
    """Shapes of an official UniFormer image-classifier state dict.

    ``stem``: ``'plain'`` (conv k=s=4/2 + LayerNorm), ``'conv'`` (S-dagger: the
    overlapped conv stem at stage 1 and conv3x3-s2 + BN at stages 2-4) or
    ``'light'`` (conv stem at stage 1 only). ``layer_scale_stages`` are 0-based;
    local blocks store ``gamma`` as ``(1, C, 1, 1)``, global blocks as ``(C,)``.
    """
    shapes: Dict[str, Tuple[int, ...]] = {}

    def bn(prefix: str, c: int) -> None:
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{prefix}.{name}'] = (c, )
        shapes[f'{prefix}.num_batches_tracked'] = ()

    def conv(prefix: str, cout: int, cin: int, k: int, bias: bool = True) -> None:
        shapes[f'{prefix}.weight'] = (cout, cin, k, k)
        if bias:
            shapes[f'{prefix}.bias'] = (cout, )

    def linear(prefix: str, cout: int, cin: int) -> None:
        shapes[f'{prefix}.weight'] = (cout, cin)
        shapes[f'{prefix}.bias'] = (cout, )

    cins = [in_chans] + list(dims[:3])
    for i, (cin, c) in enumerate(zip(cins, dims)):
        p = f'patch_embed{i + 1}'
        if stem == 'conv' or (stem == 'light' and i == 0):
            if i == 0:
                conv(f'{p}.proj.0', c // 2, cin, 3)
                bn(f'{p}.proj.1', c // 2)
                conv(f'{p}.proj.3', c, c // 2, 3)
                bn(f'{p}.proj.4', c)
            else:
                conv(f'{p}.proj.0', c, cin, 3)
                bn(f'{p}.proj.1', c)
        else:
            conv(f'{p}.proj', c, cin, 4 if i == 0 else 2)
            shapes[f'{p}.norm.weight'] = (c, )
            shapes[f'{p}.norm.bias'] = (c, )
    for i, (depth, c) in enumerate(zip(depths, dims)):
        hidden = int(c * mlp_ratio)
        for j in range(depth):
            p = f'blocks{i + 1}.{j}'
            shapes[f'{p}.pos_embed.weight'] = (c, 1, 3, 3)
            shapes[f'{p}.pos_embed.bias'] = (c, )
            if i < 2:
                bn(f'{p}.norm1', c)
                conv(f'{p}.conv1', c, c, 1)
                shapes[f'{p}.attn.weight'] = (c, 1, 5, 5)
                shapes[f'{p}.attn.bias'] = (c, )
                conv(f'{p}.conv2', c, c, 1)
                bn(f'{p}.norm2', c)
                conv(f'{p}.mlp.fc1', hidden, c, 1)
                conv(f'{p}.mlp.fc2', c, hidden, 1)
                gamma = (1, c, 1, 1)
            else:
                shapes[f'{p}.norm1.weight'] = (c, )
                shapes[f'{p}.norm1.bias'] = (c, )
                linear(f'{p}.attn.qkv', 3 * c, c)
                linear(f'{p}.attn.proj', c, c)
                shapes[f'{p}.norm2.weight'] = (c, )
                shapes[f'{p}.norm2.bias'] = (c, )
                linear(f'{p}.mlp.fc1', hidden, c)
                linear(f'{p}.mlp.fc2', c, hidden)
                gamma = (c, )
            if i in tuple(layer_scale_stages):
                shapes[f'{p}.gamma_1'] = gamma
                shapes[f'{p}.gamma_2'] = gamma
    bn('norm', dims[-1])
    linear('head', num_classes, dims[-1])
    if aux_head:
        linear('aux_head', num_classes, dims[-1])
    return shapes


def random_official_state_dict(shapes: Dict[str, Tuple[int, ...]], seed: int = 0) -> StateDict:
    """Random weights of the given official shapes, scaled so that every branch
    contributes O(1) (fan-in scaling; positive BN variances; random layer scales)."""
    g = torch.Generator().manual_seed(seed)
    sd: StateDict = {}
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            sd[key] = torch.tensor(int(torch.randint(0, 1000, (1, ), generator=g)))
        elif key.endswith('running_var'):
            sd[key] = torch.rand(shape, generator=g) + 0.5
        elif key.endswith('running_mean'):
            sd[key] = torch.randn(shape, generator=g) * 0.1
        elif key.endswith('.bias'):
            sd[key] = torch.randn(shape, generator=g) * 0.05
        elif '.gamma_' in key:
            sd[key] = torch.rand(shape, generator=g) + 0.25
        elif len(shape) == 1:  # norm weights
            sd[key] = 1 + torch.randn(shape, generator=g) * 0.1
        else:
            fan_in = 1
            for s in shape[1:]:
                fan_in *= s
            sd[key] = torch.randn(shape, generator=g) / fan_in**0.5
    return sd


# ----------------------------------------------------------------------------- forward
def _bn(sd: StateDict, p: str, x: torch.Tensor) -> torch.Tensor:
    return F.batch_norm(x, sd[f'{p}.running_mean'], sd[f'{p}.running_var'], sd[f'{p}.weight'],
                        sd[f'{p}.bias'], training=False, eps=BN_EPS)


def _conv(sd: StateDict, p: str, x: torch.Tensor, stride=1, padding=0,
          groups: int = 1) -> torch.Tensor:
    """2-D or 3-D convolution, after the dimension of the stored kernel."""
    conv = F.conv3d if sd[f'{p}.weight'].dim() == 5 else F.conv2d
    return conv(x, sd[f'{p}.weight'], sd.get(f'{p}.bias'), stride, padding, 1, groups)


def _linear(sd: StateDict, p: str, x: torch.Tensor) -> torch.Tensor:
    return F.linear(x, sd[f'{p}.weight'], sd[f'{p}.bias'])


def _ln(sd: StateDict, p: str, x: torch.Tensor, eps: float = GLOBAL_LN_EPS) -> torch.Tensor:
    """LayerNorm over the last dimension (tokens ``(B, N, C)``)."""
    return F.layer_norm(x, x.shape[-1:], sd[f'{p}.weight'], sd[f'{p}.bias'], eps)


def _ln_channels(sd: StateDict, p: str, x: torch.Tensor, eps: float) -> torch.Tensor:
    """LayerNorm over the channels of a ``(B, C, *S)`` map (channels-last)."""
    return _ln(sd, p, x.movedim(1, -1), eps).movedim(-1, 1)


def _gamma(sd: StateDict, p: str, which: int, x: torch.Tensor) -> torch.Tensor:
    key = f'{p}.gamma_{which}'
    return x * sd[key] if key in sd else x


def _embed(sd: StateDict, i: int, x: torch.Tensor) -> torch.Tensor:
    p = f'patch_embed{i + 1}'
    if f'{p}.proj.weight' in sd:  # plain: conv k = s, then LayerNorm over channels
        k = sd[f'{p}.proj.weight'].shape[-1]
        return _ln_channels(sd, f'{p}.norm', _conv(sd, f'{p}.proj', x, stride=k), PLAIN_LN_EPS)
    x = _bn(sd, f'{p}.proj.1', _conv(sd, f'{p}.proj.0', x, stride=2, padding=1))
    if f'{p}.proj.3.weight' in sd:  # overlapped conv stem
        x = F.gelu(x)
        x = _bn(sd, f'{p}.proj.4', _conv(sd, f'{p}.proj.3', x, stride=2, padding=1))
    return x


def _local_block(sd: StateDict, p: str, x: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    x = x + _conv(sd, f'{p}.pos_embed', x, padding=1, groups=c)
    y = _conv(sd, f'{p}.conv1', _bn(sd, f'{p}.norm1', x))
    y = _conv(sd, f'{p}.conv2', _conv(sd, f'{p}.attn', y, padding=2, groups=c))
    x = x + _gamma(sd, p, 1, y)
    y = _conv(sd, f'{p}.mlp.fc2', F.gelu(_conv(sd, f'{p}.mlp.fc1', _bn(sd, f'{p}.norm2', x))))
    return x + _gamma(sd, p, 2, y)


def _attention(sd: StateDict, p: str, x: torch.Tensor, head_dim: int) -> torch.Tensor:
    b, n, c = x.shape
    heads = c // head_dim
    qkv = _linear(sd, f'{p}.qkv', x).reshape(b, n, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]  # (B, heads, N, head_dim)
    logits = torch.matmul(q, k.transpose(-2, -1)) * head_dim**-0.5
    weights = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
    weights = weights / weights.sum(dim=-1, keepdim=True)
    out = torch.matmul(weights, v).transpose(1, 2).reshape(b, n, c)
    return _linear(sd, f'{p}.proj', out)


def _global_block(sd: StateDict, p: str, x: torch.Tensor, head_dim: int) -> torch.Tensor:
    b, c, h, w = x.shape
    x = x + _conv(sd, f'{p}.pos_embed', x, padding=1, groups=c)
    t = x.flatten(2).transpose(1, 2)  # (B, N, C)
    t = t + _gamma(sd, p, 1, _attention(sd, f'{p}.attn', _ln(sd, f'{p}.norm1', t), head_dim))
    y = _linear(sd, f'{p}.mlp.fc2', F.gelu(_linear(sd, f'{p}.mlp.fc1', _ln(sd, f'{p}.norm2', t))))
    t = t + _gamma(sd, p, 2, y)
    return t.transpose(1, 2).reshape(b, c, h, w)


def reference_features(state_dict: StateDict, x: torch.Tensor, depths: Sequence[int],
                       head_dim: int = 64) -> torch.Tensor:
    """Official ``forward_features``: four stages then the final BatchNorm, ``(B, C4, H/32, W/32)``."""
    sd = state_dict
    for i, depth in enumerate(depths):
        x = _embed(sd, i, x)
        for j in range(depth):
            p = f'blocks{i + 1}.{j}'
            x = _local_block(sd, p, x) if i < 2 else _global_block(sd, p, x, head_dim)
    return _bn(sd, 'norm', x)


def reference_forward(state_dict: StateDict,
                      x: torch.Tensor,
                      depths: Sequence[int],
                      head_dim: int = 64,
                      conv_stem: Optional[bool] = None,
                      aux_weight: float = 0.5) -> torch.Tensor:
    """Logits ``(B, num_classes)`` of the official image classifier in eval mode.

    Args:
        state_dict: official keys (``patch_embed*``, ``blocks*``, ``norm``, ``head``
            and optionally ``aux_head``), unwrapped from ``{'model': ...}``.
        x: images ``(B, 3, H, W)``.
        depths: blocks per stage; checked against the state dict.
        head_dim: channels per attention head of the global blocks.
        conv_stem: if given, checked against the stage-1 embedding in the state dict.
        aux_weight: token-labeling models (with ``aux_head``) score
            ``head(pooled) + aux_weight * max over tokens of aux_head(tokens)``.
    """
    sd = state_dict
    for i, depth in enumerate(depths):
        have = len({k.split('.')[1] for k in sd if k.startswith(f'blocks{i + 1}.')})
        if have != depth:
            raise ValueError(f'state dict has {have} blocks in stage {i + 1}, expected {depth}')
    if conv_stem is not None and conv_stem != ('patch_embed1.proj.0.weight' in sd):
        raise ValueError(f'conv_stem={conv_stem} does not match the state dict')
    feats = reference_features(sd, x, depths, head_dim)
    logits = _linear(sd, 'head', feats.flatten(2).mean(-1))
    if 'aux_head.weight' in sd:
        aux = _linear(sd, 'aux_head', feats.flatten(2).transpose(1, 2))  # (B, N, classes)
        logits = logits + aux_weight * aux.max(dim=1)[0]
    return logits


# ----------------------------------------------------------------------------- video
def official_video_shapes(depths: Sequence[int], dims: Sequence[int], num_classes: int = 400,
                          split: bool = False, std: bool = False) -> Dict[str, Tuple[int, ...]]:
    """Shapes of an official video state dict (video_classification/slowfast/models/
    uniformer.py): the image keys with 5-D kernels (stage-1 embed 3x4x4, stages 2-4 1x2x2,
    or 3x2x2 with ``std``, DPE 3x3x3, local MHRA 5x5x5, 1x1x1 point-wise convs) plus
    ``t_norm``/``t_attn`` in the global blocks with ``split``."""
    shapes = {}
    for key, shape in official_shapes(depths, dims, num_classes=num_classes).items():
        if len(shape) == 4:
            if key.startswith('patch_embed'):
                kt = 3 if key.startswith('patch_embed1') or std else 1
            else:
                kt = shape[2]  # cubic kernels: DPE 3x3x3, local 5x5x5, point-wise 1x1x1
            shape = shape[:2] + (kt, ) + shape[2:]
        shapes[key] = shape
    if split:
        for i in (2, 3):
            c = dims[i]
            for j in range(depths[i]):
                p = f'blocks{i + 1}.{j}'
                shapes.update({f'{p}.t_norm.weight': (c, ), f'{p}.t_norm.bias': (c, ),
                               f'{p}.t_attn.qkv.weight': (3 * c, c), f'{p}.t_attn.qkv.bias': (3 * c, ),
                               f'{p}.t_attn.proj.weight': (c, c), f'{p}.t_attn.proj.bias': (c, )})
    return shapes


def reference_video_forward(sd: StateDict, x: torch.Tensor, depths: Sequence[int],
                            head_dim: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Official video classifier in eval mode on ``(B, 3, T, H, W)``: returns the
    final features ``(B, C4, T', H/32, W/32)`` and the logits ``(B, num_classes)``.

    Global blocks with ``t_attn`` keys are the "split" blocks: attention over T per
    location, then over H*W per frame with the residual from before the temporal step.
    """
    for i, depth in enumerate(depths):
        p = f'patch_embed{i + 1}'
        kt = sd[f'{p}.proj.weight'].shape[2]
        x = _conv(sd, f'{p}.proj', x, stride=(2, 4, 4) if i == 0 else (1, 2, 2), padding=(kt // 2, 0, 0))
        x = _ln_channels(sd, f'{p}.norm', x, PLAIN_LN_EPS)
        for j in range(depth):
            p = f'blocks{i + 1}.{j}'
            if i < 2:
                x = _local_block(sd, p, x)
                continue
            c = x.shape[1]
            x = x + _conv(sd, f'{p}.pos_embed', x, padding=1, groups=c)
            b, _, t, h, w = x.shape
            thwc = x.permute(0, 2, 3, 4, 1)  # (B, T, H, W, C)
            if f'{p}.t_attn.qkv.weight' in sd:
                seq = thwc.permute(0, 2, 3, 1, 4).reshape(b * h * w, t, c)
                seq = seq + _attention(sd, f'{p}.t_attn', _ln(sd, f'{p}.t_norm', seq), head_dim)
                frames = seq.reshape(b, h, w, t, c).permute(0, 3, 1, 2, 4).reshape(b * t, h * w, c)
                tok = thwc.reshape(b * t, h * w, c) + _attention(
                    sd, f'{p}.attn', _ln(sd, f'{p}.norm1', frames), head_dim)
                tok = tok.reshape(b, t * h * w, c)
            else:  # joint attention over T*H*W tokens
                tok = thwc.reshape(b, t * h * w, c)
                tok = tok + _attention(sd, f'{p}.attn', _ln(sd, f'{p}.norm1', tok), head_dim)
            hidden = F.gelu(_linear(sd, f'{p}.mlp.fc1', _ln(sd, f'{p}.norm2', tok)))
            tok = tok + _linear(sd, f'{p}.mlp.fc2', hidden)
            x = tok.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)
    feats = _bn(sd, 'norm', x)
    return feats, _linear(sd, 'head', feats.flatten(2).mean(-1))
