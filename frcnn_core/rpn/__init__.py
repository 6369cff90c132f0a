"""The region proposal network (the seed's steps 3 and 4): its head and the proposal layer."""
