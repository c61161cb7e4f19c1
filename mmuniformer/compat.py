"""Compatibility of mmengine 0.10 checkpoints with torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7 (the
newest release) saves its message hub in every checkpoint, with ``HistoryBuffer``
objects that pickle bound methods through ``getattr``; the weights-only unpickler
rejects them, so ``mim test --checkpoint`` and ``--resume`` fail on checkpoints that
mmengine itself wrote. Allowlisting ``getattr`` would open the weights-only loader
to arbitrary calls, so instead mmengine's loader for local files gets torch's
pre-2.6 behaviour back, explicitly: the trust model mmengine was written for
(load only checkpoints you trust). Remote and other schemes are untouched.
"""
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def load_local_checkpoint(filename: str, map_location: Optional[Union[str, torch.device]] = None
                          ) -> dict:
    """mmengine's local-file checkpoint loader with ``weights_only=False`` made explicit."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def allow_mmengine_checkpoints() -> None:
    """Install :func:`load_local_checkpoint` as mmengine's loader for local paths."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
