"""Every checkpoint file is checked before use (mmuniformer.checkpoint.load_checkpoint_file):
errors that name the file and say what it holds, explicit weights-only loading (a crafted
pickle is refused through every entry point even with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1),
and the converter's refusals (its own source, an already converted file)."""
import argparse
import os.path as osp

import numpy as np
import pytest
import torch

from tests.conftest import REPO, load_module

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
CONVERT = load_module(osp.join(REPO, 'tools/convert_official.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CAM = load_module(osp.join(REPO, 'tools/visualize_cam.py'))
CLS_QS = osp.join(REPO, 'projects/quickstart/configs/uniformer_tiny_shapes.py')
SMALL_ARCH = dict(depths=(1, 1, 1, 1), embed_dims=(16, 32, 64, 128), head_dim=16)


class Payload:
    """Unpickling this creates the file ``marker``: the proof that a load ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def crafted(tmp_path, monkeypatch):
    """A checkpoint-shaped file whose pickle calls ``open(marker, 'w')``, with torch told to
    load without weights_only wherever a call does not ask for it explicitly."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'crafted.pth'
    torch.save({'state_dict': {'w': torch.zeros(2)}, 'meta': Payload(str(marker))}, path)
    return str(path), marker


def test_bad_files_are_named_with_what_they_hold(tmp_path):
    from mmuniformer.checkpoint import load_checkpoint_file
    cases = {}
    cases['missing.pth'] = (None, FileNotFoundError, 'does not exist')
    (tmp_path / 'empty.pth').write_bytes(b'')
    cases['empty.pth'] = (None, ValueError, r'is empty \(0 bytes\)')
    (tmp_path / 'text.pth').write_text('version https://git-lfs.github.com/spec/v1\n')
    cases['text.pth'] = (None, ValueError, "a text file starting with 'version https")
    torch.save({'state_dict': {'w': torch.randn(64, 64)}}, tmp_path / 'full.pth')
    data = (tmp_path / 'full.pth').read_bytes()
    (tmp_path / 'cut_zip.pth').write_bytes(data[:len(data) // 2])
    cases['cut_zip.pth'] = (None, ValueError, 'truncated or damaged zip')
    torch.save({'state_dict': {'w': torch.randn(64, 64)}}, tmp_path / 'legacy.pth',
               _use_new_zipfile_serialization=False)
    data = (tmp_path / 'legacy.pth').read_bytes()
    (tmp_path / 'cut_pickle.pth').write_bytes(data[:len(data) // 3])
    cases['cut_pickle.pth'] = (None, ValueError, 'truncated or damaged')
    torch.save(torch.zeros(3), tmp_path / 'tensor.pth')
    cases['tensor.pth'] = (None, ValueError, 'holds a Tensor, not a checkpoint dict')
    torch.save([1, 2], tmp_path / 'list.pth')
    cases['list.pth'] = (None, ValueError, 'holds a list, not a checkpoint dict')
    (tmp_path / 'image.pth').write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(40))
    cases['image.pth'] = (None, ValueError, 'is not a torch checkpoint: it is an image')
    (tmp_path / 'folder.pth').mkdir()
    cases['folder.pth'] = (None, FileNotFoundError, 'is a directory')
    for name, (_, error, message) in cases.items():
        path = str(tmp_path / name)
        with pytest.raises(error, match=message) as info:
            load_checkpoint_file(path)
        assert path in str(info.value), (name, str(info.value))


def test_mmengine_and_official_metadata_still_load(tmp_path):
    """The allow-list: mmengine's message hub (HistoryBuffer, numpy) and timm's args."""
    from mmengine.logging import HistoryBuffer

    from mmuniformer.checkpoint import load_checkpoint_file
    path = tmp_path / 'runner.pth'
    torch.save({'state_dict': {'w': torch.ones(2)},
                'message_hub': {'log_scalars': {'loss': HistoryBuffer(np.array([1., 2.]),
                                                                np.array([1, 1]))}},
                'meta': {'dataset_meta': {'sigmas': np.ones(3, np.float32)}},
                'args': argparse.Namespace(lr=1e-3)}, path)
    loaded = load_checkpoint_file(str(path))
    assert loaded['message_hub']['log_scalars']['loss'].mean() == 1.5
    assert loaded['args'].lr == 1e-3 and torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_crafted_file_is_refused_by_the_loader(crafted):
    from mmuniformer.checkpoint import load_checkpoint_file
    path, marker = crafted
    with pytest.raises(ValueError, match='was refused: it holds Python objects') as info:
        load_checkpoint_file(path)
    assert path in str(info.value) and not marker.exists()
    # what torch's default would do under that variable (why the explicit flag matters)
    torch.load(path, map_location='cpu')
    assert marker.exists()


def test_crafted_file_is_refused_by_a_backbone_pretrained_init(crafted):
    from mmuniformer.models import UniFormer
    path, marker = crafted
    backbone = UniFormer(arch=SMALL_ARCH, init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(ValueError, match='was refused'):
        backbone.init_weights()
    assert not marker.exists()


def test_crafted_file_is_refused_by_the_tools_and_the_demo(crafted, tmp_path):
    from mmuniformer.apis import build_inferencer
    from mmuniformer.visualization import load_model
    path, marker = crafted
    image = str(tmp_path / 'image.png')
    import cv2
    cv2.imwrite(image, np.full((64, 64, 3), 128, np.uint8))
    with pytest.raises(SystemExit, match='was refused'):
        CONVERT.main([path, str(tmp_path / 'out.pth'), '--config', CLS_QS])
    with pytest.raises(SystemExit, match='was refused'):
        DEMO.run([CLS_QS, path, image, '--out', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit, match='was refused'):
        CAM.run([CLS_QS, path, image, '--out', str(tmp_path / 'cam.png')])
    with pytest.raises(ValueError, match='was refused'):
        build_inferencer(CLS_QS, path)
    with pytest.raises(ValueError, match='was refused'):
        load_model(CLS_QS, path)
    assert not marker.exists()


def test_converter_refuses_its_source_and_reports_converted_files(tmp_path, capsys):
    from mmuniformer.apis import build_model_from_config
    from mmuniformer.checkpoint import load_checkpoint_file, ours_to_official
    model, _, _ = build_model_from_config(CLS_QS)
    official = ours_to_official(model.state_dict(), 'mmpretrain').state
    src = tmp_path / 'official.pth'
    torch.save({'model': official}, src)
    before = src.read_bytes()
    with pytest.raises(SystemExit, match='never overwrites its source'):
        CONVERT.main([str(src), str(src), '--config', CLS_QS])
    with pytest.raises(SystemExit, match='never overwrites its source'):
        CONVERT.main([str(src), str(tmp_path / '.' / 'official.pth'), '--config', CLS_QS])
    assert src.read_bytes() == before
    dst = tmp_path / 'converted.pth'
    classes = tmp_path / 'classes.txt'
    classes.write_text('\n'.join(f'shape {i}' for i in range(8)))
    CONVERT.main([str(src), str(dst), '--config', CLS_QS, '--classes', str(classes)])
    converted = load_checkpoint_file(str(dst))
    assert converted['meta']['dataset_meta']['classes'] == tuple(f'shape {i}' for i in range(8))
    capsys.readouterr()
    again = tmp_path / 'again.pth'
    CONVERT.main([str(dst), str(again), '--config', CLS_QS])
    out = capsys.readouterr().out
    assert 'is already converted' in out and 'nothing to do' in out and not again.exists()
    # a count that does not match the model's classes is refused before anything is read
    classes.write_text('a\nb\nc\n')
    with pytest.raises(SystemExit, match='gives 3 class names; the model predicts 8'):
        CONVERT.main([str(src), str(tmp_path / 'x.pth'), '--config', CLS_QS, '--classes',
                      str(classes)])
    with pytest.raises(SystemExit, match='gives 3 class names; the model predicts 8'):
        UNTRAINED.main([CLS_QS, str(tmp_path / 'y.pth'), '--classes', str(classes)])
