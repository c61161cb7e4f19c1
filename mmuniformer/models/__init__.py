"""Models. Backbones need only mmengine/mmcv; heads and classifiers extend
mmpretrain and are registered when mmpretrain is installed."""
from importlib.util import find_spec

from .backbones import *  # noqa: F401,F403

if find_spec('mmpretrain') is not None:
    from .classifiers import *  # noqa: F401,F403
    from .heads import *  # noqa: F401,F403
