#!/usr/bin/env bash
# Set up one Attune course on this machine's JupyterHub. Run as root from a clone of the Attune repository:
#     sudo deploy/jupyterhub/install.sh [path/to/course.toml]
# It is safe to run again (after editing course.toml, or to upgrade the shared environment).
# What it does:
#   1. a shared Python environment at course.toml's `prefix` (Attune, JupyterHub, JupyterLab, nbgrader), built from
#      Debian's /usr/bin/python3 and readable by every user; configurable-http-proxy from npm inside it;
#   2. nbgrader's settings every user must see (course id, exchange) in that environment's etc/jupyter/;
#      formgrader and the course list switched off there, so trainees' servers never load them;
#   3. the exchange folder, mode 1777 (sticky);
#   4. the hub's private folder /srv/jupyterhub (mode 0700) with jupyterhub_config.py and course.toml;
#   5. the course's Unix groups. Users come next, with deploy/jupyterhub/add-user.sh;
#   6. a check that the grading sandbox (bubblewrap) starts for an ordinary user, as it must for the instructor's
#      `nbgrader autograde`, formgrader's Autograde and `attune grade` (it warns, naming the reason, if not).
set -euo pipefail
source "$(dirname "$0")/common.sh"
config="${1:-$here/course.toml}"
[ -f "$config" ] || { echo "install.sh: no course file at $config" >&2; exit 1; }
prefix="$(toml prefix)"; exchange="$(toml exchange)"; course_id="$(toml course_id)"
trainees="$(toml trainee_group)"; instructors="$(toml instructor_group)"

missing=()
/usr/bin/python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# The instructor's executed grading runs each submission's kernel in bubblewrap (README: "The grading sandbox").
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install.sh: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "install.sh: shared environment in $prefix"
umask 022
[ -x "$prefix/bin/python" ] || /usr/bin/python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet --upgrade pip 2>/dev/null
"$prefix/bin/python" -m pip install --quiet "$repo[hub]" 2> >(grep -v "^WARNING: Location" >&2)
npm install --silent --no-fund --no-audit --prefix "$prefix/proxy" configurable-http-proxy@5 >/dev/null
ln -sf "$prefix/proxy/node_modules/.bin/configurable-http-proxy" "$prefix/bin/configurable-http-proxy"

# Everyone's nbgrader reads this file; the instructor's own config adds the course folder.
mkdir -p "$prefix/etc/jupyter"
cat >"$prefix/etc/jupyter/nbgrader_config.py" <<PY
# Written by deploy/jupyterhub/install.sh: what every user of the course must agree on.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "$course_id"
c.Exchange.root = "$exchange"
PY
# Trainees' servers: no formgrader, no course list, no assignment creation (add-user.sh --instructor turns them
# back on in the instructor's own config only).
"$prefix/bin/jupyter" server extension disable --sys-prefix nbgrader.server_extensions.formgrader >/dev/null 2>&1
"$prefix/bin/jupyter" server extension disable --sys-prefix nbgrader.server_extensions.course_list >/dev/null 2>&1
for plugin in formgrader course-list create-assignment; do
    "$prefix/bin/jupyter" labextension disable --level=sys_prefix "@jupyter/nbgrader:$plugin" >/dev/null 2>&1
done
# JupyterLab for a class: no "get Jupyter news?" prompt, no update checks (read when each server starts).
mkdir -p "$prefix/share/jupyter/lab/settings"
cat >"$prefix/share/jupyter/lab/settings/overrides.json" <<JSON
{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
JSON
chmod -R a+rX "$prefix"

echo "install.sh: exchange in $exchange (mode 1777)"
mkdir -p "$exchange"
chown root:root "$exchange"
chmod 1777 "$exchange"

echo "install.sh: hub folder $hub_dir (mode 0700)"
install -d -m 0700 "$hub_dir"
install -m 0600 "$here/jupyterhub_config.py" "$hub_dir/jupyterhub_config.py"
[ "$(cd "$(dirname "$config")" && pwd)/$(basename "$config")" = "$hub_dir/course.toml" ] \
    || install -m 0600 "$config" "$hub_dir/course.toml"

# On a machine run by systemd, a unit to start the hub at boot (`systemctl enable --now attune-hub`).
if [ -d /run/systemd/system ]; then
    cat >/etc/systemd/system/attune-hub.service <<UNIT
[Unit]
Description=JupyterHub for the Attune course
After=network.target

[Service]
User=root
WorkingDirectory=$hub_dir
Environment=PATH=$prefix/bin:/usr/local/bin:/usr/bin:/bin
ExecStart=$prefix/bin/jupyterhub -f $hub_dir/jupyterhub_config.py
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload
    echo "install.sh: systemd unit attune-hub.service written (not enabled)"
fi

getent group "$trainees" >/dev/null || groupadd "$trainees"
getent group "$instructors" >/dev/null || groupadd "$instructors"

# The instructor is an ordinary user: bwrap then needs unprivileged user namespaces (off on some kernels, or
# restricted by AppArmor on Ubuntu 24.04). Try the sandbox as `nobody`, the way executed grading will start it.
if why="$(cd / && runuser -u nobody -- env -i PATH="$prefix/bin:/usr/bin:/bin" LANG=C.UTF-8 "$prefix/bin/python" -c '
import sys
from autograder.adapters.sandbox import GradingSandbox
why = GradingSandbox().check()
print(why)
sys.exit(1 if why else 0)' 2>&1)"; then
    echo "install.sh: the grading sandbox starts for an ordinary user"
else
    echo "install.sh: WARNING: the grading sandbox does not start for an ordinary user, so the instructor's" >&2
    echo "executed grading will refuse to run (attune grade --static still works): $why" >&2
fi
echo "install.sh: done. Add users with $here/add-user.sh, then start the hub:"
echo "    cd $hub_dir && $prefix/bin/jupyterhub -f $hub_dir/jupyterhub_config.py"
