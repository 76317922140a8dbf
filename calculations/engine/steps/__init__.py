"""One small function per step of METHODOLOGY.md section 4 (steps 1–13)."""
