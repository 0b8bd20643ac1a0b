"""Minsheng (民生): one system for a county to do practical things for the people."""

__version__ = "0.1.0"
