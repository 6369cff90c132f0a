"""What the core writes and reads from users: atomic writes, JSON input, detection exports, rendered images."""
