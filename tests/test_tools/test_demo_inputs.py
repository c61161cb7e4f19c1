"""Inputs and options of demo/demo.py and the visualisation tools: files that do not decode,
pose boxes given the wrong way round, numeric options out of range. Each error names the
file or option, the value and what is accepted, before any model runs."""
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
CAM = load_module(osp.join(REPO, 'tools/visualize_cam.py'))
TOKENS = load_module(osp.join(REPO, 'tools/visualize_tokens.py'))
CLS_QS, VIDEO_QS, POSE_QS = QS_CONFIGS['cls'], QS_CONFIGS['video'], QS_CONFIGS['pose']


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / 'empty.png').write_bytes(b'')
    (tmp_path / 'text.png').write_text('this is not an image\n')
    (tmp_path / 'empty.mp4').write_bytes(b'')
    (tmp_path / 'text.mp4').write_text('this is not a video\n')
    # a real MPEG-4 container with no frame in it
    writer = cv2.VideoWriter(str(tmp_path / 'no_frames.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
                             8, (64, 64))
    writer.release()
    cv2.imwrite(str(tmp_path / 'good.png'), np.full((64, 96, 3), 100, np.uint8))
    return tmp_path


@pytest.mark.parametrize('name,message', [('empty.png', r'is empty \(0 bytes\)'),
                                          ('text.png', 'could not be decoded as an image')])
def test_undecodable_images_are_named(bad_files, name, message):
    path = str(bad_files / name)
    for tool in (DEMO.run, CAM.run, TOKENS.run):
        with pytest.raises(SystemExit, match=message) as info:
            tool([CLS_QS, '', path, '--out', str(bad_files / 'out.png')])
        assert path in str(info.value)
    assert not (bad_files / 'out.png').exists()


@pytest.mark.parametrize('name,message', [('empty.mp4', r'is empty \(0 bytes\)'),
                                          ('text.mp4', 'has no frame that could be decoded'),
                                          ('no_frames.mp4', 'has no frame that could be decoded')])
def test_undecodable_videos_are_named(bad_files, name, message):
    from mmuniformer.visualization import read_video
    path = str(bad_files / name)
    with pytest.raises(ValueError, match=message) as info:
        read_video(path)
    assert path in str(info.value)


@pytest.mark.parametrize('box,message', [
    (['60', '50', '10', '5'], 'top-left corner first'),  # x2 y2 x1 y1
    (['10', '5', '10', '50'], 'non-zero width and height'),  # zero width
    (['10', '5', '60', '5'], 'non-zero width and height'),  # zero height
    (['200', '5', '260', '50'], 'lies outside the 96x64 image'),
])
def test_pose_boxes_are_checked(box, message):
    with pytest.raises(ValueError, match=message) as info:
        DEMO.check_boxes([[float(v) for v in box]], (64, 96, 3))
    assert f"--bbox {' '.join(box)}" in str(info.value)


def test_pose_demo_refuses_a_swapped_box_before_running(bad_files, tmp_path):
    with pytest.raises(SystemExit, match=r'--bbox 60 50 10 5: a box is X1 Y1 X2 Y2'):
        DEMO.run([POSE_QS, '', str(bad_files / 'good.png'), '--out', str(tmp_path / 'p.png'),
                  '--bbox', '60', '50', '10', '5'])


@pytest.mark.parametrize('option,value,message', [
    ('--score-thr', '1.5', r'--score-thr must be in \[0, 1\], got 1.5'),
    ('--score-thr', 'nan', r'--score-thr must be in \[0, 1\], got nan'),
    ('--opacity', '-0.1', r'--opacity must be in \[0, 1\], got -0.1'),
    ('--fps', '0', '--fps must be > 0, got 0'),
    ('--topk', '0', '--topk must be >= 1, got 0'),
])
def test_demo_numeric_options(bad_files, option, value, message):
    with pytest.raises(SystemExit, match=message):
        DEMO.run([CLS_QS, '', str(bad_files / 'good.png'), '--out',
                  str(bad_files / 'out.png'), option, value])


def test_demo_video_output_and_folder_rules(bad_files, tmp_path):
    with pytest.raises(SystemExit, match='must end with .gif or .mp4'):
        DEMO.run([VIDEO_QS, '', str(bad_files / 'text.mp4'), '--out', str(tmp_path / 'a.png')])
    empty = tmp_path / 'nothing'
    empty.mkdir()
    with pytest.raises(SystemExit, match='has no images'):
        DEMO.run([CLS_QS, '', str(empty), '--out', str(tmp_path / 'pictures')])
    with pytest.raises(SystemExit, match='--out must be a folder too'):
        DEMO.run([CLS_QS, '', str(bad_files), '--out', str(tmp_path / 'a.png')])


@pytest.mark.parametrize('alpha', ['1.5', '-0.2', 'nan'])
def test_cam_alpha_outside_0_1_is_refused(bad_files, alpha):
    with pytest.raises(SystemExit, match=r'--alpha \(heat map opacity\) must be in \[0, 1\]'):
        CAM.run([CLS_QS, '', str(bad_files / 'good.png'), '--out', str(bad_files / 'c.png'),
                 '--alpha', alpha])
    with pytest.raises(ValueError, match=r'alpha \(heat map opacity\) must be in \[0, 1\]'):
        CAM.overlay(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4)), float(alpha))


def test_put_lines_keeps_long_labels_inside_the_picture():
    from mmuniformer.visualization import put_lines
    image = np.zeros((100, 200, 3), np.uint8)
    band = put_lines(image, ['x' * 200, 'short'])[:-100]
    assert band.max() == 255 and band[:, -6:].max() == 0
