#!/bin/sh
# Build the Linux installers and smoke-test them, then check the Windows and macOS installer
# sources as far as Linux can. CI runs it after the tests (.ci/run):
#   sh packaging/ci_linux.sh
# On a fresh Debian 12 it installs what the build needs (binutils for PyInstaller, metadata
# validators) and what the checks need (shellcheck, nsis, wine64), installs the project with its
# "package" extra into .venv, runs `packaging/build.py linux`, smoke-tests the onedir, the .deb
# unpacked with dpkg -x into a fresh root, and the .tar.gz (build.py's SMOKE_TESTS), then runs
# packaging/verify_installers.py. Artifacts stay in dist/. POSIX sh.
set -eu
# shellcheck source=scripts/lib.sh
. "$(dirname -- "$0")/../scripts/lib.sh"
cd "$repo_root"

started=$(date +%s)
step() {
    printf '\n== %s (at %ss)\n' "$1" "$(($(date +%s) - started))"
}

step "Debian packages"
ensure_debian_packages "$repo_root/packaging/linux/debian-packages.txt"
# binutils: PyInstaller's objdump/objcopy/strip, build.py's readelf; ldd comes with libc-bin.
# appstream, desktop-file-utils: build.py validates the .deb's metainfo and .desktop files with them.
# nsis, wine64, shellcheck: packaging/verify_installers.py (the Windows installer, shell scripts).
ensure_debian_packages_named binutils appstream desktop-file-utils shellcheck nsis wine64

step "Python environment (.venv with the package extra)"
ensure_venv "[package]"

step "Build: packaging/build.py linux"
"$venv/bin/python" packaging/build.py linux

step "Smoke test: dist/handoff (onedir)"
"$venv/bin/python" packaging/smoke_test.py dist/handoff

step "Smoke test: .deb, unpacked with dpkg -x"
"$venv/bin/python" packaging/smoke_test.py --deb "dist/handoff_*.deb"

step "Smoke test: .tar.gz"
"$venv/bin/python" packaging/smoke_test.py --archive "dist/handoff-*-linux-*.tar.gz"

linux_done=$(date +%s)
step "Windows and macOS installers, workflow, shell scripts: packaging/verify_installers.py"
"$venv/bin/python" packaging/verify_installers.py

printf '\nInstallers built and smoke-tested in %ss, then verified in %ss:\n' \
    "$((linux_done - started))" "$(($(date +%s) - linux_done))"
ls -l dist/*.deb dist/*.tar.gz
