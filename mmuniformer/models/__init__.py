"""Models. The backbones need only torch, mmengine and mmcv; the heads and classifiers
that extend one library (``heads``, ``classifiers``: mmpretrain) are imported by
:mod:`mmuniformer.registry` when that library is in use, or directly by the user."""
from .backbones import *  # noqa: F401,F403
