# shellcheck shell=sh
# Shared by scripts/run, scripts/test and packaging/ci_linux.sh (sourced, not run). POSIX sh.

repo_root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
venv="$repo_root/.venv"

# Run as root directly, otherwise through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages listed in the given files that are not installed yet.
ensure_debian_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "Not a Debian system: install the packages in $* with your package manager if Qt fails to start." >&2
        return 0
    fi
    missing=""
    for package in $(grep -hv '^\s*#' "$@" | tr -s ' \n' ' '); do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
    done
    if [ -n "$missing" ]; then
        echo "Installing Debian packages:$missing"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    fi
}

# Create .venv (once) and install the project with the given extras, e.g. "[test]".
ensure_venv() {
    extras=${1:-}
    python=${PYTHON:-python3}
    if [ ! -x "$venv/bin/python" ]; then
        if ! "$python" -m venv "$venv" 2>/dev/null; then
            ensure_debian_packages_named python3-venv
            rm -rf "$venv"
            "$python" -m venv "$venv"
        fi
    fi
    # Installed once per version of pyproject.toml (and extras): later starts go straight to the app.
    stamp="$venv/.handoff-installed$extras"
    wanted="$(cksum < "$repo_root/pyproject.toml")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e "$repo_root$extras"
    printf '%s\n' "$wanted" > "$stamp"
}

ensure_debian_packages_named() {
    list=$(mktemp)
    printf '%s\n' "$@" > "$list"
    ensure_debian_packages "$list"
    rm -f "$list"
}
