"""The one error type of the data loaders."""


class DatasetError(ValueError):
    """A dataset cannot be opened or an image cannot be read; the message names the file."""
