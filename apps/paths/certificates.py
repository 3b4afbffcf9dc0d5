"""Certificates of completing a career path: issued once per learner and path, verifiable by their link.

The certificate row's random id is the verification link, so links cannot be guessed. The
verification page names the learner only when their profile is public; for a hidden profile it
says nothing but that the certificate is valid, for which path and when. The PDF is written by
hand (one page, the standard Helvetica font), which needs no PDF library for so little.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils.translation import gettext as _

from apps.environments.models import EnvironmentSession
from apps.paths.models import CareerPath, PathCertificate
from apps.paths.selectors import progress_for_many
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict


def _completed_at(*, user, path: CareerPath):
    """Return when ``user`` completed the last of ``path``'s scenarios (each counted at its first completion)."""
    scenario_ids = [i.scenario_version.scenario_id for i in path.items.all()]
    firsts = (
        EnvironmentSession.objects.filter(
            user=user, is_test=False, completed_at__isnull=False, scenario_version__scenario_id__in=scenario_ids
        )
        .values("scenario_version__scenario_id")
        .annotate(first=Min("completed_at"))
    )
    dates = [row["first"] for row in firsts]
    return max(dates) if len(dates) == len(set(scenario_ids)) else None


def path_certificate_issue(*, user, path: CareerPath) -> PathCertificate:
    """Return ``user``'s certificate for ``path``, issuing it on first call; refuse an unfinished path."""
    existing = PathCertificate.objects.filter(career_path=path, user=user).first()
    if existing is not None:
        return existing
    progress = progress_for_many(user=user, containers=[path])[path.pk]
    if not progress.is_complete:
        raise Conflict(_("Complete every item of %(title)s to get its certificate.") % {"title": path.title})
    from django.utils import timezone

    completed_at = _completed_at(user=user, path=path) or timezone.now()
    try:
        with transaction.atomic():
            certificate = PathCertificate.objects.create(career_path=path, user=user, completed_at=completed_at)
            audit_record(
                actor=user,
                action=AuditAction.CAREER_PATH_CERTIFICATE_ISSUE,
                target=path,
                details={"certificate": str(certificate.pk)},
            )
    except IntegrityError:
        return PathCertificate.objects.get(career_path=path, user=user)
    return certificate


def _pdf_text(value: str) -> str:
    text = value.encode("latin-1", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def certificate_pdf(*, lines: list[tuple[int, int, str]]) -> bytes:
    """Return a one-page A4 landscape PDF with ``lines`` of ``(font size, y, text)``, centred."""
    width, height = 842, 595
    commands = ["0.04 0.35 0.79 RG 6 w 24 24 794 547 re S"]
    for size, y, text in lines:
        # Helvetica averages about half its size per character: near enough to centre a line.
        x = max(40, int((width - len(text) * size * 0.5) / 2))
        commands.append(f"BT /F1 {size} Tf {x} {y} Td ({_pdf_text(text)}) Tj ET")
    stream = "\n".join(commands).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] /Contents 4 0 R "
        f"/Resources << /Font << /F1 5 0 R >> >> >>".encode(),
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def path_leaderboard(*, path: CareerPath, limit: int = 50) -> list[dict]:
    """Return the learners who opted in (public profile and path leaderboards on), most items completed first.

    Ties go to whoever got there first (the time of their latest first-completion). Two queries.
    """
    from django.contrib.auth import get_user_model

    scenario_ids = {i.scenario_version.scenario_id for i in path.items.all()}
    rows = (
        EnvironmentSession.objects.filter(
            is_test=False,
            completed_at__isnull=False,
            scenario_version__scenario_id__in=scenario_ids,
            user__is_active=True,
            user__profile_public=True,
            user__show_on_path_leaderboards=True,
        )
        .values("user_id", "scenario_version__scenario_id")
        .annotate(first=Min("completed_at"))
    )
    per_user: dict = {}
    for row in rows:
        count, last = per_user.get(row["user_id"], (0, None))
        per_user[row["user_id"]] = (count + 1, max(last, row["first"]) if last else row["first"])
    ranked = sorted(per_user.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:limit]
    users = get_user_model().objects.in_bulk([user_id for user_id, _ in ranked])
    return [
        {"rank": n, "user": users[user_id], "completed": count, "total": len(scenario_ids), "at": last}
        for n, (user_id, (count, last)) in enumerate(ranked, start=1)
    ]
