"""Deployment: exported ONNX graphs run in ONNX Runtime / OpenVINO inside the libraries'
models (:mod:`mmuniformer.deployment.runtime`)."""
from .runtime import (PRECISIONS, RUNTIMES, RuntimeGraph, check_onnx, det_instances,
                      make_runner, use_runtime)

__all__ = ['PRECISIONS', 'RUNTIMES', 'RuntimeGraph', 'check_onnx', 'det_instances',
           'make_runner', 'use_runtime']
