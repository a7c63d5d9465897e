"""Handoff.app's Info.plist: what handoff.spec passes to PyInstaller's BUNDLE, the whole dictionary
PyInstaller writes from it, and the checks that dictionary must pass.

handoff.spec loads this file by path (like trim.py) for the ``info_plist=`` of its BUNDLE, which only
runs on macOS. packaging/verify_installers.py loads it too, on any OS: it runs the spec's macOS
branch with PyInstaller's build steps replaced by recorders, rebuilds the Info.plist from what the
spec passed to BUNDLE with ``written_info_plist`` (PyInstaller 6.22's own merge), round-trips it
through plistlib and checks it with ``problems``. Standard library only.
"""

from __future__ import annotations

import os
import plistlib
import re

MINIMUM_MACOS = "12.0"  # docs/packaging.md: "minimum macOS 12"
CATEGORY = "public.app-category.productivity"


def spec_info_plist(app_name: str, version: str) -> dict:
    """The keys handoff.spec adds to (or overrides in) PyInstaller's Info.plist."""
    return {
        "CFBundleName": app_name,
        "CFBundleDisplayName": app_name,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": MINIMUM_MACOS,
        # Retina rendering. Without it macOS scales the window (and QtWebEngine's pages) up from
        # 1x, blurry; PyInstaller sets it only for windowed (console=False) executables.
        "NSHighResolutionCapable": True,
        "NSPrincipalClass": "NSApplication",
        "LSApplicationCategoryType": CATEGORY,
    }


def written_info_plist(
    *, name: str, executable: str, bundle_identifier: str | None, icon: str | None, version: str,
    console: bool, info_plist: dict | None,
) -> dict:
    """The Info.plist dictionary PyInstaller 6.22's BUNDLE.assemble writes (PyInstaller/building/osx.py),
    from the BUNDLE arguments and the EXE's console flag."""
    appname = os.path.splitext(os.path.basename(name))[0]
    icon_file = os.path.basename(icon) if icon else "icon-windowed.icns"  # PyInstaller's default icon
    plist = {
        "CFBundleDisplayName": appname,
        "CFBundleName": appname,
        "CFBundleIdentifier": bundle_identifier or appname,
        "CFBundleExecutable": os.path.basename(executable),
        "CFBundleIconFile": icon_file,
        "CFBundleInfoDictionaryVersion": "6.0",
        "CFBundlePackageType": "APPL",
        "CFBundleShortVersionString": str(version),
    }
    if console:
        plist["LSBackgroundOnly"] = True
    else:
        plist["NSHighResolutionCapable"] = True
    if isinstance(info_plist, dict) and info_plist:
        plist.update(info_plist)
    return plist


def problems(plist: dict, *, version: str, bundle_identifier: str, executable: str, app_name: str) -> list[str]:
    """What is wrong with an Info.plist dictionary for Handoff.app (empty: nothing)."""
    found = []

    def expect(key: str, wanted, why: str) -> None:
        value = plist.get(key)
        if value != wanted or type(value) is not type(wanted):
            found.append(f"{key} is {value!r}, expected {wanted!r}: {why}")

    try:
        if plistlib.loads(plistlib.dumps(plist, fmt=plistlib.FMT_XML)) != plist:
            found.append("the dictionary does not survive a plistlib round trip")
    except (TypeError, ValueError, OverflowError) as error:
        found.append(f"not a valid property list: {error}")
        return found

    expect("NSHighResolutionCapable", True, "QtWebEngine renders blurry at 1x without it")
    expect("CFBundleIdentifier", bundle_identifier, "build.py's BUNDLE_ID (keychain items and signing use it)")
    if not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", str(plist.get("CFBundleIdentifier", ""))):
        found.append(f"CFBundleIdentifier {plist.get('CFBundleIdentifier')!r} is not reverse-DNS (letters, digits, -, .)")
    expect("CFBundleShortVersionString", version, "desktop_app.__version__")
    expect("CFBundleVersion", version, "desktop_app.__version__")
    if not re.fullmatch(r"\d+(\.\d+){0,2}", str(plist.get("CFBundleShortVersionString", ""))):
        found.append("CFBundleShortVersionString must be up to three period-separated integers")
    expect("CFBundleExecutable", executable, "the EXE PyInstaller puts in Contents/MacOS")
    expect("CFBundleName", app_name, "the menu bar name")
    expect("CFBundleDisplayName", app_name, "the Finder and Dock name")
    if len(app_name) > 15:
        found.append("CFBundleName is longer than 15 characters")
    expect("CFBundlePackageType", "APPL", "an application bundle")
    expect("CFBundleInfoDictionaryVersion", "6.0", "the only defined value")
    expect("LSMinimumSystemVersion", MINIMUM_MACOS, "docs/packaging.md promises macOS 12")
    expect("NSPrincipalClass", "NSApplication", "Qt's Cocoa platform plugin runs an NSApplication")
    if plist.get("LSBackgroundOnly"):
        found.append("LSBackgroundOnly is set (EXE console=True?): the app would have no Dock icon or menu bar")
    if not str(plist.get("CFBundleIconFile", "")).endswith(".icns"):
        found.append(f"CFBundleIconFile {plist.get('CFBundleIconFile')!r} is not an .icns file")
    elif plist.get("CFBundleIconFile") == "icon-windowed.icns":
        found.append("CFBundleIconFile is PyInstaller's default icon: HANDOFF_ICON did not reach the spec")
    return found
