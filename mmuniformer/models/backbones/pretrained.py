"""Where a missing ``Pretrained`` backbone checkpoint comes from, said before loading fails.

The official release (Sense-X/UniFormer) publishes its ImageNet-1K models, the starting
points of every video, detection, segmentation and pose config, in its
``image_classification/README.md``, on Google Drive and Baidu Cloud.
"""
import os.path as osp

#: the release's page of ImageNet-1K models and its download folders
OFFICIAL_IMAGENET_README = ('https://github.com/Sense-X/UniFormer/blob/main/'
                            'image_classification/README.md')
OFFICIAL_IMAGENET_DRIVE = 'https://drive.google.com/drive/folders/1-sqWoelz3agOG74VkNwadY8RHR28o4Wv'
OFFICIAL_IMAGENET_BAIDU = 'https://pan.baidu.com/s/1tLvcwGquAsQdGRAiKR0Jcg (code bdkq)'


def require_local_checkpoint(filename: str) -> None:
    """Raise ``FileNotFoundError`` naming ``filename``, where the release publishes it and the
    override that trains from scratch, when a local ``Pretrained`` file does not exist.

    URLs and other remote schemes (``http://``, ``s3://``, ``open-mmlab://``, ...) are left
    to mmengine's checkpoint loaders.
    """
    if '://' in str(filename) or osp.isfile(filename):
        return
    raise FileNotFoundError(
        f'backbone init_cfg: the Pretrained checkpoint {filename!r} does not exist '
        f'(looked in {osp.abspath(filename)}). The official release publishes the ImageNet-1K '
        f'UniFormer checkpoints (file names as in the configs) at {OFFICIAL_IMAGENET_README}: '
        f'Google Drive {OFFICIAL_IMAGENET_DRIVE}, Baidu Cloud {OFFICIAL_IMAGENET_BAIDU}. '
        'Put the file there, or point to it with '
        '--cfg-options model.backbone.init_cfg.checkpoint=PATH, or train the backbone from '
        'scratch with --cfg-options model.backbone.init_cfg=None')
