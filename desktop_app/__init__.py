"""Handoff: a person and a browser agent share one live browser session."""

__version__ = "0.1.0"
APP_NAME = "Handoff"
APP_ID = "handoff"
