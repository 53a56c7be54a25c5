"""The guest side: the probe script (probe.sh), its typed wrapper (probe.py), the seeded
pattern mirrored in Python (pattern.py), and the serial-console session (console.py)."""
