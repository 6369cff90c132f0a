"""Annotation in one home: the Qt-free model (``model``) and its Qt view and controller (``view``)."""
