"""The error of a model file that cannot be read or does not fit."""


class CheckpointError(ValueError):
    """A checkpoint or weights file could not be read or does not fit the requested model."""
