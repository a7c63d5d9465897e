#!/bin/sh
# Build the Linux installers and smoke-test them. CI runs it after the tests (.ci/run):
#   sh packaging/ci_linux.sh
# On a fresh Debian 12 it installs what the build needs (binutils for PyInstaller, metadata
# validators), installs the project with its "package" extra into .venv, runs
# `packaging/build.py linux`, then smoke-tests the onedir, the .deb unpacked with dpkg -x into a
# fresh root, and the .tar.gz. Artifacts stay in dist/. POSIX sh.
set -eu
# shellcheck source=scripts/lib.sh
. "$(dirname -- "$0")/../scripts/lib.sh"

started=$(date +%s)
step() {
    printf '\n== %s (at %ss)\n' "$1" "$(($(date +%s) - started))"
}

step "Debian packages"
ensure_debian_packages "$repo_root/packaging/linux/debian-packages.txt"
# binutils: PyInstaller's objdump/objcopy/strip, build.py's readelf; ldd comes with libc-bin.
# appstream, desktop-file-utils: build.py validates the .deb's metainfo and .desktop files with them.
ensure_debian_packages_named binutils appstream desktop-file-utils

step "Python environment (.venv with the package extra)"
ensure_venv "[package]"

step "Build: packaging/build.py linux"
"$venv/bin/python" "$repo_root/packaging/build.py" linux

step "Smoke test: dist/handoff (onedir)"
"$venv/bin/python" "$repo_root/packaging/smoke_test.py" "$repo_root/dist/handoff"

step "Smoke test: .deb, unpacked with dpkg -x"
"$venv/bin/python" "$repo_root/packaging/smoke_test.py" --deb "$repo_root/dist/handoff_*.deb"

step "Smoke test: .tar.gz"
"$venv/bin/python" "$repo_root/packaging/smoke_test.py" --archive "$repo_root/dist/handoff-*-linux-*.tar.gz"

printf '\nInstallers built and smoke-tested in %ss:\n' "$(($(date +%s) - started))"
ls -l "$repo_root"/dist/*.deb "$repo_root"/dist/*.tar.gz
