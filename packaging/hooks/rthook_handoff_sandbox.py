# PyInstaller runtime hook: runs inside the frozen app before any of its own code.
#
# Chromium (QtWebEngine) refuses to start its sandbox as root, which is how CI and containers run
# the app. Disable the sandbox then, and only then: a normal user keeps it. The app does the same
# in desktop_app.system.early_init; doing it here as well covers anything that imports QtWebEngine first.
import os

if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
