"""A CheckpointHook whose work directory holds a complete, resumable checkpoint at every
moment, also when the process is killed (SIGKILL, power loss) in the middle of a save."""
import glob
import os
import os.path as osp
from typing import Any, List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from mmuniformer.registry import HOOKS

#: prefix and suffix of the temporary file a checkpoint ``NAME`` is written to first
TMP_PREFIX, TMP_SUFFIX = '.', '.tmp'


def _fsync_dir(folder: str) -> None:
    """Makes a rename inside ``folder`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(tmp_path: str, path: str) -> None:
    """Flushes ``tmp_path`` to disk and renames it to ``path`` (``os.replace``: readers see
    the old file or the new one, never a partial one)."""
    with open(tmp_path, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, path)
    _fsync_dir(osp.dirname(osp.abspath(path)))


def write_text_atomically(path: str, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder."""
    folder, name = osp.split(osp.abspath(path))
    tmp_path = osp.join(folder, f'{TMP_PREFIX}{name}{TMP_SUFFIX}')
    with open(tmp_path, 'w', encoding='utf-8') as f:
        f.write(text)
    replace_atomically(tmp_path, path)


class _AtomicSaveRunner:
    """The runner as :class:`CheckpointHook` sees it, except that ``save_checkpoint`` writes
    ``out_dir/.NAME.tmp`` and renames it to ``out_dir/NAME`` once complete."""

    def __init__(self, runner: Any) -> None:
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)

    def save_checkpoint(self, out_dir: str, filename: str, *args: Any, **kwargs: Any) -> None:
        tmp_name = f'{TMP_PREFIX}{filename}{TMP_SUFFIX}'
        self._runner.save_checkpoint(out_dir, tmp_name, *args, **kwargs)
        if is_main_process():
            replace_atomically(osp.join(out_dir, tmp_name), osp.join(out_dir, filename))


class _DeferredRemovals:
    """The hook's file backend, except that ``remove`` and ``rmtree`` are recorded in
    ``pending`` instead of done."""

    def __init__(self, backend: Any, pending: List[str]) -> None:
        self._backend = backend
        self._pending = pending

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def remove(self, path: str) -> None:
        self._pending.append(path)

    def rmtree(self, path: str) -> None:
        self._pending.append(path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` (same arguments) made crash-safe.

    mmengine's hook removes the oldest checkpoint before it writes the new one, writes the
    new one in place and updates ``last_checkpoint`` last: a kill in between leaves a
    partial file or none, and ``--resume`` fails. This hook:

    1. writes every checkpoint (periodic and best) to ``.NAME.tmp`` in the output folder,
       then fsyncs it and renames it to ``NAME`` (``os.replace``);
    2. then rewrites ``last_checkpoint`` the same way;
    3. only then removes the checkpoints that ``max_keep_ckpts`` or a new best one retire.

    A kill at any point therefore leaves ``last_checkpoint`` naming a complete checkpoint
    (with ``max_keep_ckpts=1`` too), which ``--resume`` loads. Temporary files left by a kill
    are removed at the start of the next run. Output folders on other storage backends
    (``backend_args`` naming a non-local backend) are written the parent's way.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._is_local() and is_main_process():
            pattern = osp.join(glob.escape(self.out_dir), f'{TMP_PREFIX}*{TMP_SUFFIX}')
            for stale in glob.glob(pattern):
                os.remove(stale)
                runner.logger.info(f'Removed {stale}, left by an interrupted save.')

    def _is_local(self) -> bool:
        backend = getattr(self, 'file_backend', None)
        if isinstance(backend, _DeferredRemovals):  # inside _save_best_checkpoint
            backend = backend._backend
        return isinstance(backend, LocalBackend)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Saves checkpoint ``step`` (the parent's bookkeeping of ``keep_ckpt_ids`` and
        ``last_ckpt``) in the safe order: new file, ``last_checkpoint``, removals."""
        if not self._is_local():
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        if isinstance(runner, _AtomicSaveRunner):  # called back from _save_best_checkpoint
            runner = runner._runner
        retired: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                retired.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        _AtomicSaveRunner(runner).save_checkpoint(
            self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        write_text_atomically(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        self._remove(
            [self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
             for old in retired if old != step])

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """The parent's best-checkpoint logic, with the new best written atomically and the
        previous best removed only after it."""
        if not self._is_local():
            super()._save_best_checkpoint(runner, metrics)
            return
        pending: List[str] = []
        backend = self.file_backend
        self.file_backend = _DeferredRemovals(backend, pending)
        try:
            super()._save_best_checkpoint(_AtomicSaveRunner(runner), metrics)
        finally:
            self.file_backend = backend
        if is_main_process():
            kept = {osp.abspath(p) for p in (getattr(self, 'best_ckpt_path', None),
                                             *getattr(self, 'best_ckpt_path_dict', {}).values())
                    if p}
            self._remove([p for p in pending if osp.abspath(p) not in kept])

    def _remove(self, paths: List[str]) -> None:
        for path in paths:
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
                self.file_backend.rmtree(path)
