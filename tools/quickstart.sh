#!/usr/bin/env bash
# Quick start in one command: the entry point of the quick-start project
# (projects/quickstart/README.md); `bash tools/quickstart.sh --help` lists the options.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../projects/quickstart/tools/quickstart.sh" "$@"
