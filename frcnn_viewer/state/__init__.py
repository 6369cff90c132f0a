"""The viewer's plain state: no Qt here (an import-linter contract in pyproject.toml checks it).

The document, its layers and overlays, images and their sources, the model description,
results and exports are plain Python objects that the Qt widgets observe and draw
(napari's model/view split); they run and test headless.
"""
