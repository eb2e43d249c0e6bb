# Sourced by install.sh and add-user.sh: the root check, where things are, and reading course.toml.
script="$(basename "$0")"
[ "$(id -u)" = 0 ] || { echo "$script: run as root (sudo)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
hub_dir="${ATTUNE_HUB_DIR:-/srv/jupyterhub}"

# toml KEY: the value of KEY in $config; a broken file or a missing key stops the script, naming both.
toml() {
    /usr/bin/python3 - "$config" "$1" "$script" <<'PY'
import sys, tomllib
path, key, script = sys.argv[1:]
try:
    with open(path, "rb") as handle:
        values = tomllib.load(handle)
except (OSError, tomllib.TOMLDecodeError) as err:
    sys.exit(f"{script}: cannot read {path}: {err}")
if key not in values:
    sys.exit(f"{script}: {path} has no '{key}'; copy it from deploy/jupyterhub/course.toml")
print(values[key])
PY
}
