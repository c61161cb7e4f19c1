#!/usr/bin/env bash
# Set up everything mmuniformer needs in a virtual environment, on a Linux machine with
# Python 3.11, with or without a GPU. Re-running it on a machine that has everything is fast:
# it checks the installed stack first and only installs what is missing.
#
#   bash tools/setup_env.sh            # venv at $MMUNIFORMER_VENV (default ~/.venvs/mmuniformer)
#
# Pitfalls handled here (each one explicit, none hidden):
#   * torch / torchvision must be a matching pair: the PyPI builds torch 2.13.0 + torchvision 0.28.0
#     (CUDA builds, which also run on CPU). A local CPU-only torch 2.13.0+cpu wheel that some
#     machines carry pairs with no torchvision, so it is excluded by the version specifier.
#   * mmcv 2.1.0 has no wheel for this torch: it is built from source with its compiled ops
#     (MMCV_WITH_OPS=1, --no-build-isolation so it builds against the torch installed here).
#     pip keeps the built wheel in its cache, so a second set-up on the same machine is quick.
#   * mmpose declares `chumpy`, which does not build and which nothing here uses: mmpose is
#     installed with --no-deps and its remaining requirements are installed by name.
#   * mmsegmentation's models import `ftfy` and `regex` without declaring them: installed by name.
#   * mmaction2 1.2.0 on PyPI lacks `mmaction/models/localizers/drn`, which its
#     `localizers/__init__.py` imports, so `import mmaction.models` fails. We remove that one
#     import line (the DRN localizer only) and say so; everything else of mmaction2 is untouched.
#   * openmim depends on opendatalab/openxlab, which downgrade setuptools and requests: openmim is
#     installed with --no-deps plus its own runtime needs (pandas < 3, see constraints).
#   * ONNX export (tools/deployment/pytorch2onnx.py) uses torch's TorchScript exporter
#     (dynamo=False: no onnxscript needed) and checks the file with onnxruntime and OpenVINO's CPU
#     plugin; all three are pinned to releases that install with numpy < 2 on Python 3.11.
#   * numpy < 2 and the other pins: requirements/constraints.txt, each with its reason.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${MMUNIFORMER_VENV:-$HOME/.venvs/mmuniformer}
python_bin=${PYTHON:-python3.11}
constraints="$here/requirements/constraints.txt"

log() { printf '[setup_env] %s\n' "$*"; }

if [ ! -x "$venv/bin/python" ]; then
  log "creating virtual environment $venv with $python_bin"
  "$python_bin" -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
pip_install() { python -m pip install --disable-pip-version-check -c "$constraints" "$@"; }

stack_ok() {
  python - <<'PY' 2>/dev/null
import importlib.metadata as md
want = {'torch': '2.13.0', 'torchvision': '0.28.0', 'mmengine': '0.10.7', 'mmcv': '2.1.0',
        'mmpretrain': '1.2.0', 'mmdet': '3.3.0', 'mmsegmentation': '1.2.2',
        'mmaction2': '1.2.0', 'mmpose': '1.3.2', 'openmim': '0.3.9'}
for name, version in want.items():
    have = md.version(name)
    assert have.split('+')[0] == version, (name, have)
assert not md.version('torch').endswith('+cpu')
import mmcv.ops  # noqa: F401  compiled ops present
from mmcv.ops import nms  # noqa: F401
import mmpretrain.models, mmdet.models, mmseg.models, mmaction.models, mmpose.models  # noqa
import mim, ftfy, regex, pytest  # noqa
import onnx, onnxruntime, openvino  # noqa  (tools/deployment/pytorch2onnx.py and its tests)
PY
}

if stack_ok; then
  log "OpenMMLab stack already complete in $venv"
else
  log "installing build tooling"
  pip_install -U pip "setuptools>=77,<81" wheel ninja
  log "installing torch 2.13.0 + torchvision 0.28.0 (PyPI builds)"
  pip_install "torch==2.13.0,!=2.13.0+cpu" "torchvision==0.28.0"
  log "installing mmengine and mmcv's runtime requirements"
  pip_install "numpy<2" mmengine==0.10.7 addict packaging Pillow pyyaml yapf opencv-python
  if ! python -c "import mmcv.ops" 2>/dev/null; then
    log "building mmcv 2.1.0 with compiled ops (about 15 minutes on 2 cores the first time)"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} pip_install --no-build-isolation mmcv==2.1.0
  fi
  log "installing the OpenMMLab task libraries"
  pip_install mmpretrain==1.2.0 mmdet==3.3.0 mmsegmentation==1.2.2 mmaction2==1.2.0 ftfy regex
  log "installing mmpose without its undeclared-optional chumpy requirement"
  pip_install --no-deps mmpose==1.3.2
  pip_install json_tricks munkres matplotlib scipy xtcocotools
  log "installing openmim without opendatalab/openxlab"
  pip_install --no-deps openmim==0.3.9
  pip_install click colorama model-index "pandas<3" requests rich tabulate
  log "installing test tools and the ONNX exporter's runtimes"
  pip_install pytest pytest-xdist onnx onnxruntime openvino
fi
# scikit-image: the real photographs (astronaut, coffee, chelsea) that the picture tests draw on
# (tests/test_apis/test_real_photos.py); a test dependency only.
if ! python -c "import skimage.data" 2>/dev/null; then
  log "installing scikit-image (sample photographs for the picture tests)"
  pip_install scikit-image
fi

# mmaction2 1.2.0's missing DRN localizer: drop the one import of the absent subpackage.
python - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec('mmaction')
root = pathlib.Path(spec.origin).parent / 'models' / 'localizers'
init = root / '__init__.py'
text = init.read_text()
if not (root / 'drn').is_dir() and 'from .drn.drn import DRN' in text:
    text = text.replace('from .drn.drn import DRN\n', '')
    text = text.replace(", 'DRN'", '').replace("'DRN', ", '')
    init.write_text(text)
    print(f'[setup_env] patched {init}: removed the import of the missing DRN localizer '
          '(mmaction2 1.2.0 PyPI packaging bug)')
PY

log "installing mmuniformer (editable)"
python -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e "$here"
# mim looks for packages at <install location>/<name>, which an editable install lacks
python "$here/tools/misc/mim_editable.py"
# openmim 0.3.9 imports pkg_resources and re-imports it on every package look-up; setuptools
# (< 81, pinned) warns "pkg_resources is deprecated as an API" at each import: 4-10 lines on every
# mim call. A .pth file of this venv ignores that one message (nothing else) in every process.
purelib=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import warnings; warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API', category=UserWarning)" \
  > "$purelib/mmuniformer-pkg-resources-warning.pth"

stack_ok || { log "the stack does not import; see the messages above"; exit 1; }
python -c "import mmuniformer, torch, mmcv; print('[setup_env] ready: mmuniformer', mmuniformer.__version__, '| torch', torch.__version__, '| mmcv', mmcv.__version__, '| python', __import__('sys').executable)"
