"""lso: an open implementation of the MEF LSO reference architecture (MEF 55.0.1 operational threads)."""

__version__ = "0.1.0"
