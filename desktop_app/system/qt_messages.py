"""Qt's own messages go into Python logging (and so through redaction), not straight to stderr."""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("qt")

LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


# What Qt and QtWebEngine say on every start on a machine without a GPU or with remote debugging on
# (the DevTools port the Local agent uses): nothing is wrong, so they are logged as debug lines.
EXPECTED = (
    "Added {--remote-allow-origins=*}",
    "Sandboxing disabled by user",
    "QRhiGles2: Failed to create",
    "Failed to create RHI for backend",
    "createPlatformVulkanInstance",
    "QVulkanInstance: Failed to initialize Vulkan",
    "Failed to load vulkan",
    "No Vulkan library available",
    "Failed to create platform Vulkan instance",
    "GBM is not supported",
    "GPUInfo not initialized",
    "Unable to detect GPU vendor",
    "Remote debugging server started",
    "does not support propagateSizeHints",
)


def _handle(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    category = context.category or "default"
    level = logging.DEBUG if any(text in message for text in EXPECTED) else LEVELS.get(kind, logging.WARNING)
    log.log(level, "[%s] %s", category, message)


def install() -> None:
    qInstallMessageHandler(_handle)
