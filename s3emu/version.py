"""The release number: here, at the bottom layer, so any module may report it."""
__version__ = "0.1.0"
