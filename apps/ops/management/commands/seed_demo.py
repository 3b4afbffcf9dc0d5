"""Seed the demo content of the embedded default. Safe to run again: it only adds what is missing."""

from importlib import import_module

from django.core.management.base import BaseCommand

# Each app's demo module exposes seed(stdout); order matters (accounts first).
SEEDERS = [
    "apps.accounts.demo",
    "apps.scenarios.demo",
]


class Command(BaseCommand):
    help = "Create the demo accounts and content. Idempotent; prints the demo credentials."

    def handle(self, *args, **options):
        credentials = {}
        for dotted in SEEDERS:
            module = import_module(dotted)
            result = module.seed(self.stdout)
            if dotted == "apps.accounts.demo":
                credentials = result
        self.stdout.write(self.style.SUCCESS("Demo accounts (email / password):"))
        for email, password in credentials.items():
            self.stdout.write(f"  {email:<24} {password}")
