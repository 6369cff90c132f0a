"""``python -m frcnn_viewer``: the same as the ``frcnn-viewer`` command."""

import sys

from .app import main

sys.exit(main())
