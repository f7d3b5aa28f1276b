"""`manage.py uptime plan|apply|export|schema|import-kuma`: the config file from the command line.
Secrets in the file are read from the environment (${NAME})."""

import copy
import os
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.actors import actor_for_user
from accounts.models import Organization
from audit.recording import from_command
from configfile.apply import apply_document
from configfile.document import load
from configfile.export import dump, export_text, hide_secrets
from configfile.format import ConfigInvalid, Lines
from configfile.plan import Plan, make_plan
from configfile.schema import schema_text


class Command(BaseCommand):
    help = "Plan, apply or export an account's config file (docs/config-file.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        for name, what in (("plan", "show what apply would do"), ("apply", "make the account what the file says")):
            action = actions.add_parser(name, help=what)
            action.add_argument("-f", "--file", required=True, help="the YAML (or .json) file; - reads standard input")
            _owner(action)
            action.add_argument("--prune", action="store_true", help="delete what the file does not have")
        export = actions.add_parser("export", help="write the account as a config file")
        _owner(export)
        export.add_argument("-o", "--output", help="write to this file (default: standard output)")
        export.add_argument("--with-secrets", action="store_true", help="write passwords and Apprise URLs as they are")
        schema = actions.add_parser("schema", help="write the file's JSON Schema")
        schema.add_argument("-o", "--output", help="write to this file (default: standard output)")
        kuma = actions.add_parser("import-kuma", help="plan (or apply) an Uptime Kuma database or JSON backup")
        kuma.add_argument("path", help="Kuma's kuma.db (1.x or 2.x), or a 1.x JSON backup")
        _owner(kuma)
        kuma.add_argument("--apply", action="store_true", help="apply the plan")
        kuma.add_argument("--prune", action="store_true", help="with --apply: delete what Kuma does not have")
        kuma.add_argument("-o", "--output", help="write the config file made from Kuma's")
        kuma.add_argument(
            "--with-secrets", action="store_true", help="with -o: write passwords and Apprise URLs as they are"
        )

    def handle(self, *args, action: str, **options) -> None:
        try:
            if action == "schema":
                self.write(schema_text(), options.get("output"))
            elif action == "export":
                organization = _find_owner(options)
                self.write(export_text(organization, with_secrets=options["with_secrets"]), options.get("output"))
            elif action == "import-kuma":
                self.import_kuma(options)
            else:
                self.plan_or_apply(action, options)
        except ConfigInvalid as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(exc.errors)} error(s); nothing was changed.") from None

    def plan_or_apply(self, action: str, options: dict) -> None:
        organization = _find_owner(options)
        path = options["file"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        document, lines = load(text, as_json=path.endswith(".json"))
        run = apply_document if action == "apply" else make_plan
        with from_command():
            plan = run(organization, document, lines, prune=options["prune"], environ=os.environ)
        self.show(plan, applied=action == "apply")

    def import_kuma(self, options: dict) -> None:
        # Imported here: the importer is a module of its own, and the other actions work without it.
        from configfile.kuma import KumaImportError, document_from_kuma

        organization = _find_owner(options)
        try:
            result = document_from_kuma(options["path"])
        except KumaImportError as exc:
            raise CommandError(str(exc)) from None
        if options.get("output"):
            # As export writes them: the file may end up in a repository; the plan below
            # is made with the secrets themselves.
            written = copy.deepcopy(result.document)
            placeholders = [] if options["with_secrets"] else hide_secrets(written)
            self.write(dump(written, placeholders), options["output"])
        run = apply_document if options["apply"] else make_plan
        with from_command():
            plan = run(organization, result.document, Lines(), prune=options["prune"])
        self.show(plan, applied=options["apply"])
        if result.not_carried:
            self.stdout.write("Not carried over from Kuma:")
            for line in result.not_carried:
                self.stdout.write(f"  - {line}")

    def show(self, plan: Plan, *, applied: bool) -> None:
        for line in plan.text_lines():
            self.stdout.write(line)
        if applied and plan.has_changes:
            self.stdout.write("Applied.")

    def write(self, text: str, output: str | None) -> None:
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")


def _owner(parser: CommandParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--organization", help="the organization's slug")
    which.add_argument("--owner", help="a user's email address: their personal organization")


def _find_owner(options: dict) -> Organization:
    if options.get("organization"):
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"no organization {options['organization']}")
        return organization
    user = get_user_model().objects.filter(email__iexact=options["owner"]).first()
    actor = actor_for_user(user) if user is not None else None
    if actor is None:
        raise CommandError(f"no user {options['owner']}")
    return actor.organization
