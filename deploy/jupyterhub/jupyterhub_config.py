"""JupyterHub for one Attune course: real Unix users, one shared environment, formgrader for the instructor only.

Read by `jupyterhub -f /srv/jupyterhub/jupyterhub_config.py`, run as root from /srv/jupyterhub (mode 0700: it holds
the hub's database and cookie secret). Course-specific values come from course.toml next to this file.
"""

import os
import tomllib
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

here = Path(__file__).resolve().parent
course = tomllib.loads((here / "course.toml").read_text())
prefix = course["prefix"]
instructor = course["instructor"]
# Servers and services run `jupyter`, `nbgrader` and nbgrader's `alembic` subprocess from the shared environment.
path = f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin"

c.JupyterHub.bind_url = course["bind_url"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = course["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{course['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [f"{prefix}/bin/configurable-http-proxy"]
c.JupyterHub.db_url = f"sqlite:///{here / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(here / "jupyterhub_cookie_secret")

# Log in with the machine's own accounts (PAM); only members of the course's groups may.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_groups = {course["trainee_group"], course["instructor_group"]}
c.Authenticator.admin_users = {instructor}
# Users are created by deploy/jupyterhub/add-user.sh (private home folders), never by the hub.
c.LocalAuthenticator.create_system_users = False

# Each user's server is their own process, as their own Unix user, in their home folder.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [f"{prefix}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"PATH": path}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# Formgrader runs as a hub-managed service, as the instructor, with the course folder under its working folder.
# Only the instructor may open it (role below); trainees' servers do not load formgrader at all (install.sh
# disables it in the shared environment, add-user.sh --instructor enables it in the instructor's own config).
c.JupyterHub.services = [
    {
        "name": "formgrader",
        "url": f"http://127.0.0.1:{course['formgrader_port']}",
        "command": [f"{prefix}/bin/jupyterhub-singleuser", f"--ServerApp.root_dir={course['course_dir']}"],
        "user": instructor,
        "cwd": course["course_dir"],
        "environment": {"PATH": path, "HOME": str(Path(course["course_dir"]).parent)},
        "oauth_no_confirm": True,
    },
]
roles = [
    {"name": "formgrader-instructor", "scopes": ["access:services!service=formgrader"], "users": [instructor]},
]
# Optional: a token for scripting the cohort (start every trainee's server before a session, list who is
# active). Set ATTUNE_HUB_ADMIN_TOKEN in the hub's environment to enable it; unset, no such token exists.
if os.environ.get("ATTUNE_HUB_ADMIN_TOKEN"):
    c.JupyterHub.services.append(
        {"name": "cohort-admin", "api_token": os.environ["ATTUNE_HUB_ADMIN_TOKEN"]})
    roles.append({"name": "cohort-admin",
                  "scopes": ["admin:users", "admin:servers", "tokens", "list:users", "read:users"],
                  "services": ["cohort-admin"]})
c.JupyterHub.load_roles = roles
