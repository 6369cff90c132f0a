"""The second stage (the seed's steps 5 and 6): proposal targets, RoI pooling, the Fast R-CNN head and post-processing."""
