"""The local backend: processes and virtual environments on this machine."""
