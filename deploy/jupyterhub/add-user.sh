#!/usr/bin/env bash
# Add course users (real Unix users with private home folders, each with a copy of the lessons).
# Run as root from the Attune repository:
#     sudo deploy/jupyterhub/add-user.sh [--instructor] NAME...
# then give each a password (`passwd NAME`) or the machine's usual login. Existing users are moved into the course
# group and get a private home folder (mode 0700): with Debian's default 0755, other users could read their work,
# and the instructor's solutions/ and gradebook.db.
# --instructor also copies the course (nbgrader_config.py, solutions/, exercises/) into course.toml's course_dir,
# points the instructor's nbgrader at it, and turns formgrader on in the instructor's own config only.
set -euo pipefail
source "$(dirname "$0")/common.sh"
config="$hub_dir/course.toml"
role=trainee
[ "${1:-}" = "--instructor" ] && { role=instructor; shift; }
[ $# -gt 0 ] || { echo "usage: add-user.sh [--instructor] NAME..." >&2; exit 2; }
[ -f "$config" ] || { echo "add-user.sh: $config is missing; run install.sh first" >&2; exit 1; }
prefix="$(toml prefix)"
group="$(toml "${role}_group")"

for name in "$@"; do
    if id "$name" >/dev/null 2>&1; then
        usermod -a -G "$group" "$name"
    else
        useradd --create-home -K HOME_MODE=0700 --shell /bin/bash -G "$group" "$name"
    fi
    home="$(getent passwd "$name" | cut -d: -f6)"
    chmod 0700 "$home"
    # The lessons (no answer keys in them): the user's own copy, at the path the exercises name
    # (course/lessons/...). The installed `course` package still wins over this plain folder on import.
    if [ ! -e "$home/course/lessons" ]; then
        group_of="$(id -gn "$name")"
        install -d -o "$name" -g "$group_of" -m 0700 "$home/course" "$home/course/lessons"
        install -o "$name" -g "$group_of" -m 0600 "$repo"/course/lessons/*.ipynb "$home/course/lessons/"
    fi
    echo "add-user.sh: $name ($role), home $home (mode 0700), lessons in $home/course/lessons"
done

[ "$role" = instructor ] || exit 0
name="$1"
home="$(getent passwd "$name" | cut -d: -f6)"
course_dir="$(toml course_dir)"
case "$course_dir" in "$home"/*) ;; *) echo "add-user.sh: course_dir $course_dir must lie inside $home" >&2; exit 1;; esac
if [ ! -e "$course_dir" ]; then
    install -d -o "$name" -g "$name" -m 0700 "$course_dir"
    cp -r "$repo/nbgrader_config.py" "$repo/solutions" "$repo/exercises" "$course_dir/"
    chown -R "$name:$name" "$course_dir"
    echo "add-user.sh: course copied to $course_dir"
fi
cd "$home"  # the instructor may not be able to read the folder this script was started from
as_instructor() { runuser -u "$name" -- env HOME="$home" PATH="$prefix/bin:/usr/bin:/bin" "$@"; }
as_instructor mkdir -p "$home/.jupyter"
as_instructor tee "$home/.jupyter/nbgrader_config.py" >/dev/null <<PY
# Written by deploy/jupyterhub/add-user.sh: the instructor's nbgrader works on the course folder, with its config.
c = get_config()  # noqa: F821
load_subconfig("$course_dir/nbgrader_config.py")  # noqa: F821
c.CourseDirectory.root = "$course_dir"
PY
# (`jupyter server extension enable` refuses these two: nbgrader 0.9 declares them the older way.)
as_instructor tee "$home/.jupyter/jupyter_server_config.json" >/dev/null <<JSON
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": true,
                                       "nbgrader.server_extensions.course_list": true}}}
JSON
for plugin in formgrader course-list create-assignment; do
    as_instructor jupyter labextension enable --level=user "@jupyter/nbgrader:$plugin" >/dev/null 2>&1
done
echo "add-user.sh: $name grades in formgrader (the hub's formgrader service) from $course_dir"
