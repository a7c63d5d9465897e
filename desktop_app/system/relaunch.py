"""Starting Handoff again in the other mode, once this run has closed.

Local mode needs QtWebEngine's DevTools port and Cloud mode must not have it; QtWebEngine reads it
once, as it starts (early_init.py). Switching between the two is therefore a new process: the
same folders and options, the chosen mode, and never the ``--task`` of this run again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from desktop_app.system.early_init import REMOTE_DEBUGGING


def relaunch_arguments(options: argparse.Namespace, backend: str) -> list[str]:
    arguments = ["--backend", backend]
    if options.basedir:
        arguments += ["--basedir", options.basedir]
    elif options.temp_basedir:
        arguments.append("--temp-basedir")  # a fresh one: this run's is removed as it exits
    for flag in ("no_err_windows", "json_logging", "debug"):
        if getattr(options, flag):
            arguments.append("--" + flag.replace("_", "-"))
    return arguments


def relaunch_command(options: argparse.Namespace, backend: str) -> list[str]:
    if getattr(sys, "frozen", False):  # an installed build: the executable is Handoff itself
        return [sys.executable, *relaunch_arguments(options, backend)]
    return [sys.executable, "-m", "desktop_app", *relaunch_arguments(options, backend)]


def relaunch(options: argparse.Namespace, backend: str) -> int:
    """Start the new run (it inherits this one's terminal, if any) and return its process id."""
    environment = dict(os.environ)
    environment.pop(REMOTE_DEBUGGING, None)  # the new run decides about its own DevTools port
    process = subprocess.Popen(relaunch_command(options, backend), env=environment, stdin=subprocess.DEVNULL)
    return process.pid
