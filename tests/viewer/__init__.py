"""Tests of frcnn_viewer (a package, so their module names never clash with tests/core)."""
