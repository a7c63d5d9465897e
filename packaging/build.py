"""Build Handoff's installers: one command per OS, run on that OS.

    python packaging/build.py linux     # dist/handoff/ (onedir), dist/handoff_<v>_<arch>.deb,
                                        # dist/handoff-<v>-linux-<arch>.tar.gz
    python packaging/build.py windows   # dist/handoff/ (onedir), dist/Handoff-<v>-windows-x64-setup.exe (needs NSIS)
    python packaging/build.py macos     # dist/Handoff.app, dist/Handoff-<v>-macos-<arch>.dmg

Options:
    --no-trim        keep everything PyInstaller's hooks collect (to measure what trimming saves);
                     builds the onedir only, into build/untrimmed/ (never into dist/)
    --onedir-only    stop after the onedir (and its checks): no .deb/.tar.gz/installer/dmg
    --keep-build     keep build/packaging/ (PyInstaller's work files, the .deb staging tree)

Every build also
  - runs packaging/bundle_check.py frozen with the app's own modules, data and metadata (a
    verification-only executable in dist/handoff-check/, deleted afterwards: it never reaches
    dist/handoff/ or an installer); it imports browser-use, loads its prompt templates, finds
    keyring's backends, and drives the freshly built app through its DevTools port with
    browser-use as Local mode does (against a page served on 127.0.0.1);
  - on Linux, checks that every bundled ELF file resolves its libraries.
Needs the project installed with its "package" extra: pip install -e ".[package]".

Then smoke-test what it built (SMOKE_TESTS below; .github/workflows/installers.yml runs exactly
these after `python packaging/build.py <target>`, and packaging/verify_installers.py checks that):
    linux:    python packaging/smoke_test.py dist/handoff
              python packaging/smoke_test.py --deb "dist/handoff_*.deb"
              python packaging/smoke_test.py --archive "dist/handoff-*-linux-*.tar.gz"
    windows:  python packaging/smoke_test.py dist/handoff
              then the installed copy: setup.exe /S /D=<folder>, smoke_test.py <folder>, Uninstall.exe /S
    macos:    python packaging/smoke_test.py dist/Handoff.app
              then the copy in the dmg: hdiutil attach, smoke_test.py <mount>/Handoff.app
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.server
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "packaging"
SPEC = PACKAGING / "handoff.spec"

APP_NAME = "Handoff"
APP_ID = "handoff"  # executable, .desktop file, icon name, Debian package (desktop_app.APP_ID)
# Reverse-DNS identity for the macOS bundle and AppStream. A placeholder until the product has a domain.
BUNDLE_ID = "app.handoff.Handoff"
DEVELOPER_ID = "app.handoff"
MAINTAINER = "Handoff <support@handoff.invalid>"  # placeholder: the .deb's Maintainer field
SUMMARY = "Share one live browser with an AI agent"
DESCRIPTION = (
    "Handoff shows a real browser that you and an AI agent share. Describe a task and\n"
    "watch the agent work; take over for passwords, codes, CAPTCHAs or payments, then\n"
    "hand control back with a short note."
)
# Libraries Qt's Wayland platform plugin links; any Wayland desktop has them, and without them Qt
# falls back to X11 (XWayland). Recommended rather than required.
DEB_RECOMMENDS = ["libwayland-client0", "libwayland-cursor0", "libwayland-egl1"]
OPTIONAL_LIBRARIES = re.compile(r"^libwayland-(client|cursor|egl|server)\.so")
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)

# The build and smoke-test commands per target, run from the repository root (see the docstring).
# .github/workflows/installers.yml must run these verbatim on that target's runner (checked by
# packaging/verify_installers.py); packaging/ci_linux.sh runs the Linux ones with .venv's python.
BUILD_COMMAND = "python packaging/build.py {target}"
SMOKE_TESTS = {
    "linux": [
        "python packaging/smoke_test.py dist/handoff",
        'python packaging/smoke_test.py --deb "dist/handoff_*.deb"',
        'python packaging/smoke_test.py --archive "dist/handoff-*-linux-*.tar.gz"',
    ],
    "windows": ["python packaging/smoke_test.py dist/handoff"],
    "macos": ["python packaging/smoke_test.py dist/Handoff.app"],
}


def version() -> str:
    text = (ROOT / "desktop_app" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess:
    log("$ " + " ".join(str(part) for part in command))
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


class Timer:
    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def __call__(self, name: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.start = time.monotonic()
                log(f"--- {name}")

            def __exit__(self, *exc):
                timer.steps[name] = time.monotonic() - self.start
                log(f"--- {name}: {timer.steps[name]:.1f} s")

        return _Step()


def tree_size(path: Path) -> tuple[int, int]:
    """Bytes and files under path (symlinks count as links, not as what they point to)."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(root, name)).st_size
            files += 1
    return total, files


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


# -- common steps ------------------------------------------------------------------------------


def make_icons() -> Path:
    out = WORK / "icons"
    run([sys.executable, PACKAGING / "make_icons.py", out])
    return out


def windows_version_file(ver: str) -> Path:
    numbers = [int(n) for n in re.findall(r"\d+", ver)[:3]]
    numbers += [0] * (4 - len(numbers))
    text = (PACKAGING / "windows" / "version_info.txt").read_text(encoding="utf-8")
    text = text.replace("@VERSION_TUPLE@", ", ".join(map(str, numbers))).replace("@VERSION@", ver)
    out = WORK / "version_info.txt"
    out.write_text(text, encoding="utf-8")
    return out


def spec_settings(target: str, *, trim: bool, icons: Path, ver: str) -> dict[str, str]:
    """The HANDOFF_* variables handoff.spec reads, as a build for target sets them."""
    settings = {
        "HANDOFF_TRIM": "1" if trim else "0",
        "HANDOFF_BUNDLE_CHECK": "1",
        "HANDOFF_BUNDLE_ID": BUNDLE_ID,
    }
    if target == "windows":
        settings["HANDOFF_ICON"] = str(icons / "handoff.ico")
        settings["HANDOFF_VERSION_FILE"] = str(windows_version_file(ver))
    elif target == "macos":
        settings["HANDOFF_ICON"] = str(icons / "handoff.icns")
    return settings


def pyinstaller(target: str, *, trim: bool, icons: Path, distpath: Path, ver: str) -> None:
    env = dict(os.environ)
    env.update(spec_settings(target, trim=trim, icons=icons, ver=ver))
    env["QT_QPA_PLATFORM"] = "offscreen"  # PyInstaller's Qt hooks start Qt to query it
    run(
        [
            sys.executable, "-m", "PyInstaller", SPEC,
            "--noconfirm", "--clean", "--log-level", "WARN",
            "--distpath", distpath, "--workpath", WORK / "pyinstaller",
        ],
        env=env,
        cwd=ROOT,
    )


PROBE_PAGE = (
    "<!doctype html><title>Bundle check</title><h1>Bundle check</h1>"
    "<button>Press me</button> <input placeholder='Your name'>"
)


@contextlib.contextmanager
def probe_page_server():
    """A loopback HTTP server with one page for browser-use to read (nothing leaves this machine)."""
    directory = WORK / "probe-site"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.html").write_text(PROBE_PAGE, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def app_executable(onedir: Path) -> Path:
    for name in ("handoff.exe", "handoff", "Handoff"):
        if (onedir / name).is_file():
            return onedir / name
    raise SystemExit(f"no app executable in {onedir}")


@contextlib.contextmanager
def running_app(onedir: Path):
    """The frozen app, started as a user would, with its DevTools port on a known loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{port}")
    env.pop("QTWEBENGINE_DISABLE_SANDBOX", None)
    log_path = WORK / "bundle-check-app.log"
    with log_path.open("w", encoding="utf-8") as app_log:
        process = subprocess.Popen(
            [str(app_executable(onedir)), "--temp-basedir", "--no-err-windows", "--json-logging"],
            env=env, stdin=subprocess.DEVNULL, stdout=app_log, stderr=subprocess.STDOUT,
        )
        cdp_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{cdp_url}/json/version", timeout=2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the app's DevTools port did not open; its output is in {log_path}") from None
                    time.sleep(0.3)
            yield cdp_url
        finally:
            process.terminate()  # SIGTERM: the app closes its window and exits 0
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
    if os.name == "posix" and code != 0:
        print(log_path.read_text(encoding="utf-8", errors="replace"), file=sys.stderr)
        raise SystemExit(f"the app exited with code {code} after the bundle check drove it")


def bundle_check(check_dir: Path, onedir: Path) -> None:
    """Run the verification-only executable (same modules, data and metadata as the app) against the
    freshly built app, then delete it."""
    exe = check_dir / ("handoff-bundle-check.exe" if sys.platform == "win32" else "handoff-bundle-check")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("QTWEBENGINE_DISABLE_SANDBOX", None)
    with probe_page_server() as page_url, running_app(onedir) as cdp_url:
        result = subprocess.run(
            [str(exe), "--cdp-url", cdp_url, "--page-url", page_url],
            env=env, capture_output=True, text=True, timeout=300,
        )
    failed = []
    for line in result.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            log(f"bundle check: {line}")
            continue
        if entry.get("check") == "summary":
            log(f"bundle check: {entry['total'] - entry['failed']} of {entry['total']} checks passed")
            continue
        mark = "ok  " if entry.get("passed") else "FAIL"
        log(f"bundle check {mark} {entry.get('check')}: {entry.get('detail', '')}")
        if not entry.get("passed"):
            failed.append(entry)
            if entry.get("traceback"):
                print(entry["traceback"], file=sys.stderr)
    if result.stderr.strip():
        print(result.stderr, file=sys.stderr)
    if result.returncode != 0 or failed:
        raise SystemExit(f"bundle check failed (exit code {result.returncode})")
    shutil.rmtree(check_dir)


def check_linux_libraries(onedir: Path, *, strict: bool = True) -> None:
    """Every bundled ELF file must find its libraries: in the bundle, or on the system (the .deb's Depends)."""
    internal = onedir / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=str(internal))  # as PyInstaller's bootloader sets it
    missing: dict[str, set[str]] = {}
    for path in sorted(internal.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        output = subprocess.run(["ldd", str(path)], env=env, capture_output=True, text=True).stdout
        for name in re.findall(r"^\s*(\S+) => not found", output, re.M):
            missing.setdefault(name, set()).add(str(path.relative_to(onedir)))
    optional = {name: users for name, users in missing.items() if OPTIONAL_LIBRARIES.match(name)}
    required = {name: users for name, users in missing.items() if name not in optional}
    for name, users in sorted(optional.items()):
        log(f"libraries: {name} is not installed here (Recommends; needed by {len(users)} Wayland files only)")
    if required:
        lines = [f"{name} (needed by {', '.join(sorted(users)[:3])})" for name, users in sorted(required.items())]
        message = "bundled files need libraries that are neither bundled nor installed:\n  " + "\n  ".join(lines)
        if strict:
            raise SystemExit(message)
        log(message + "\n(untrimmed build: reported only)")
        return
    log("libraries: every bundled ELF file resolves its dependencies")


# -- Linux ---------------------------------------------------------------------------------------


def debian_architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def debian_depends() -> list[str]:
    listing = PACKAGING / "linux" / "debian-packages.txt"
    names = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def minimum_glibc(onedir: Path) -> str | None:
    """The newest GLIBC_x.y symbol version any bundled file needs (what dpkg-shlibdeps would compute)."""
    newest: tuple[int, ...] = ()
    for path in onedir.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        output = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
        for found in re.findall(r"\bGLIBC_(\d+(?:\.\d+)+)\b", output):
            newest = max(newest, tuple(int(n) for n in found.split(".")))
    return ".".join(map(str, newest)) if newest else None


def build_deb(onedir: Path, icons: Path, ver: str) -> Path:
    arch = debian_architecture()
    stage = WORK / "deb" / f"{APP_ID}_{ver}_{arch}"
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(onedir, stage / "opt" / APP_ID, symlinks=True)

    bin_dir = stage / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    # Relative, so an unpacked copy (dpkg -x into any folder) starts its own bundle.
    (bin_dir / APP_ID).symlink_to(Path("..", "..", "opt", APP_ID, APP_ID))

    share = stage / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "handoff.desktop", share / "applications" / f"{APP_ID}.desktop")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "icons" / "handoff.svg", scalable / f"{APP_ID}.svg")
    for size in HICOLOR_SIZES:
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy2(icons / f"handoff-{size}.png", target / f"{APP_ID}.png")
    metainfo = (PACKAGING / "linux" / "handoff.metainfo.xml").read_text(encoding="utf-8")
    metainfo = (
        metainfo.replace("@APP_ID@", BUNDLE_ID)
        .replace("@DEVELOPER_ID@", DEVELOPER_ID)
        .replace("@VERSION@", ver)
        .replace("@DATE@", dt.date.today().isoformat())
    )
    (share / "metainfo").mkdir(parents=True)
    metainfo_path = share / "metainfo" / f"{BUNDLE_ID}.metainfo.xml"
    metainfo_path.write_text(metainfo, encoding="utf-8")
    doc = share / "doc" / APP_ID
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {APP_NAME}\n\nFiles: *\nCopyright: {APP_NAME}\nLicense: proprietary\n"
        " All rights reserved. /opt/handoff bundles third-party components (Qt, Chromium, Python\n"
        " and Python packages) under their own licenses.\n",
        encoding="utf-8",
    )

    validate_desktop_metadata(share / "applications" / f"{APP_ID}.desktop", metainfo_path)

    depends = debian_depends()
    glibc = minimum_glibc(stage / "opt" / APP_ID)
    if glibc:
        depends.insert(0, f"libc6 (>= {glibc})")
    installed_kb = tree_size(stage)[0] // 1024
    control = stage / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: {APP_ID}\n"
        f"Version: {ver}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kb}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(DEB_RECOMMENDS)}\n"
        "Section: web\n"
        "Priority: optional\n"
        f"Description: {SUMMARY}\n"
        + "".join(f" {line}\n" for line in DESCRIPTION.splitlines()),
        encoding="utf-8",
    )
    normalize_permissions(stage)

    out = DIST / f"{APP_ID}_{ver}_{arch}.deb"
    out.unlink(missing_ok=True)
    # zstd: fast on 2 cores and ~20% smaller than gzip here; dpkg reads it since Debian 12 / Ubuntu 21.10.
    run(["dpkg-deb", "--root-owner-group", "-Zzstd", "-z9", "--threads-max=0", "--build", stage, out])
    return out


def validate_desktop_metadata(desktop: Path, metainfo: Path) -> None:
    if shutil.which("desktop-file-validate"):
        run(["desktop-file-validate", desktop])
    else:
        log("desktop-file-validate not installed (package desktop-file-utils): .desktop file not validated")
    if shutil.which("appstreamcli"):
        # Errors fail the build; warnings and pedantic notes are printed only.
        result = subprocess.run(
            ["appstreamcli", "validate", "--no-net", "--explain", str(metainfo)], capture_output=True, text=True
        )
        print(result.stdout.strip())
        if result.returncode != 0 and re.search(r"^E:", result.stdout, re.M):
            raise SystemExit("appstreamcli found errors in the metainfo file")
    else:
        log("appstreamcli not installed (package appstream): metainfo not validated")


def normalize_permissions(stage: Path) -> None:
    for root, dirs, files in os.walk(stage):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            executable = os.stat(path).st_mode & 0o111
            os.chmod(path, 0o755 if executable else 0o644)


def build_tarball(onedir: Path, ver: str) -> Path:
    arch = platform.machine()
    out = DIST / f"{APP_ID}-{ver}-linux-{arch}.tar.gz"

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(out, "w:gz", compresslevel=6) as archive:
        archive.add(onedir, arcname=APP_ID, filter=owned_by_root)
    return out


# -- Windows -------------------------------------------------------------------------------------


def find_makensis() -> str:
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):  # Windows: case-insensitive
        if base and Path(base, "NSIS", "makensis.exe").is_file():
            return str(Path(base, "NSIS", "makensis.exe"))
    raise SystemExit("NSIS (makensis) not found: install it, e.g. `choco install nsis` or from nsis.sourceforge.io")


def makensis_command(
    onedir: Path, icon: Path, ver: str, out: Path, *, makensis: str, settings=(), verbosity: int = 3
) -> list[str]:
    """The makensis command line for packaging/windows/handoff.nsi. settings: script lines run before
    the script (-X), e.g. verify_installers.py's "Target amd64-unicode" for its wine run."""
    numbers = [n for n in re.findall(r"\d+", ver)[:3]] + ["0"] * 4
    return [
        makensis, f"-V{verbosity}",
        *(f"-X{line}" for line in settings),
        f"-DVERSION={ver}", f"-DVERSION4={'.'.join(numbers[:4])}",
        f"-DSRCDIR={onedir}", f"-DOUTFILE={out}", f"-DICON={icon}",
        str(PACKAGING / "windows" / "handoff.nsi"),
    ]


def build_nsis(onedir: Path, icons: Path, ver: str) -> Path:
    out = DIST / f"{APP_NAME}-{ver}-windows-x64-setup.exe"
    out.unlink(missing_ok=True)
    run(makensis_command(onedir, icons / "handoff.ico", ver, out, makensis=find_makensis()))
    return out


# -- macOS ---------------------------------------------------------------------------------------


def build_dmg(app: Path, ver: str) -> Path:
    out = DIST / f"{APP_NAME}-{ver}-macos-{platform.machine()}.dmg"
    run(["sh", PACKAGING / "macos" / "make_dmg.sh", app, out])
    return out


# -- main ----------------------------------------------------------------------------------------

HOSTS = {"linux": "linux", "windows": "win32", "macos": "darwin"}
ARTIFACT_PATTERNS = {
    "linux": [f"{APP_ID}_*.deb", f"{APP_ID}-*-linux-*.tar.gz"],
    "windows": [f"{APP_NAME}-*-setup.exe"],
    "macos": [f"{APP_NAME}-*.dmg"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=sorted(HOSTS))
    parser.add_argument("--no-trim", action="store_true", help="no trimming; onedir only, into build/untrimmed/")
    parser.add_argument("--onedir-only", action="store_true", help="skip the installers")
    parser.add_argument("--keep-build", action="store_true", help="keep build/packaging/")
    args = parser.parse_args(argv)
    if not sys.platform.startswith(HOSTS[args.target]):
        raise SystemExit(f"build the {args.target} installers on {args.target} (this is {sys.platform})")

    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise SystemExit('PyInstaller is missing: pip install -e ".[package]"') from None

    ver = version()
    timer = Timer()
    started = time.monotonic()
    distpath = ROOT / "build" / "untrimmed" if args.no_trim else DIST
    onedir = distpath / APP_ID
    for stale in (onedir, distpath / f"{APP_ID}-check", distpath / f"{APP_NAME}.app", WORK):
        if stale.exists():
            shutil.rmtree(stale)
    WORK.mkdir(parents=True)
    distpath.mkdir(parents=True, exist_ok=True)
    if not (args.no_trim or args.onedir_only):
        # Earlier installers for this OS (another version, say) would confuse smoke_test.py's globs.
        for pattern in ARTIFACT_PATTERNS[args.target]:
            for old in DIST.glob(pattern):
                old.unlink()

    with timer("icons"):
        icons = make_icons()
    with timer("pyinstaller"):
        pyinstaller(args.target, trim=not args.no_trim, icons=icons, distpath=distpath, ver=ver)
    with timer("bundle check"):
        bundle_check(distpath / f"{APP_ID}-check", onedir)
    if args.target == "linux":
        with timer("library check"):
            check_linux_libraries(onedir, strict=not args.no_trim)

    size, files = tree_size(onedir)
    summary = {"version": ver, "target": args.target, "trimmed": not args.no_trim, "onedir": str(onedir),
               "onedir_bytes": size, "onedir_files": files}
    log(f"onedir {onedir}: {mb(size)} in {files} files ({'trimmed' if not args.no_trim else 'NOT trimmed'})")

    artifacts: list[Path] = []
    if not (args.no_trim or args.onedir_only):
        if args.target == "linux":
            with timer(".deb"):
                artifacts.append(build_deb(onedir, icons, ver))
            with timer(".tar.gz"):
                artifacts.append(build_tarball(onedir, ver))
        elif args.target == "windows":
            with timer("NSIS installer"):
                artifacts.append(build_nsis(onedir, icons, ver))
        else:
            with timer(".dmg"):
                artifacts.append(build_dmg(distpath / f"{APP_NAME}.app", ver))

    if not args.keep_build:
        shutil.rmtree(WORK, ignore_errors=True)
        if (ROOT / "build").is_dir() and not any((ROOT / "build").iterdir()):
            (ROOT / "build").rmdir()

    summary["artifacts"] = {str(path): path.stat().st_size for path in artifacts}
    summary["seconds"] = {name: round(value, 1) for name, value in timer.steps.items()}
    summary["seconds"]["total"] = round(time.monotonic() - started, 1)
    for path in artifacts:
        log(f"artifact {path}: {mb(path.stat().st_size)}")
    log("steps: " + ", ".join(f"{name} {value:.1f} s" for name, value in timer.steps.items()))
    log(f"total: {summary['seconds']['total']:.1f} s")
    print("BUILD-SUMMARY " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
