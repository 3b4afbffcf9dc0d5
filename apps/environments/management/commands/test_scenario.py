"""``manage.py test_scenario <slug> [--version N] [--keep]``: test-deploy a version and print every rule's result."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from apps.environments.services.testdeploy import version_test_deploy_run
from apps.scenarios.models import ScenarioVersion, TestStatus
from apps.scenarios.testing import ACTIVE, version_test_deploy_request
from rangex.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Test-deploy a scenario version: launch it as a test lab, wait until it is ready, run its validation "
        "rules, record the run and tear the lab down. Exits 1 when the run does not pass."
    )

    def add_arguments(self, parser):
        # --version here is the scenario's version number, not Django's version (as the issue names it).
        parser.conflict_handler = parser._optionals.conflict_handler = "resolve"
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, help="Version number (default: the latest).")
        parser.add_argument("--keep", action="store_true", help="Leave the lab running to look around.")
        parser.add_argument("--as", dest="admin_email", help="The admin the run is recorded for (default: the first).")

    def handle(self, *args, slug, version, keep, admin_email, **options):
        versions = ScenarioVersion.objects.filter(scenario__slug=slug).order_by("-version_number")
        if version is not None:
            versions = versions.filter(version_number=version)
        found = versions.first()
        if found is None:
            raise CommandError(f"No scenario {slug!r}" + (f" with version {version}." if version else "."))
        admin = self._admin(admin_email)
        try:
            run = version_test_deploy_request(version=found, actor=admin, keep=keep)
            self.stdout.write(f"Testing {found} (run {run.pk})...")
            run = version_test_deploy_run(run_id=run.pk) or run
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        while run.status in ACTIVE:  # a worker took the run first: wait for it
            time.sleep(2)
            run.refresh_from_db()
        for rule in (run.test_results or {}).get("rules", []):
            mark = self.style.SUCCESS("PASS") if rule["passed"] else self.style.ERROR("FAIL")
            self.stdout.write(f"  {mark} {rule['label']}: {rule['reason']}")
        if run.status != TestStatus.PASSED:
            raise CommandError(f"{found}: {run.status}. {run.error_message or ''}".strip())
        kept = f" The lab is kept: session {run.session_token}." if keep else ""
        self.stdout.write(self.style.SUCCESS(f"{found}: passed in {run.duration_seconds} s.{kept}"))

    @staticmethod
    def _admin(email):
        users = get_user_model().objects.filter(is_active=True).filter(Q(role_admin=True) | Q(is_superuser=True))
        if email:
            users = users.filter(email__iexact=email)
        admin = users.order_by("created_at").first()
        if admin is None:
            raise CommandError("No active admin to record the run for" + (f" ({email})." if email else "."))
        return admin
