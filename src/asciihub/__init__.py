"""asciihub: a self-hostable ASCII art platform."""

__version__ = "0.1.0"
