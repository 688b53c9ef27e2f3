"""Tests of the pure parts, without a server."""
