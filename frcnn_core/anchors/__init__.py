"""Anchors (the seed's step 2): the grid, the anchor target creator, and the tools that fit anchors to a dataset."""
