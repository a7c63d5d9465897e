"""Thin Qt widgets: they observe the core through the bridge and forward clicks to it."""
