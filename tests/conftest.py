"""Test isolation: mmengine keeps the current default scope (the registry that builds
unscoped names) in a process-wide manager; a test that creates one (a Runner, a config
build) must not change how the next test in the same worker builds modules."""
import pytest


@pytest.fixture(autouse=True)
def restore_default_scope():
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)
