"""mmuniformer's registries.

Our modules live in registries of scope ``mmuniformer`` whose parents are
mmengine's root registries. Every OpenMMLab 2.0 library's registry shares that
root, so any of them builds our modules by their scoped name, e.g.
``dict(type='mmuniformer.UniFormer')`` inside an mmdet, mmseg, mmaction2,
mmpretrain or mmpose config. Nothing is written into the libraries' own
registries, so mmaction2's built-in ``UniFormer`` stays what it is.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='mmuniformer',
                  locations=['mmuniformer.models'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='mmuniformer',
                      locations=['mmuniformer.datasets'])
