"""Check, on Linux, what only the Windows and macOS runners of the GitHub workflow can build.

    python packaging/verify_installers.py                   # all steps; needs dist/handoff (build.py linux)
    python packaging/verify_installers.py --only shellcheck actionlint workflow info-plist
    python packaging/verify_installers.py --keep            # keep build/verify-installers/ to look at

packaging/ci_linux.sh runs it after the Linux build, with .venv's python. Steps, each timed:

  shellcheck  every shell script in the repository (git ls-files: *.sh and files with an sh/bash
              shebang) passes shellcheck, style notes included
  actionlint  .github/workflows/installers.yml passes actionlint (which also runs shellcheck on its
              bash `run:` scripts)
  workflow    its matrix covers exactly build.py's targets, each on its own OS, and each target's
              steps run build.py's install, build and smoke-test commands (build.py BUILD_COMMAND,
              SMOKE_TESTS) in that order; packaging/ci_linux.sh runs the Linux ones
  info-plist  handoff.spec's macOS branch, run here with PyInstaller's build steps replaced by
              recorders: the Info.plist PyInstaller would write from its BUNDLE and EXE arguments is
              a valid property list with what QtWebEngine and signing need (packaging/macos/
              info_plist.py); entitlements.plist holds exactly the four documented entitlements
  nsis        Debian's makensis compiles packaging/windows/handoff.nsi as build.py does, with the
              Linux onedir as stand-in payload (same layout: handoff.exe and _internal/; other
              binaries): x86-unicode, the target that ships, and amd64-unicode for wine. Both are
              stored uncompressed (-X"SetCompressor /FINAL zlib" -X"SetCompress off"): the script's
              LZMA takes ~4 minutes per build on 2 cores and checks nothing about the script
  wine        Debian's wine64 runs an installer silently (/S /D=C:\\Handoff Test\\Handoff) in a fresh
              WINEPREFIX and checks the installed files, Uninstall.exe, the Start menu and desktop
              shortcuts (their targets), and the "Installed apps" registry values; then runs the
              QuietUninstallString it registered and checks that all of that is gone. wine64 runs
              64-bit programs only (32-bit ones need wine32 from Debian's i386 architecture), so it
              runs the amd64-unicode build of the same script unless wine here can run 32-bit programs

Exit code 0 when every step passed. Needs: shellcheck, nsis, wine64 (Debian), and the "package"
extra (actionlint, PyYAML), all installed by packaging/ci_linux.sh.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
WORKFLOW = ROOT / ".github" / "workflows" / "installers.yml"
WORK = ROOT / "build" / "verify-installers"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load("handoff_build", PACKAGING / "build.py")
info_plist = _load("handoff_info_plist", PACKAGING / "macos" / "info_plist.py")

# What the tests install into the wine prefix. A space in the path: Windows user folders often have one.
INSTALL_DIR = r"C:\Handoff Test\Handoff"
UNINSTALL_KEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall\Handoff"
# Uncompressed stand-in installers (see the docstring); 8020 is makensis noting the script's own
# SetCompressor line is overridden by the /FINAL one.
FAST_SETTINGS = ("SetCompressor /FINAL zlib", "SetCompress off")
ALLOWED_MAKENSIS_WARNINGS = {"8020"}
RUNNER_OS = {"linux": "Linux", "windows": "Windows", "macos": "macOS"}
RUNNER_IMAGE = {"linux": "ubuntu-", "windows": "windows-", "macos": "macos-"}
PIP_INSTALL = 'python -m pip install -e ".[package]"'
ENTITLEMENTS = {
    "com.apple.security.cs.allow-jit",
    "com.apple.security.cs.allow-unsigned-executable-memory",
    "com.apple.security.cs.disable-executable-page-protection",
    "com.apple.security.cs.disable-library-validation",
}


class Failure(Exception):
    """A check found something wrong."""


def log(message: str) -> None:
    print(f"[verify] {message}", flush=True)


def tool(name: str, package: str, *candidates: str) -> str:
    for candidate in (name, *candidates):
        found = shutil.which(candidate) or (candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else None)
        if found:
            return found
    raise Failure(f"{name} not found: install the Debian package {package} (packaging/ci_linux.sh does)")


def run(command: list, *, timeout: float, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [str(part) for part in command], capture_output=True, text=True, errors="replace",
            timeout=timeout, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise Failure(f"timed out after {timeout:.0f} s: {' '.join(map(str, command))}") from error


# -- shellcheck ----------------------------------------------------------------------------------


def shell_scripts() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    scripts = []
    for name in sorted(filter(None, listed.decode().split("\0"))):
        path = ROOT / name
        if not path.is_file():
            continue
        if path.suffix in (".sh", ".bash"):
            scripts.append(path)
            continue
        with path.open("rb") as handle:
            first = handle.readline(200)
        if re.match(rb"#!\s*\S*?/(env\s+)?(sh|bash|dash|ksh)\b", first):
            scripts.append(path)
    return scripts


def check_shellcheck() -> None:
    shellcheck = tool("shellcheck", "shellcheck")
    scripts = shell_scripts()
    if not scripts:
        raise Failure("found no shell scripts (is this a git checkout?)")
    log("shell scripts: " + ", ".join(str(path.relative_to(ROOT)) for path in scripts))
    # -x: follow `. lib.sh` (the scripts name it with a `# shellcheck source=` line, relative to the root).
    result = run([shellcheck, "-x", *(path.relative_to(ROOT) for path in scripts)], cwd=ROOT, timeout=120)
    if result.returncode != 0:
        raise Failure("shellcheck reported:\n" + result.stdout + result.stderr)


# -- actionlint and the workflow -------------------------------------------------------------------


def check_actionlint() -> None:
    actionlint = str(Path(sys.executable).parent / "actionlint")  # the package extra's, not another on PATH
    if not os.access(actionlint, os.X_OK):
        raise Failure('actionlint not found: pip install -e ".[package]" (packaging/ci_linux.sh does)')
    version = run([actionlint, "-version"], timeout=30).stdout.splitlines()
    log(f"actionlint {version[0] if version else '?'}")
    shellcheck = tool("shellcheck", "shellcheck")
    result = run(
        [actionlint, "-no-color", f"-shellcheck={shellcheck}", "-pyflakes=", WORKFLOW.relative_to(ROOT)],
        cwd=ROOT, timeout=120,
    )
    if result.returncode != 0:
        raise Failure("actionlint reported:\n" + result.stdout + result.stderr)


def _step_runs_on(step: dict, target: str) -> bool:
    condition = step.get("if")
    if condition is None:
        return True
    match = re.fullmatch(r"\s*(?:\$\{\{\s*)?runner\.os\s*==\s*'([^']+)'\s*(?:\}\})?\s*", str(condition))
    if not match:
        raise Failure(f"step {step.get('name')!r}: cannot tell which targets `if: {condition}` selects "
                      "(this check understands runner.os == '<OS>' only)")
    if match.group(1) not in RUNNER_OS.values():
        raise Failure(f"step {step.get('name')!r}: runner.os is never {match.group(1)!r} "
                      f"(it is one of {', '.join(RUNNER_OS.values())})")
    return match.group(1) == RUNNER_OS[target]


def _command_lines(script: str) -> list[str]:
    """A run: script as commands: comments dropped, `\\` continuations joined, blanks dropped."""
    lines, pending = [], ""
    for raw in script.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            lines.append(" ".join(line.split()))
    return lines


def check_workflow() -> None:
    import yaml

    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    jobs = [job for job in document.get("jobs", {}).values() if "matrix" in job.get("strategy", {})]
    if len(jobs) != 1:
        raise Failure(f"expected one job with a build matrix, found {len(jobs)}")
    job = jobs[0]
    include = job["strategy"]["matrix"].get("include") or []
    targets = {entry.get("target"): entry.get("os") for entry in include}
    if set(targets) != set(build.HOSTS) or len(include) != len(build.HOSTS):
        raise Failure(f"matrix targets {sorted(map(str, targets))} are not build.py's {sorted(build.HOSTS)} (once each)")
    if job.get("runs-on") != "${{ matrix.os }}":
        raise Failure(f"runs-on is {job.get('runs-on')!r}, not ${{{{ matrix.os }}}}")
    problems = []
    for target, image in targets.items():
        if not str(image).startswith(RUNNER_IMAGE[target]):
            problems.append(f"{target} runs on {image!r}, not an {RUNNER_IMAGE[target]}* runner")
        commands: list[str] = []
        for step in job.get("steps", []):
            if "run" in step and _step_runs_on(step, target):
                script = step["run"].replace("${{ matrix.target }}", target).replace("${{ matrix.os }}", str(image))
                commands += _command_lines(script)
        wanted = [PIP_INSTALL, build.BUILD_COMMAND.format(target=target), *build.SMOKE_TESTS[target]]
        positions = []
        for command in wanted:
            if command not in commands:
                problems.append(f"{target}: the workflow never runs `{command}`")
            else:
                positions.append(commands.index(command))
        if positions != sorted(positions):
            problems.append(f"{target}: the workflow runs {wanted} out of this order")
        log(f"workflow: {target} on {image}: " + "; ".join(wanted))
    # ci_linux.sh: the same Linux build and smoke tests, with .venv's python.
    ci_commands = [line.replace('"$venv/bin/python"', "python")
                   for line in _command_lines((PACKAGING / "ci_linux.sh").read_text(encoding="utf-8"))]
    for command in [build.BUILD_COMMAND.format(target="linux"), *build.SMOKE_TESTS["linux"]]:
        if command not in ci_commands:
            problems.append(f"packaging/ci_linux.sh never runs `{command}` (with \"$venv/bin/python\" for python)")
    if problems:
        raise Failure("\n".join(problems))


# -- Info.plist ------------------------------------------------------------------------------------


def run_spec(platform: str, settings: dict[str, str]) -> dict[str, list]:
    """Execute handoff.spec as PyInstaller would on `platform`, with its build steps (Analysis, PYZ,
    EXE, COLLECT, BUNDLE) replaced by recorders; returns the recorded calls by step."""
    calls: dict[str, list] = defaultdict(list)

    class Recorder:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs
            calls[type(self).__name__].append(self)

    class Analysis(Recorder):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.binaries, self.datas, self.pure, self.scripts = [], [], [], []

    steps = {cls.__name__: cls for cls in (
        Analysis, type("PYZ", (Recorder,), {}), type("EXE", (Recorder,), {}),
        type("COLLECT", (Recorder,), {}), type("BUNDLE", (Recorder,), {}),
    )}
    # Imported on the real platform first: PyInstaller reads sys.platform (and the macOS version) at import.
    import PyInstaller.utils.hooks  # noqa: F401

    spec = PACKAGING / "handoff.spec"
    namespace = {"__name__": "__main__", "__file__": str(spec), "SPEC": str(spec), "SPECPATH": str(spec.parent), **steps}
    saved_platform, saved_environ = sys.platform, dict(os.environ)
    output = io.StringIO()
    try:
        sys.platform = platform
        os.environ.update(settings)
        with contextlib.redirect_stdout(output):
            exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    except Exception as error:
        raise Failure(f"handoff.spec failed as on {platform}: {error!r}\n{output.getvalue()}") from error
    finally:
        sys.platform = saved_platform
        os.environ.clear()
        os.environ.update(saved_environ)
    return calls


def check_info_plist() -> None:
    try:
        import desktop_app
    except ImportError as error:
        raise Failure('desktop_app is not importable: pip install -e ".[package]" into this python') from error

    version = desktop_app.__version__
    icons = WORK / "icons"  # only the file names matter here
    calls = run_spec("darwin", build.spec_settings("macos", trim=True, icons=icons, ver=build.version()))
    bundles = calls.get("BUNDLE", [])
    if len(bundles) != 1:
        raise Failure(f"handoff.spec called BUNDLE {len(bundles)} times on macOS, expected once")
    bundle = bundles[0].kwargs
    app_exes = [exe for exe in calls["EXE"] if exe.kwargs.get("name") != "handoff-bundle-check"]
    if len(app_exes) != 1:
        raise Failure(f"expected one app EXE on macOS, found {len(app_exes)}")
    exe = app_exes[0].kwargs
    plist = info_plist.written_info_plist(
        name=bundle.get("name", ""), executable=exe.get("name", ""), bundle_identifier=bundle.get("bundle_identifier"),
        icon=bundle.get("icon"), version=bundle.get("version", "0.0.0"), console=bool(exe.get("console", True)),
        info_plist=bundle.get("info_plist"),
    )
    written = plistlib.dumps(plist, fmt=plistlib.FMT_XML)
    (WORK / "Info.plist").parent.mkdir(parents=True, exist_ok=True)
    (WORK / "Info.plist").write_bytes(written)
    found = info_plist.problems(
        plistlib.loads(written), version=version, bundle_identifier=build.BUNDLE_ID,
        executable=build.APP_NAME, app_name=build.APP_NAME,
    )
    if bundle.get("name") != f"{build.APP_NAME}.app":
        found.append(f"BUNDLE name is {bundle.get('name')!r}, not {build.APP_NAME}.app (build.py and the smoke test use that)")
    if not exe.get("entitlements_file") or Path(exe["entitlements_file"]) != PACKAGING / "macos" / "entitlements.plist":
        found.append(f"the app EXE's entitlements_file is {exe.get('entitlements_file')!r}, not packaging/macos/entitlements.plist")
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    if set(entitlements) != ENTITLEMENTS or not all(value is True for value in entitlements.values()):
        found.append(f"entitlements.plist holds {entitlements}, expected exactly {sorted(ENTITLEMENTS)} set to true")
    log(f"Info.plist ({len(plist)} keys, written to {(WORK / 'Info.plist').relative_to(ROOT)}): "
        + ", ".join(f"{key}={value!r}" for key, value in sorted(plist.items())))
    if found:
        raise Failure("Info.plist:\n  " + "\n  ".join(found))


# -- NSIS ------------------------------------------------------------------------------------------


def stage_payload(onedir: Path, stage: Path) -> tuple[int, int]:
    """A Windows-shaped copy of the Linux onedir: handoff.exe and _internal/, hard links where possible.
    Symlinks (the Linux onedir has some; a Windows one has none) are left out."""
    if stage.exists():
        shutil.rmtree(stage)
    size = files = 0
    for root, dirs, names in os.walk(onedir):
        relative = Path(root).relative_to(onedir)
        (stage / relative).mkdir(parents=True, exist_ok=True)
        dirs[:] = [name for name in dirs if not os.path.islink(os.path.join(root, name))]
        for name in names:
            source = Path(root, name)
            if source.is_symlink():
                continue
            target_name = build.APP_ID + ".exe" if relative == Path(".") and name == build.APP_ID else name
            target = stage / relative / target_name
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
            size += source.stat().st_size
            files += 1
    if not (stage / (build.APP_ID + ".exe")).is_file() or not (stage / "_internal").is_dir():
        raise Failure(f"{onedir} does not look like a onedir build (no {build.APP_ID} or _internal/)")
    return size, files


def pe_machine(path: Path) -> int:
    data = path.read_bytes()[:4096]
    if data[:2] != b"MZ":
        raise Failure(f"{path.name} is not a Windows executable (no MZ header)")
    offset = struct.unpack_from("<I", data, 0x3C)[0]
    if data[offset:offset + 4] != b"PE\0\0":
        raise Failure(f"{path.name} has no PE header")
    return struct.unpack_from("<H", data, offset + 4)[0]


MACHINES = {0x14C: "x86", 0x8664: "amd64"}


def compile_installer(makensis: str, payload: Path, icon: Path, target: str, out: Path) -> None:
    # -V2: warnings and errors only (build.py's -V3 lists every file).
    command = build.makensis_command(payload, icon, build.version(), out, makensis=makensis,
                                     settings=(f"Target {target}", *FAST_SETTINGS), verbosity=2)
    started = time.monotonic()
    result = run(command, timeout=900)
    output = result.stdout + result.stderr
    if result.returncode != 0 or not out.is_file():
        raise Failure(f"makensis ({target}) failed with exit code {result.returncode}:\n{output}")
    # makensis ends with "N warning(s):" and one indented "NNNN: text" line per warning.
    summary = re.split(r"^\d+ warnings?:$", output, maxsplit=1, flags=re.M)
    warnings = re.findall(r"^\s+(\d{4}): (.*)$", summary[1], re.M) if len(summary) == 2 else []
    unexpected = [f"{code}: {text}" for code, text in warnings if code not in ALLOWED_MAKENSIS_WARNINGS]
    if unexpected:
        raise Failure(f"makensis ({target}) warned:\n  " + "\n  ".join(unexpected))
    machine = MACHINES.get(pe_machine(out), hex(pe_machine(out)))
    expected = "x86" if target.startswith("x86") else "amd64"
    if machine != expected:
        raise Failure(f"{out.name} is a {machine} executable, expected {expected}")
    log(f"makensis {target}: {out.name}, {out.stat().st_size / 1e6:.1f} MB, {machine} PE, "
        f"{time.monotonic() - started:.1f} s, warnings: {', '.join(code for code, _ in warnings) or 'none'}")


class Nsis:
    """The nsis and wine steps share the staged payload and the installers."""

    def __init__(self, onedir: Path) -> None:
        self.onedir = onedir
        self.payload = WORK / "payload" / build.APP_ID
        self.installers: dict[str, Path] = {}

    def compile(self) -> None:
        makensis = tool("makensis", "nsis")
        if not self.onedir.is_dir():
            raise Failure(f"{self.onedir} is missing: run `python packaging/build.py linux` first")
        size, files = stage_payload(self.onedir, self.payload)
        log(f"stand-in payload: {files} files, {size / 1e6:.1f} MB from {self.onedir.relative_to(ROOT)} "
            f"({build.APP_ID} renamed {build.APP_ID}.exe, symlinks left out)")
        icons = WORK / "icons"
        result = run([sys.executable, PACKAGING / "make_icons.py", icons], timeout=120,
                     env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        if result.returncode != 0 or not (icons / "handoff.ico").is_file():
            raise Failure("make_icons.py failed:\n" + result.stdout + result.stderr)
        for target in ("x86-unicode", "amd64-unicode"):
            out = WORK / target / f"{build.APP_NAME}-{build.version()}-windows-x64-setup.exe"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.unlink(missing_ok=True)
            compile_installer(makensis, self.payload, icons / "handoff.ico", target, out)
            self.installers[target] = out


# -- wine --------------------------------------------------------------------------------------------


def _reg_unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x":
                match = re.match(r"[0-9a-fA-F]{1,4}", text[i + 2:])
                if match:
                    out.append(chr(int(match.group(0), 16)))
                    i += 2 + len(match.group(0))
                    continue
            out.append({"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def read_registry_key(reg_file: Path, key: str) -> dict[str, object] | None:
    """The values of one key in a wine registry file (user.reg, system.reg), or None if it is absent.
    REG_SZ values as str, REG_DWORD as int, anything else as its raw text."""
    values: dict[str, object] | None = None
    for line in reg_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("["):
            name = _reg_unescape(line[1:line.rindex("]")])
            if values is not None:
                break
            if name.lower() == key.lower():
                values = {}
            continue
        if values is None:
            continue
        match = re.match(r'^(?:"((?:[^"\\]|\\.)*)"|@)=(.*)$', line)
        if not match:
            continue
        name, raw = _reg_unescape(match.group(1) or ""), match.group(2)
        if raw.startswith('"') and raw.endswith('"'):
            values[name] = _reg_unescape(raw[1:-1])
        elif raw.startswith("dword:"):
            values[name] = int(raw[len("dword:"):], 16)
        else:
            values[name] = raw
    return values


def read_shortcut(path: Path) -> dict[str, str]:
    """Target, working directory, arguments and icon of a .lnk file ([MS-SHLLINK])."""
    data = path.read_bytes()
    if len(data) < 0x4C or struct.unpack_from("<I", data, 0)[0] != 0x4C:
        raise Failure(f"{path.name} is not a shell link")
    flags = struct.unpack_from("<I", data, 0x14)[0]
    unicode = bool(flags & 0x80)
    offset = 0x4C
    if flags & 0x01:  # HasLinkTargetIDList
        offset += 2 + struct.unpack_from("<H", data, offset)[0]
    found: dict[str, str] = {}
    if flags & 0x02:  # HasLinkInfo
        start = offset
        size, header_size, info_flags, _volume, local_base = struct.unpack_from("<5I", data, start)
        if info_flags & 0x01:
            if header_size >= 0x24:
                unicode_base = struct.unpack_from("<I", data, start + 0x1C)[0]
                end = data.index(b"\0\0", start + unicode_base)
                end += (end - (start + unicode_base)) % 2
                found["target"] = data[start + unicode_base:end].decode("utf-16-le")
            else:
                end = data.index(b"\0", start + local_base)
                found["target"] = data[start + local_base:end].decode("mbcs" if os.name == "nt" else "latin-1")
        offset = start + size
    for bit, name in ((0x04, "name"), (0x08, "relative_path"), (0x10, "working_dir"), (0x20, "arguments"), (0x40, "icon")):
        if flags & bit:
            count = struct.unpack_from("<H", data, offset)[0]
            width = 2 if unicode else 1
            raw = data[offset + 2:offset + 2 + count * width]
            found[name] = raw.decode("utf-16-le" if unicode else "latin-1").rstrip("\0")  # wine counts the NUL
            offset += 2 + count * width
    return found


class Wine:
    def __init__(self, work: Path) -> None:
        self.wine = tool("wine64", "wine64", "/usr/lib/wine/wine64")
        self.wineserver = tool("wineserver64", "wine64", "wineserver", "/usr/lib/wine/wineserver64")
        self.prefix = work / "prefix"
        home = work / "home"
        home.mkdir(parents=True, exist_ok=True)
        self.env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("WINE", "XDG_", "DISPLAY", "WAYLAND"))
        }
        self.env.update(
            WINEPREFIX=str(self.prefix), WINEARCH="win64", WINEDEBUG="-all",
            # No menu entries or .desktop files for the shortcuts, no Mono/Gecko download prompts.
            WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree=d;mshtml=d",
            # Wine links the profile's Desktop etc. to $HOME: keep all of it inside the work folder.
            HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"), XDG_DESKTOP_DIR=str(home / "Desktop"),
        )

    def __call__(self, *args, timeout: float) -> subprocess.CompletedProcess:
        return run([self.wine, *args], env=self.env, timeout=timeout)

    def wait(self, timeout: float = 120) -> None:
        """Wait until every process in the prefix has exited (and the registry is saved to disk)."""
        run([self.wineserver, "-w"], env=self.env, timeout=timeout)

    def kill(self) -> None:
        with contextlib.suppress(Failure, OSError):
            run([self.wineserver, "-k"], env=self.env, timeout=30)

    def host_path(self, windows_path: str) -> Path:
        drive, _, rest = windows_path.partition(":")
        if drive.upper() != "C":
            raise Failure(f"{windows_path} is not on drive C:")
        return self.prefix / "drive_c" / Path(*[part for part in rest.split("\\") if part])

    def can_run_32_bit(self) -> bool:
        return any(Path(base, "i386-windows", "ntdll.dll").is_file()
                   for base in ("/usr/lib/i386-linux-gnu/wine", "/usr/lib/wine"))

    def profile(self) -> Path:
        users = [path for path in (self.prefix / "drive_c" / "users").iterdir() if path.name.lower() != "public"]
        if len(users) != 1:
            raise Failure(f"expected one user profile in the prefix, found {[path.name for path in users]}")
        return users[0]


def tree(path: Path) -> dict[str, int]:
    """Relative path (lower case, Windows is case-insensitive) -> size, for every file under path."""
    return {
        str(Path(root, name).relative_to(path)).lower(): os.path.getsize(os.path.join(root, name))
        for root, _dirs, names in os.walk(path) for name in names
    }


def check_installed(wine: Wine, payload: Path, install_dir: Path, version: str) -> dict[str, object]:
    problems = []
    expected = tree(payload)
    installed = tree(install_dir) if install_dir.is_dir() else {}
    if not installed:
        raise Failure(f"nothing was installed into {INSTALL_DIR}")
    uninstaller = installed.pop("uninstall.exe", None)
    missing = sorted(set(expected) - set(installed))
    extra = sorted(set(installed) - set(expected))
    wrong_size = sorted(name for name in set(expected) & set(installed) if expected[name] != installed[name])
    for label, names in (("missing", missing), ("unexpected", extra), ("with another size", wrong_size)):
        if names:
            problems.append(f"{len(names)} files {label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
    if not uninstaller or pe_machine(install_dir / "Uninstall.exe") not in MACHINES:
        problems.append("no Uninstall.exe (a Windows executable) in the install folder")
    log(f"installed: {len(installed)} files, {sum(installed.values()) / 1e6:.1f} MB, and Uninstall.exe "
        f"({(uninstaller or 0) / 1e3:.0f} kB)")

    profile = wine.profile()
    executable = f"{INSTALL_DIR}\\{build.APP_ID}.exe"
    for label, link in (
        ("Start menu", profile / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / f"{build.APP_NAME}.lnk"),
        ("desktop", profile / "Desktop" / f"{build.APP_NAME}.lnk"),
    ):
        if not link.is_file():
            problems.append(f"no {label} shortcut ({link.relative_to(wine.prefix)})")
            continue
        shortcut = read_shortcut(link)
        log(f"{label} shortcut: {shortcut}")
        if shortcut.get("target", "").lower() != executable.lower():
            problems.append(f"the {label} shortcut points to {shortcut.get('target')!r}, not {executable!r}")
        if shortcut.get("working_dir", "").lower() != INSTALL_DIR.lower():
            problems.append(f"the {label} shortcut starts in {shortcut.get('working_dir')!r}, not {INSTALL_DIR!r}")
        if shortcut.get("icon", "").lower() != executable.lower():
            problems.append(f"the {label} shortcut's icon is {shortcut.get('icon')!r}, not {executable!r}")

    values = read_registry_key(wine.prefix / "user.reg", UNINSTALL_KEY)
    if values is None:
        problems.append(f"no HKCU\\{UNINSTALL_KEY} in the registry")
        values = {}
    log(f"HKCU\\{UNINSTALL_KEY}: {values}")
    uninstall_exe = f"{INSTALL_DIR}\\Uninstall.exe"
    wanted = {
        "DisplayName": build.APP_NAME,
        "DisplayVersion": version,
        "Publisher": build.APP_NAME,
        "DisplayIcon": f"{executable},0",
        "InstallLocation": INSTALL_DIR,
        "UninstallString": f'"{uninstall_exe}"',
        "QuietUninstallString": f'"{uninstall_exe}" /S',
        "NoModify": 1,
        "NoRepair": 1,
    }
    for name, value in wanted.items():
        if values.get(name) != value:
            problems.append(f"registry value {name} is {values.get(name)!r}, expected {value!r}")
    size_kb = (sum(installed.values()) + (uninstaller or 0)) / 1024
    estimated = values.get("EstimatedSize")
    if not isinstance(estimated, int) or abs(estimated - size_kb) > max(0.02 * size_kb, 64):
        problems.append(f"registry value EstimatedSize is {estimated!r} kB, the installed files take {size_kb:.0f} kB")
    if problems:
        raise Failure("after the silent install:\n  " + "\n  ".join(problems))
    return values


def check_uninstalled(wine: Wine, install_dir: Path) -> None:
    problems = []
    if install_dir.exists():
        left = sorted(str(path.relative_to(install_dir)) for path in install_dir.rglob("*"))
        problems.append(f"{INSTALL_DIR} is still there with {len(left)} entries: {', '.join(left[:5])}")
    profile = wine.profile()
    for link in (
        profile / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / f"{build.APP_NAME}.lnk",
        profile / "Desktop" / f"{build.APP_NAME}.lnk",
    ):
        if link.exists():
            problems.append(f"{link.relative_to(wine.prefix)} is still there")
    if read_registry_key(wine.prefix / "user.reg", UNINSTALL_KEY) is not None:
        problems.append(f"HKCU\\{UNINSTALL_KEY} is still in the registry")
    if problems:
        raise Failure("after the silent uninstall:\n  " + "\n  ".join(problems))


def check_wine(nsis: Nsis) -> None:
    if not nsis.installers:
        raise Failure("no installers to run (the nsis step failed)")
    wine = Wine(WORK / "wine")
    version = build.version()
    if wine.can_run_32_bit():
        installer = nsis.installers["x86-unicode"]
        log("wine runs 32-bit programs here: running the x86-unicode installer (the one that ships)")
    else:
        installer = nsis.installers["amd64-unicode"]
        log("wine64 here runs 64-bit programs only (no wine32: Debian ships it for the i386 architecture), "
            "so it runs the amd64-unicode build of the same script; the x86-unicode one was only compiled")
    install_dir = wine.host_path(INSTALL_DIR)
    timings: dict[str, float] = {}
    try:
        started = time.monotonic()
        result = wine("wineboot", "--init", timeout=300)
        wine.wait(timeout=300)
        if result.returncode != 0 or not (wine.prefix / "user.reg").is_file():
            raise Failure(f"wineboot failed (exit code {result.returncode}):\n{result.stdout}{result.stderr}")
        timings["wine prefix"] = time.monotonic() - started
        log(f"wine prefix: {timings['wine prefix']:.1f} s ({run([wine.wine, '--version'], timeout=30).stdout.strip()})")

        started = time.monotonic()
        # Through cmd /c: wine would quote a /D=... argument that has a space, and NSIS wants it bare
        # and last, as Windows passes it.
        windows_installer = "Z:" + str(installer).replace("/", "\\")
        result = wine("cmd", "/c", f"{windows_installer} /S /D={INSTALL_DIR}", timeout=600)
        wine.wait(timeout=300)
        timings["wine install"] = time.monotonic() - started
        log(f"silent install: exit code {result.returncode}, {timings['wine install']:.1f} s")
        if result.returncode != 0:
            raise Failure(f"the installer exited with code {result.returncode}:\n{result.stdout}{result.stderr}")
        values = check_installed(wine, nsis.payload, install_dir, version)

        started = time.monotonic()
        quiet = str(values["QuietUninstallString"])
        match = re.fullmatch(r'"([^"]+)"\s*(.*)', quiet)
        if not match:
            raise Failure(f"cannot parse QuietUninstallString {quiet!r}")
        result = wine(match.group(1), *match.group(2).split(), timeout=600)
        wine.wait(timeout=300)  # the uninstaller reruns itself from %TEMP% and returns at once
        timings["wine uninstall"] = time.monotonic() - started
        log(f"silent uninstall ({quiet}): exit code {result.returncode}, {timings['wine uninstall']:.1f} s")
        if result.returncode != 0:
            raise Failure(f"the uninstaller exited with code {result.returncode}:\n{result.stdout}{result.stderr}")
        check_uninstalled(wine, install_dir)
        log("wine: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
    finally:
        wine.kill()


# -- main ------------------------------------------------------------------------------------------

STEPS = ("shellcheck", "actionlint", "workflow", "info-plist", "nsis", "wine")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps (wine needs nsis)")
    parser.add_argument("--onedir", type=Path, default=build.DIST / build.APP_ID, help="the Linux onedir (default: dist/handoff)")
    parser.add_argument("--keep", action="store_true", help="keep build/verify-installers/")
    args = parser.parse_args(argv)
    selected = args.only or list(STEPS)
    if "wine" in selected and "nsis" not in selected:
        selected.append("nsis")

    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    nsis = Nsis(args.onedir.resolve())
    timings: dict[str, float] = {}
    actions = {
        "shellcheck": check_shellcheck,
        "actionlint": check_actionlint,
        "workflow": check_workflow,
        "info-plist": check_info_plist,
        "nsis": nsis.compile,
        "wine": lambda: check_wine(nsis),
    }
    failed = []
    started_all = time.monotonic()
    for name in STEPS:
        if name not in selected:
            continue
        log(f"--- {name}")
        started = time.monotonic()
        try:
            actions[name]()
        except Failure as error:
            failed.append(name)
            print(f"[verify] FAIL {name}: {error}", file=sys.stderr, flush=True)
        timings[name] = time.monotonic() - started
        log(f"--- {name}: {'FAILED' if name in failed else 'ok'}, {timings[name]:.1f} s")
    if not args.keep:
        shutil.rmtree(WORK, ignore_errors=True)
        with contextlib.suppress(OSError):
            (ROOT / "build").rmdir()  # only if empty
    total = time.monotonic() - started_all
    log("steps: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()) + f"; total {total:.1f} s")
    if failed:
        log(f"FAILED: {', '.join(failed)}")
        return 1
    log(f"all {len([name for name in STEPS if name in selected])} steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
