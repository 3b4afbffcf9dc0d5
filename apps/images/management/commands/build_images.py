"""Build RangeX's local images with the Docker CLI, from Debian packages only.

``--set test``: ``rangex/busybox:latest``, imported from a tar of Debian's busybox-static (seconds).
``--set demo``: ``rangex/debian:bookworm`` (debootstrap minbase) and, on top of it, the Dockerfiles in
deploy/images/ (attacker, victim-web, pivot).
``--set gateway``: ``rangex/gateway:latest``, the session SSH gateway (openssh-server only, on the
debian base; about 20 s once the base exists). ``demo`` and ``all`` include it.
``--set desktop``: the Debian base and ``rangex/desktop`` (Xfce, TigerVNC, Firefox ESR; several minutes),
tagged with a hash of its build context as well as ``latest``: it is skipped while an image of that
content exists, so CI and ``deploy/test.sh`` build it once and rebuild it only when its files change.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

BUSYBOX = "rangex/busybox:latest"
DEBIAN = "rangex/debian:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
IMAGES_DIR = Path(settings.BASE_DIR) / "deploy" / "images"
DESKTOP = "rangex/desktop"

PASSWD = (
    b"root:x:0:0:root:/root:/bin/sh\n"
    b"player:x:1000:1000:player:/home/player:/bin/sh\n"
    b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = b"root:x:0:\nplayer:x:1000:\nnogroup:x:65534:\n"


def busybox_rootfs_tar(busybox: Path = Path("/bin/busybox")) -> bytes:
    """Return a root filesystem tar: busybox, one symlink per applet, users root and player."""
    if not busybox.exists():
        raise CommandError(f"{busybox} is missing: install Debian's busybox-static.")
    applets = subprocess.run([str(busybox), "--list"], check=True, capture_output=True, text=True).stdout.split()
    buffer = io.BytesIO()
    now = time.time()

    def add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755, uid: int = 0) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid, info.mtime = tarfile.DIRTYPE, mode, uid, uid, now
        tar.addfile(info)

    def add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), mode, now
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "proc", "sys", "dev"):
            add_dir(tar, folder, 0o700 if folder == "root" else 0o755)
        add_dir(tar, "tmp", 0o1777)
        add_dir(tar, "home/player", 0o755, uid=1000)
        add_file(tar, "bin/busybox", busybox.read_bytes(), 0o755)
        for applet in applets:
            if applet == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, now
            tar.addfile(info)
        add_file(tar, "etc/passwd", PASSWD)
        add_file(tar, "etc/group", GROUP)
        add_file(tar, "etc/shells", b"/bin/sh\n/bin/ash\n")
    return buffer.getvalue()


def context_hash(name: str) -> str:
    """Return 12 hex digits of a hash over an image's build context (paths, modes and contents)."""
    context = IMAGES_DIR / name
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(context)}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def desktop_ref() -> str:
    """The content-tagged reference of the desktop image these sources build."""
    return f"{DESKTOP}:{context_hash('desktop')}"


class Command(BaseCommand):
    help = (
        "Build the local RangeX images (test: busybox; demo: debian base, attacker, victim-web, pivot, gateway; "
        "desktop)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--set", dest="image_set", choices=["test", "demo", "gateway", "desktop", "all"], default="test"
        )
        parser.add_argument("--force", action="store_true", help="Rebuild images that already exist.")

    def handle(self, *args, image_set: str, force: bool, **options):
        if shutil.which("docker") is None:
            raise CommandError("The docker CLI is not installed.")
        steps: list[tuple[str, Callable[[], None]]] = []
        if image_set in ("test", "all"):
            steps.append((BUSYBOX, self.build_busybox))
        if image_set in ("demo", "all"):
            steps.append((DEBIAN, self.build_debian))
            for name in ("attacker", "victim-web", "pivot"):
                steps.append((f"rangex/{name}:latest", lambda name=name: self.build_dockerfile(name)))
        if image_set == "gateway":
            steps.append((DEBIAN, self.build_debian))
        if image_set in ("gateway", "demo", "all"):
            steps.append(("rangex/gateway:latest", lambda: self.build_dockerfile("gateway")))
        if image_set in ("desktop", "all"):
            if image_set == "desktop":
                steps.append((DEBIAN, self.build_debian))
            steps.append((desktop_ref(), lambda: self.build_dockerfile("desktop", tags=[desktop_ref()])))
        started = time.monotonic()
        for index, (ref, build) in enumerate(steps, start=1):
            prefix = f"[{index}/{len(steps)}] {ref}"
            if not force and self.image_present(ref):
                self.stdout.write(f"{prefix}: present, skipped (use --force to rebuild)")
                continue
            self.stdout.write(f"{prefix}: building...")
            step_started = time.monotonic()
            build()
            self.stdout.write(self.style.SUCCESS(f"{prefix}: built in {time.monotonic() - step_started:.1f}s"))
        self.stdout.write(f"Done in {time.monotonic() - started:.1f}s.")

    @staticmethod
    def image_present(ref: str) -> bool:
        return subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0

    def run(self, argv: list[str], *, stdin: bytes | None = None) -> None:
        result = subprocess.run(argv, input=stdin, capture_output=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).decode("utf-8", "replace")[-2000:]
            raise CommandError(f"{' '.join(argv[:3])} failed:\n{tail}")

    def build_busybox(self) -> None:
        self.run(
            ["docker", "import", "-c", 'CMD ["sleep", "infinity"]', "-c", "ENV PATH=/bin:/sbin:/usr/bin", "-", BUSYBOX],
            stdin=busybox_rootfs_tar(),
        )

    def build_debian(self) -> None:
        if shutil.which("debootstrap") is None:
            raise CommandError("debootstrap is not installed (apt-get install debootstrap).")
        with tempfile.TemporaryDirectory(prefix="rangex-debootstrap-") as tmp:
            root = Path(tmp) / "rootfs"
            self.stdout.write("  debootstrap --variant=minbase bookworm (takes a minute)...")
            self.run(["debootstrap", "--variant=minbase", "bookworm", str(root), DEBIAN_MIRROR])
            for cached in (root / "var/cache/apt/archives").glob("*.deb"):
                cached.unlink()
            tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
            result = subprocess.run(
                ["docker", "import", "-c", 'CMD ["bash"]', "-c", "ENV LANG=C.UTF-8", "-", DEBIAN],
                stdin=tar.stdout,
                capture_output=True,
            )
            tar.stdout.close()  # if docker import stopped early, tar gets SIGPIPE instead of blocking
            tar.wait()
            if result.returncode != 0 or tar.returncode != 0:
                raise CommandError(f"docker import failed: {result.stderr.decode('utf-8', 'replace')[-2000:]}")

    def build_dockerfile(self, name: str, *, tags: list[str] | None = None) -> None:
        context = IMAGES_DIR / name
        if not (context / "Dockerfile").exists():
            raise CommandError(f"{context}/Dockerfile is missing.")
        argv = ["docker", "build", "--pull=false", "-t", f"rangex/{name}:latest"]
        for tag in tags or []:
            argv += ["-t", tag]
        self.run([*argv, str(context)])
