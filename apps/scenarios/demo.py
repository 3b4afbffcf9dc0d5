"""Demo content: the images of ``build_images --set demo`` (and ``--set desktop``) and three published scenarios.

Runs after ``apps.accounts.demo`` (it needs the demo creator and admin). Each scenario is created,
submitted, approved and published through the workflow services, inside one transaction, and only
when its slug does not exist yet, so running the seed again changes nothing.
"""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import User
from apps.images.models import ImageVariant, MachineRole
from apps.scenarios import services
from apps.scenarios.models import Scenario

CREATOR_EMAIL = "creator@rangex.local"
ADMIN_EMAIL = "admin@rangex.local"

VARIANTS = [
    {
        "image_ref": "rangex/attacker:latest",
        "display_name": "RangeX attacker (Debian, nmap, netcat, curl, ssh)",
        "base_os": "debian-bookworm",
        "variant_type": "standard",
        "suitable_for_roles": [MachineRole.ATTACKER],
        "included_tools": ["nmap", "netcat", "curl", "ssh"],
        "image_category": "attacker",
    },
    {
        "image_ref": "rangex/victim-web:latest",
        "display_name": "RangeX victim web (intranet with a path traversal)",
        "base_os": "debian-bookworm",
        "variant_type": "lite",
        "suitable_for_roles": [MachineRole.VICTIM],
        "image_category": "web",
        # The service runs as www-data and listens on port 80.
        "allowed_capabilities": ["NET_BIND_SERVICE"],
        "terminal_user": "www-data",
    },
    {
        "image_ref": "rangex/pivot:latest",
        "display_name": "RangeX pivot host (ssh server, socat)",
        "base_os": "debian-bookworm",
        "variant_type": "standard",
        "suitable_for_roles": [MachineRole.SERVICE, MachineRole.VICTIM],
        "included_tools": ["ssh", "socat", "netcat", "curl"],
        "image_category": "network",
        # sshd needs these for an interactive login: switch to the user (SETUID, SETGID), chroot its
        # privilege separation (SYS_CHROOT), hand the pty to the user (CHOWN), and PAM's audit record
        # (AUDIT_WRITE); without the last two it closes the connection right after the password.
        "allowed_capabilities": ["SETUID", "SETGID", "SYS_CHROOT", "CHOWN", "AUDIT_WRITE"],
    },
]

DESKTOP_VARIANT = {
    "image_ref": "rangex/desktop:latest",
    "display_name": "RangeX desktop (Xfce, Firefox ESR, terminal; in the browser over noVNC)",
    "base_os": "debian-bookworm",
    "variant_type": "full",
    "suitable_for_roles": [MachineRole.ATTACKER],
    "included_tools": ["firefox-esr", "xfce4-terminal", "ssh", "curl"],
    "image_category": "desktop",
    "has_gui": True,
    "memory_mb": 1024,
    "cpu_cores": "1.00",
    # The desktop starts as root, reads its VNC password file and drops to player (runuser).
    "allowed_capabilities": ["SETUID", "SETGID"],
    "terminal_user": "player",
    "default_healthcheck": {"port": 5901, "timeout": 60},
}
VARIANTS.append(DESKTOP_VARIANT)

DESKTOP_PIVOT_MISSION = """\
Your workstation this time is a **desktop** in the browser: open the *Desktops* tab below the mission.
Acme's intranet web server sits on an internal network your desktop cannot reach; the host **pivot**
is on both networks.

1. In the desktop's terminal, open a SOCKS tunnel through the pivot:
   `ssh -N -D 1080 player@pivot` (password `pivot-demo`). Firefox on the desktop already sends its
   traffic to that tunnel (127.0.0.1:1080).
2. Open Firefox (the *Applications* menu, *Internet*; or `firefox-esr &` in a new terminal tab), browse to
   `http://victim-web/`, or in the terminal use `curl --socks5-hostname 127.0.0.1:1080 http://victim-web/`,
   and find the flag.
"""

PIVOT_POINT_MISSION = """\
Acme keeps its intranet on an internal network that your workstation cannot reach.
One host, **pivot**, sits on both the DMZ and the internal network.

1. Find the pivot host from your workstation (`nmap -sT 10.0.0.0/8` is slow; look at your own network first).
2. Use it to reach the intranet web server **victim-web** on the internal network.
3. The document viewer has a weakness. Read `/srv/flag.txt` and submit the flag.
"""

PIVOT_POINT_QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "Submit the flag stored in `/srv/flag.txt` on the intranet server.",
        "points": 50,
        "max_attempts": None,
        "answer": "",
        "match": "exact",
        "dynamic": True,
        "flag_machine": "victim-web",
        "flag_path": "/srv/flag.txt",
    },
    {
        "id": "q2",
        "type": "single_choice",
        "prompt": "Which weakness of the intranet's `/view` page lets you read files outside the web root?",
        "points": 20,
        "max_attempts": 2,
        "options": ["SQL injection", "Path traversal", "Cross-site scripting", "Open redirect"],
        "correct": [1],
    },
    {
        "id": "q3",
        "type": "numeric",
        "prompt": "On which TCP port does the intranet web server listen?",
        "points": 10,
        "max_attempts": 3,
        "answer": 80,
        "tolerance": 0,
    },
]

PIVOT_POINT_HINTS = [
    {"id": "h1", "question_id": "q1", "text": "The pivot host accepts SSH as player / pivot-demo.", "cost": 10},
    {"id": "h2", "question_id": "q1", "text": "Try /view?doc=../flag.txt from the pivot host.", "cost": 20},
    {"id": "h3", "question_id": "q2", "text": "Look at how the doc parameter becomes a file path.", "cost": 5},
]

FIRST_STEPS_QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "Read the flag in `/root/flag.txt` on your workstation.",
        "points": 10,
        "max_attempts": None,
        "answer": "",
        "match": "exact",
        "dynamic": True,
        "flag_machine": "workstation",
        "flag_path": "/root/flag.txt",
    },
    {
        "id": "q2",
        "type": "numeric",
        "prompt": "Which major Debian release runs on the workstation? (`cat /etc/debian_version`)",
        "points": 5,
        "max_attempts": 3,
        "answer": 12,
        "tolerance": 0,
    },
    {
        "id": "q3",
        "type": "single_choice",
        "prompt": "Which command lists the TCP ports a Linux machine listens on?",
        "points": 5,
        "max_attempts": 1,
        "options": ["ss -tln", "ls -l /etc", "cat /etc/hosts"],
        "correct": [0],
    },
]


# Validation rules: every test deployment runs them (``manage.py test_scenario pivot-point``), so
# the intended route is proven end to end: the pivot's SSH password, the traversal, the flag.
PIVOT_SSH = """\
printf '#!/bin/sh\\necho pivot-demo\\n' > /tmp/askpass && chmod 700 /tmp/askpass
pivot() {
  SSH_ASKPASS=/tmp/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 ssh -o StrictHostKeyChecking=no \\
    -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no -o ConnectTimeout=10 -o LogLevel=ERROR \\
    player@pivot "$@" </dev/null
}
"""
FLAG_URL = "http://victim-web/view?doc=../flag.txt"
TRAVERSAL = f"curl -s '{FLAG_URL}'"

PIVOT_POINT_RULES = [
    # The segmentation the mission relies on: the intranet is out of the attacker's reach...
    {
        "check_type": "reachable",
        "machine_name": "attacker",
        "target_machine": "victim-web",
        "port": 80,
        "expect_reachable": False,
        "timeout_seconds": 5,
    },
    # ...but not of the pivot's, and the pivot's SSH is open to the attacker.
    {"check_type": "reachable", "machine_name": "pivot", "target_machine": "victim-web", "port": 80},
    {"check_type": "reachable", "machine_name": "attacker", "target_machine": "pivot", "port": 22},
    {"check_type": "http", "machine_name": "pivot", "check_target": "http://victim-web/", "expected_status": 200},
    {
        "check_type": "solution",
        "machine_name": "attacker",
        "question_id": "q1",
        "timeout_seconds": 60,
        "command": f'{PIVOT_SSH}pivot "{TRAVERSAL}"\n',
    },
    {
        "check_type": "solution",
        "machine_name": "attacker",
        "question_id": "q2",
        "timeout_seconds": 60,
        "command": f"{PIVOT_SSH}pivot \"{TRAVERSAL}\" | grep -q '^RX{{' && echo 'Path traversal'\n",
    },
    {
        "check_type": "solution",
        "machine_name": "attacker",
        "question_id": "q3",
        "timeout_seconds": 60,
        "command": f"{PIVOT_SSH}pivot 'nc -z -w 3 victim-web 80' && echo 80\n",
    },
]

# Desktop Pivot: the desktop opens the mission's SOCKS tunnel through the pivot (as player, with the
# pivot's password), and what goes through it reaches the intranet.
DESKTOP_TUNNEL = """\
ask=$(mktemp) && printf '#!/bin/sh\\necho pivot-demo\\n' > "$ask" && chmod 700 "$ask"
SSH_ASKPASS=$ask SSH_ASKPASS_REQUIRE=force DISPLAY=:0 ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \\
  -o PubkeyAuthentication=no -o ConnectTimeout=10 -o LogLevel=ERROR -o ExitOnForwardFailure=yes \\
  -N -D 127.0.0.1:1080 player@pivot </dev/null >/dev/null 2>&1 &
tunnel=$!
trap 'kill $tunnel 2>/dev/null; rm -f "$ask"' EXIT
i=0; until ss -tln | grep -q '127.0.0.1:1080 '; do i=$((i+1)); [ $i -lt 40 ] || exit 1; sleep 0.5; done
"""
# Firefox as the solver starts it (the player's profile, the image's proxy policy) on the desktop's
# display; the window's title becomes the intranet page's once the page came through the tunnel.
DESKTOP_FIREFOX = """\
DISPLAY=:1 HOME=/home/player firefox-esr http://victim-web/ >/dev/null 2>&1 &
firefox=$!
i=0; titles=''
while [ $i -lt 60 ]; do
  titles=$(DISPLAY=:1 xwininfo -root -tree 2>/dev/null | grep -i 'firefox' || true)
  case "$titles" in *'Acme intranet'*) break ;; esac
  i=$((i+1)); sleep 1
done
kill $firefox; wait $firefox 2>/dev/null; echo "$titles"
"""

DESKTOP_PIVOT_RULES = [
    # The desktop's VNC server answers on its loopback (what the Desktops tab relays to).
    {
        "check_type": "command",
        "machine_name": "desktop",
        "run_as": "player",
        "command": "socat -T 5 - TCP:127.0.0.1:5901 </dev/null | head -c 12",
        "pattern": r"^RFB 003\.00[38]",
        "timeout_seconds": 20,
    },
    # The segmentation: the intranet is out of the desktop's reach, the pivot's SSH is not.
    {
        "check_type": "reachable",
        "machine_name": "desktop",
        "target_machine": "victim-web",
        "port": 80,
        "expect_reachable": False,
        "timeout_seconds": 5,
    },
    {"check_type": "reachable", "machine_name": "desktop", "target_machine": "pivot", "port": 22},
    {"check_type": "reachable", "machine_name": "pivot", "target_machine": "victim-web", "port": 80},
    {
        "check_type": "solution",
        "machine_name": "desktop",
        "run_as": "player",
        "question_id": "q1",
        "timeout_seconds": 60,
        "command": f"{DESKTOP_TUNNEL}curl -s -m 10 --socks5-hostname 127.0.0.1:1080 '{FLAG_URL}'\n",
    },
    {
        "check_type": "command",
        "machine_name": "desktop",
        "run_as": "player",
        "timeout_seconds": 120,
        "command": DESKTOP_TUNNEL + DESKTOP_FIREFOX,
        "pattern": "Acme intranet",
    },
]

FIRST_STEPS_RULES = [
    {"check_type": "solution", "machine_name": "workstation", "question_id": "q1", "command": "cat /root/flag.txt"},
    {
        "check_type": "solution",
        "machine_name": "workstation",
        "question_id": "q2",
        "command": "cut -d. -f1 /etc/debian_version",
    },
    {
        "check_type": "solution",
        "machine_name": "workstation",
        "question_id": "q3",
        "command": "ss -tln >/dev/null && echo 'ss -tln'",
    },
]


def _variants() -> dict[str, ImageVariant]:
    """Create the curated demo variants once; an admin's later edits are kept."""
    out = {}
    for spec in VARIANTS:
        defaults = {k: v for k, v in spec.items() if k != "image_ref"}
        variant, _ = ImageVariant.objects.get_or_create(
            image_ref=spec["image_ref"], defaults={**defaults, "is_active": True, "is_admin_approved": True}
        )
        out[spec["image_ref"].split("/", 1)[1].split(":", 1)[0]] = variant
    return out


def _add_rules(version, rules, *, creator: User) -> None:
    for rule in rules:
        services.validation_rule_add(version=version, actor=creator, **rule)


def _add_pivot_and_intranet(version, variants, *, creator) -> None:
    """Add the pivot host (SSH as player / pivot-demo) and the intranet web server behind it, as in Pivot Point."""
    services.machine_add(
        version=version,
        actor=creator,
        name="pivot",
        role=MachineRole.SERVICE,
        image_variant=variants["pivot"],
        network_group="dmz",
        is_pivot_host=True,
        ssh_enabled=True,
        ssh_username="player",
        ssh_password="pivot-demo",  # noqa: S106 (a documented training password inside the lab)
        exposed_ports=[{"port": 22, "protocol": "tcp"}],
        sort_order=1,
    )
    services.machine_add(
        version=version,
        actor=creator,
        name="victim-web",
        role=MachineRole.VICTIM,
        image_variant=variants["victim-web"],
        network_group="internal",
        web_enabled=True,
        exposed_ports=[{"port": 80, "protocol": "tcp"}],
        sort_order=2,
    )
    services.pivot_point_add(
        version=version, actor=creator, source="dmz", target="internal", description="The pivot host bridges them."
    )


def _publish(version, *, creator: User, admin: User) -> None:
    services.scenario_version_submit(version=version, actor=creator)
    # Seeding needs no engine, so the demo is published without a test deployment; the test command
    # test-deploys both demo scenarios on the real engine (apps/scenarios/tests/test_demo_solvable.py).
    services.scenario_version_approve(version=version, actor=admin, require_test=False)
    services.scenario_version_publish(version=version, actor=admin, require_test=False)


@transaction.atomic
def _seed_pivot_point(*, creator: User, admin: User, variants: dict[str, ImageVariant]) -> None:
    version = services.scenario_create(
        actor=creator,
        slug="pivot-point",
        title="Pivot Point",
        short_description="Reach an internal web server through a dual-homed host and exploit a path traversal.",
        category="network",
        difficulty="intermediate",
        tags=["pivoting", "ssh", "web", "path-traversal"],
        estimated_minutes=45,
        scenario_type="challenge",
        hint_mode="penalty",
        creator_name="RangeX demo team",
        mission_text=PIVOT_POINT_MISSION,
        learning_outcomes="Discover hosts, pivot through SSH, exploit a path traversal.",
        code_of_ethics="Attack only the machines of this lab.",
        solution_writeup=("ssh player@pivot (password pivot-demo); curl 'http://victim-web/view?doc=../flag.txt'."),
        questions=PIVOT_POINT_QUESTIONS,
        hints=PIVOT_POINT_HINTS,
    )
    services.machine_add(
        version=version,
        actor=creator,
        name="attacker",
        role=MachineRole.ATTACKER,
        image_variant=variants["attacker"],
        network_group="dmz",
        allow_solver_entry=True,
        sort_order=0,
    )
    _add_pivot_and_intranet(version, variants, creator=creator)
    _add_rules(version, PIVOT_POINT_RULES, creator=creator)
    _publish(version, creator=creator, admin=admin)


@transaction.atomic
def _seed_first_steps(*, creator: User, admin: User, variants: dict[str, ImageVariant]) -> None:
    version = services.scenario_create(
        actor=creator,
        slug="first-steps",
        title="First Steps",
        short_description="Find your way around a Linux workstation: files, ports and a first flag.",
        category="linux",
        difficulty="beginner",
        tags=["linux", "basics"],
        estimated_minutes=15,
        scenario_type="challenge",
        hint_mode="free",
        creator_name="RangeX demo team",
        mission_text="Open a terminal on your workstation, look around, and answer the questions.",
        questions=FIRST_STEPS_QUESTIONS,
        hints=[{"id": "h1", "question_id": "q1", "text": "Use cat.", "cost": 0}],
    )
    services.machine_add(
        version=version,
        actor=creator,
        name="workstation",
        role=MachineRole.ATTACKER,
        image_variant=variants["attacker"],
        network_group="lab",
        allow_solver_entry=True,
    )
    _add_rules(version, FIRST_STEPS_RULES, creator=creator)
    _publish(version, creator=creator, admin=admin)


@transaction.atomic
def _seed_desktop_pivot(*, creator: User, admin: User, variants: dict[str, ImageVariant]) -> None:
    version = services.scenario_create(
        actor=creator,
        slug="desktop-pivot",
        title="Desktop Pivot",
        short_description="Browse an internal web server from a desktop in your browser, through an SSH tunnel.",
        category="network",
        difficulty="beginner",
        tags=["pivoting", "ssh", "web", "desktop"],
        estimated_minutes=20,
        scenario_type="challenge",
        hint_mode="free",
        creator_name="RangeX demo team",
        mission_text=DESKTOP_PIVOT_MISSION,
        code_of_ethics="Attack only the machines of this lab.",
        solution_writeup="ssh -N -D 1080 player@pivot; Firefox: http://victim-web/view?doc=../flag.txt",
        questions=PIVOT_POINT_QUESTIONS[:1],
        hints=[],
    )
    services.machine_add(
        version=version,
        actor=creator,
        name="desktop",
        role=MachineRole.ATTACKER,
        image_variant=variants["desktop"],
        network_group="dmz",
        allow_solver_entry=True,
        resource_profile="medium",
        run_as_user="root",
        sort_order=0,
    )
    _add_pivot_and_intranet(version, variants, creator=creator)
    _add_rules(version, DESKTOP_PIVOT_RULES, creator=creator)
    _publish(version, creator=creator, admin=admin)


SCENARIOS = {
    "pivot-point": _seed_pivot_point,
    "first-steps": _seed_first_steps,
    "desktop-pivot": _seed_desktop_pivot,
}


def seed(stdout) -> None:
    """Create the demo images and scenarios that are missing."""
    creator = User.objects.get(email=CREATOR_EMAIL)
    admin = User.objects.get(email=ADMIN_EMAIL)
    variants = _variants()
    for slug, build in SCENARIOS.items():
        if Scenario.objects.filter(slug=slug).exists():
            continue
        build(creator=creator, admin=admin, variants=variants)
        stdout.write(f"Published the demo scenario {slug}.")
