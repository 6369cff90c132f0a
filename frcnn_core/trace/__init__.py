"""Traces: every intermediate of one image, how a model builds one, and the staged re-run after a setting changes."""
