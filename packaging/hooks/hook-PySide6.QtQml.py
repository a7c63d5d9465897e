"""PySide6.QtQml without QML: PyInstaller's own hook also collects every QML file and QML plugin
(~2,400 files, whose plugins pull in Qt3D, Quick3D, Multimedia, ...), which trim.py would only
remove again, doubling the build's PyInstaller step. The app imports QtQml only because QtQuick
does (system/page_rendering.py) and loads no QML. Used when trimming (handoff.spec)."""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
