"""The annotation mode's state, without Qt (an import-linter contract checks it)."""
