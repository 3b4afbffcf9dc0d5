"""Images on the Docker engine: build from a context, push to and pull from registries, list and prune.

The image pipeline (``apps.images.pipeline``) and the image catalogue drive this; the labs' own
runtime (``DockerRuntime``) only checks and pulls the images a launch needs. Every image this module
builds carries ``rangex.managed-image=<instance>``: listing and removing look at those images only,
so an operator's own images and another install's are never touched.

Registry credentials come with each call (``RegistryAuth``) and go to the engine with that push or
pull only; the engine keeps no copy, and neither does this module.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from apps.runtime.errors import ForeignResource, RuntimeFailure
from apps.runtime.spec import RegistryAuth, image_registry, normalize_registry

LABEL_MANAGED_IMAGE = "rangex.managed-image"
LABEL_CONTEXT_HASH = "rangex.context-hash"
MAX_LOG_CHARS = 64 * 1024


@dataclass(frozen=True)
class ImageInfo:
    """An image as the engine has it."""

    id: str
    tags: tuple[str, ...]
    size: int
    digests: tuple[str, ...] = ()  # repository@sha256:... for each registry it was pushed to or pulled from
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None

    def digest_for(self, repository: str) -> str:
        """Return the sha256 digest this image has in ``repository`` ("" when never pushed there)."""
        for entry in self.digests:
            name, _, digest = entry.partition("@")
            if name == repository:
                return digest
        return ""


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    log: str


def split_ref(ref: str) -> tuple[str, str]:
    """Return (repository, tag) of ``registry/name:tag`` (tag "latest" when none is given)."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LOG_CHARS else "[...]\n" + text[-MAX_LOG_CHARS:]


class ImageEngine:
    """Image operations on one Docker engine, for one install (``instance``)."""

    def __init__(self, *, base_url: str | None = None, instance: str | None = None, timeout: int = 600):
        self.base_url = base_url if base_url is not None else settings.RANGEX_DOCKER_URL
        self.instance = instance or settings.RANGEX_INSTANCE
        self.timeout = timeout
        self._api = None
        self._lock = threading.Lock()

    @property
    def api(self):
        import os

        import docker
        from docker import errors as docker_errors

        with self._lock:
            if self._api is None:
                try:
                    environment = {**os.environ, "DOCKER_HOST": self.base_url} if self.base_url else None
                    client = docker.from_env(timeout=self.timeout, environment=environment)
                except docker_errors.DockerException as exc:
                    raise RuntimeFailure(f"The Docker engine is unreachable: {exc}", permanent=False) from exc
                self._api = client.api
            return self._api

    def _errors(self, action: str):
        from apps.runtime.docker_io import engine_errors

        return engine_errors(action)

    # --- building -------------------------------------------------------------------------
    def build(self, context: bytes, *, ref: str, labels: dict[str, str] | None = None) -> BuildResult:
        """Build the Dockerfile at the root of ``context`` (a tar) as ``ref``; never pull a base image.

        The image gets ``labels`` plus this install's managed-image label. A failing step raises a
        permanent ``RuntimeFailure`` whose message ends with the build log.
        """
        import io

        all_labels = {**(labels or {}), LABEL_MANAGED_IMAGE: self.instance}
        lines: list[str] = []
        image_id = ""
        with self._errors(f"Building image {ref}"):
            stream = self.api.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                tag=ref,
                labels=all_labels,
                decode=True,
                rm=True,
                forcerm=True,
                pull=False,
            )
            for chunk in stream:
                if chunk.get("stream"):
                    lines.append(chunk["stream"])
                if chunk.get("aux", {}).get("ID"):
                    image_id = chunk["aux"]["ID"]
                if chunk.get("error"):
                    log = "".join(lines) + f"\nERROR: {chunk['error']}\n"
                    raise RuntimeFailure(f"The build of {ref} failed: {chunk['error']}\n{_clip(log)}", permanent=True)
        return BuildResult(image_id=image_id, log=_clip("".join(lines)))

    def tag(self, source: str, target: str) -> None:
        repository, tag = split_ref(target)
        with self._errors(f"Tagging {source} as {target}"):
            self.api.tag(source, repository, tag, force=True)

    # --- registries -----------------------------------------------------------------------
    @staticmethod
    def _auth_config(ref: str, auth: RegistryAuth | None) -> dict | None:
        if auth is None:
            return None
        if normalize_registry(auth.registry) != image_registry(ref):
            raise RuntimeFailure(
                f"The registry credentials are for {normalize_registry(auth.registry)}, "
                f"but image {ref} goes to {image_registry(ref)}.",
                permanent=True,
            )
        return {"username": auth.username, "password": auth.password}

    def push(self, ref: str, *, auth: RegistryAuth | None = None) -> str:
        """Push ``ref`` to its registry and return the manifest's digest (sha256:...)."""
        repository, tag = split_ref(ref)
        auth_config = self._auth_config(ref, auth)
        digest = ""
        try:
            with self._errors(f"Pushing image {ref}"):
                for chunk in self.api.push(repository, tag, stream=True, decode=True, auth_config=auth_config):
                    if chunk.get("error"):
                        raise RuntimeFailure(f"Pushing image {ref} failed: {chunk['error']}", permanent=False)
                    digest = chunk.get("aux", {}).get("Digest", digest)
        except RuntimeFailure as exc:
            raise self._without_secret(exc, auth) from None
        if not digest:
            raise RuntimeFailure(f"Pushing image {ref} gave no digest.", permanent=False)
        return digest

    def pull(self, ref: str, *, auth: RegistryAuth | None = None) -> None:
        repository, tag = split_ref(ref)
        auth_config = self._auth_config(ref, auth)
        try:
            with self._errors(f"Pulling image {ref}"):
                for chunk in self.api.pull(repository, tag, stream=True, decode=True, auth_config=auth_config):
                    if isinstance(chunk, dict) and chunk.get("error"):
                        raise RuntimeFailure(f"Pulling image {ref} failed: {chunk['error']}", permanent=False)
        except RuntimeFailure as exc:
            raise self._without_secret(exc, auth) from None

    @staticmethod
    def _without_secret(exc: RuntimeFailure, auth: RegistryAuth | None) -> RuntimeFailure:
        message = exc.message
        if auth is not None and auth.password:
            message = message.replace(auth.password, "***")
        lowered = message.lower()
        if any(hint in lowered for hint in ("unauthorized", "authentication required", "denied", "no basic auth")):
            return RuntimeFailure(f"{message} (the registry refused the credentials)", permanent=True)
        return RuntimeFailure(message, permanent=exc.permanent)

    # --- what the engine holds ------------------------------------------------------------
    def inspect(self, ref: str) -> ImageInfo | None:
        """Return the image ``ref`` names, or None when the engine does not have it."""
        from docker import errors as docker_errors

        from apps.runtime.docker_io import parse_time

        with self._errors(f"Looking up image {ref}"):
            try:
                raw = self.api.inspect_image(ref)
            except docker_errors.NotFound:
                return None
        return ImageInfo(
            id=raw["Id"],
            tags=tuple(raw.get("RepoTags") or ()),
            size=int(raw.get("Size") or 0),
            digests=tuple(raw.get("RepoDigests") or ()),
            labels=dict((raw.get("Config") or {}).get("Labels") or {}),
            created=parse_time(raw.get("Created")),
        )

    def list_managed(self) -> list[ImageInfo]:
        """Return every image labelled as this install's (built by the pipeline)."""
        with self._errors("Listing images"):
            rows = self.api.images(filters={"label": f"{LABEL_MANAGED_IMAGE}={self.instance}"})
        return [
            ImageInfo(
                id=row["Id"],
                tags=tuple(t for t in (row.get("RepoTags") or ()) if t != "<none>:<none>"),
                size=int(row.get("Size") or 0),
                digests=tuple(d for d in (row.get("RepoDigests") or ()) if not d.startswith("<none>")),
                labels=dict(row.get("Labels") or {}),
                created=datetime.fromtimestamp(row["Created"]).astimezone() if row.get("Created") else None,
            )
            for row in rows
        ]

    def images_in_use(self) -> set[str]:
        """Return the ids of images that a container (running or not) was made from."""
        with self._errors("Listing containers"):
            return {c["ImageID"] for c in self.api.containers(all=True) if c.get("ImageID")}

    def remove(self, image: ImageInfo, *, refs: Iterable[str] | None = None) -> None:
        """Remove a managed image (all its tags, or only ``refs``); another install's image is refused."""
        from docker import errors as docker_errors

        if image.labels.get(LABEL_MANAGED_IMAGE) != self.instance:
            raise ForeignResource(f"Image {image.id[:19]} is not managed by this install; left alone.")
        targets = list(refs) if refs is not None else (list(image.tags) or [image.id])
        for target in targets:
            with self._errors(f"Removing image {target}"):
                try:
                    self.api.remove_image(target, noprune=False)
                except docker_errors.NotFound:
                    continue


_engine: ImageEngine | None = None
_engine_lock = threading.Lock()


def get_image_engine() -> ImageEngine:
    """Return the process's image engine for the configured Docker engine and instance."""
    global _engine
    with _engine_lock:
        if (
            _engine is None
            or _engine.instance != settings.RANGEX_INSTANCE
            or _engine.base_url != settings.RANGEX_DOCKER_URL
        ):
            _engine = ImageEngine()
        return _engine
