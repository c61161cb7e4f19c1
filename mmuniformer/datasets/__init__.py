"""Data transforms. Each module extends one library's pipelines (``token_label``:
mmpretrain) and is imported by :mod:`mmuniformer.registry` when that library is in
use, or directly by the user; :mod:`.checks` (data checks of any library) is imported here."""
from . import checks  # noqa: F401  registers CheckSegLabels
