"""The docs say what the code does: README.md, docs/*.md and bench/README.md are read here
and held to docker-compose.yml, uptime/process_commands.py, the real command-line parsers
(Celery's, with the project's own options; bench.scale's; bench.faults'), the Makefile,
uptime/settings.py and the OpenAPI document.

Each check returns the problems it finds in the docs under a root directory, so the last
test can show that each one catches a realistic drift in a copy of the docs."""

import ast
import copy
import json
import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
from celery.bin.base import CLIContext
from celery.bin.beat import beat as celery_beat
from celery.bin.celery import celery as celery_group
from celery.bin.worker import worker as celery_worker
from django.conf import settings

from tests.test_deployment import BASE_DIR, celery_role, option, settings_variables, workers

PROCESS_DOCS = ("README.md", "docs/operations.md", "docs/deployment.md")
PLACEHOLDER = re.compile(r"<[^<>\s]+>")
CELERY = re.compile(r"celery -A uptime (?:worker|beat)\b")
BENCH_SCALE = re.compile(r"(?:\S*/)?python3? -m bench\.scale\b")
BENCH_FAULTS = re.compile(r"(?:\S*/)?python3? -m bench\.faults\b")
EMBEDDED = re.compile(r"python3? -m uptime\.embedded (\w+)")
MAKE = re.compile(r"(?<![\w-])make ((?:[A-Z_]+=\S+ )*)([a-z][\w-]*)")
MODULE_PATH = re.compile(r"(?<![\w./-])[a-z_][a-z0-9_]*(?:/[a-z0-9_]+)+\.py\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# In the README's API table, outside the OpenAPI document (which covers /api/ but itself).
NOT_IN_THE_SCHEMA = {"/metrics", "/api/schema/", "/api/docs/"}


# --- reading markdown ----------------------------------------------------------------------


def doc_names(root: Path) -> list[str]:
    return ["README.md", *sorted(f"docs/{path.name}" for path in (root / "docs").glob("*.md"))]


def fenced_lines(text: str) -> list[str]:
    """The lines of every fenced code block, continuation lines joined and comments cut."""
    lines, inside, pending = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        lines.append(re.sub(r"\s+#.*$", "", line))
    return lines


def inline_spans(text: str) -> list[str]:
    """Every `inline code` span outside fenced blocks."""
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"`([^`\n]+)`", outside)


def table_spans(text: str) -> list[str]:
    """Every `inline code` span in a markdown table row."""
    return [span for line in text.splitlines() if line.startswith("|") for span in re.findall(r"`([^`]+)`", line)]


def json_commands(text: str) -> list[str]:
    """Command lines written as JSON arrays (docker-compose snippets), as shell words."""
    found = []
    for array in re.findall(r"\[\s*\"[^\]\n]*\]", text):
        try:
            words = json.loads(array)
        except ValueError:
            continue
        if all(isinstance(word, str) for word in words):
            found.append(shlex.join(words))
    return found


def commands_in(text: str, start: re.Pattern, *, tables_only: bool = False) -> list[str]:
    """The commands beginning with `start` in inline code, code blocks and JSON command
    arrays (or only in table rows); each from its start to its end."""
    pieces = table_spans(text) if tables_only else [*inline_spans(text), *fenced_lines(text), *json_commands(text)]
    found = []
    for piece in pieces:
        match = start.search(piece)
        if match:
            found.append(piece[match.start() :].strip())
    return found


def process_table_commands(text: str) -> list[list[str]]:
    """The `celery -A uptime …` commands of a doc's process tables and code blocks, as words,
    with `<placeholders>` kept."""
    pieces = commands_in(text, CELERY, tables_only=True)
    for line in [*fenced_lines(text), *json_commands(text)]:
        if match := CELERY.search(line):
            pieces.append(line[match.start() :])
    return [shlex.split(piece) for piece in dict.fromkeys(pieces)]


# --- the truth: docker-compose.yml and uptime/process_commands.py --------------------------


def role(words: list[str]) -> str | None:
    """ "beat", "housekeeping" or "region" for a `celery -A uptime …` command."""
    kind = celery_role({"command": words})
    if kind == "beat":
        return "beat"
    if kind != "worker":
        return None
    queues = (option(words, "-Q", "--queues") or "").split(",")
    return "housekeeping" if settings.HOUSEKEEPING_QUEUE in queues else "region"


def shape(words: list[str]) -> dict:
    """What a worker's command must agree on with the others of its role."""
    queues = (option(words, "-Q", "--queues") or "").split(",")
    node = option(words, "-n", "--hostname") or ""
    return {
        "queues": sorted(queues) if role(words) == "housekeeping" else len(queues),
        # A region worker is named after its queue; the housekeeping worker has its own name.
        "node": node.replace(queues[0], "<queue>", 1) if role(words) == "region" else node,
        "concurrency": option(words, "-c", "--concurrency"),
        "pool": option(words, "-P", "--pool"),
        "writes_outcomes": "--without-outcome-writer" not in words,
    }


def true_shapes() -> dict[str, dict]:
    """Each worker role's shape, the same in docker-compose.yml and `make run`."""
    from uptime.process_commands import housekeeping_worker_command, worker_command

    shapes: dict[str, dict] = {}
    for name, words in [
        *workers().items(),
        # [python, -m, celery, -A, uptime, …]
        ("make run: region", worker_command("india")[2:]),
        ("make run: housekeeping", housekeeping_worker_command()[2:]),
    ]:
        found = shape(words)
        assert shapes.setdefault(role(words), found) == found, f"{name} differs from the other {role(words)} workers"
    return shapes


def process_table_problems(root: Path) -> list[str]:
    problems = []
    truth = true_shapes()
    for name in PROCESS_DOCS:
        commands = process_table_commands((root / name).read_text())
        roles = {role(words) for words in commands}
        for missing in {"beat", "region", "housekeeping"} - roles:
            problems.append(f"{name}: no {missing} in its process table")
        for words in commands:
            if role(words) in truth:
                documented = shape(words)
                if documented != truth[role(words)]:
                    problems.append(f"{name}: {shlex.join(words)} is not {truth[role(words)]}: {documented}")
    return problems


# --- the command-line parsers ----------------------------------------------------------------


def celery_parse_error(command: str) -> str | None:
    """None if Celery's own command line, with the project's options (uptime/celery.py),
    accepts `command` (a `celery -A uptime worker|beat …` line); else why not. Parses only:
    nothing starts."""
    from uptime.celery import app

    words = shlex.split(PLACEHOLDER.sub("india", command))
    if words[:3] != ["celery", "-A", "uptime"]:
        return "not `celery -A uptime …`"
    subcommand = {"worker": celery_worker, "beat": celery_beat}[words[3]]
    # A copy with the user options added, as celery's own entry point adds them, so the
    # module's commands are left as they were.
    parsing = copy.copy(subcommand)
    parsing.params = [*subcommand.params, *app.user_options.get(words[3], ())]
    parent = click.Context(celery_group, info_name="celery", obj=CLIContext(app=app, no_color=True, workdir=None))
    try:
        with parent:
            parsing.make_context(words[3], words[4:], parent=parent)
    except click.ClickException as exc:
        return exc.format_message()
    return None


def celery_command_problems(root: Path) -> list[str]:
    return [
        f"{name}: `{command}`: {error}"
        for name in doc_names(root)
        for command in commands_in((root / name).read_text(), CELERY)
        if (error := celery_parse_error(command))
    ]


class Parsed(Exception):
    """Raised where a bench entry point would start working: its arguments parsed."""


def argparse_error(main, argv: list[str], monkeypatch, target: str) -> str | None:
    """None if `main(argv)` gets past its argument checks (stopped at `target`); else why not."""

    def stop(*args, **kwargs):
        raise Parsed

    with monkeypatch.context() as patch:
        patch.setattr(target, stop)
        try:
            main(argv)
        except Parsed:
            return None
        except SystemExit as exit:
            return None if exit.code == 0 else f"exit status {exit.code}"
    return None


def bench_command_problems(root: Path, monkeypatch) -> list[str]:
    import bench.faults.__main__ as faults
    import bench.scale as scale

    problems = []
    for name in [*doc_names(root), "bench/README.md"]:
        text = (root / name).read_text()
        for pattern, main, target in (
            (BENCH_SCALE, scale.main, "bench.scale.Bench"),
            (BENCH_FAULTS, faults.main, "bench.faults.__main__._stop_on_signals"),
        ):
            for command in commands_in(text, pattern):
                words = shlex.split(command)
                if len(words) <= 3 or "…" in command:
                    continue  # the entry point named, not a command line
                if error := argparse_error(main, words[3:], monkeypatch, target):
                    problems.append(f"{name}: `{command}`: {error}")
    return problems


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (BASE_DIR / "Makefile").read_text(), flags=re.M))


def embedded_commands() -> set[str]:
    tree = ast.parse((BASE_DIR / "uptime" / "embedded.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", None) == "add_parser"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def make_and_embedded_problems(root: Path) -> list[str]:
    problems = []
    targets, commands = make_targets(), embedded_commands()
    for name in [*doc_names(root), "bench/README.md"]:
        text = (root / name).read_text()
        pieces = [*inline_spans(text), *fenced_lines(text)]
        for piece in pieces:
            for match in MAKE.finditer(piece):
                if match[2] not in targets:
                    problems.append(f"{name}: `make {match[2]}`: no such target in the Makefile")
            for match in EMBEDDED.finditer(piece):
                if match[1] not in commands:
                    problems.append(f"{name}: `python -m uptime.embedded {match[1]}`: no such command")
    return problems


# --- files, settings, the API ----------------------------------------------------------------


def path_problems(root: Path) -> list[str]:
    problems = []
    for name in doc_names(root):
        text = (root / name).read_text()
        for path in sorted(set(MODULE_PATH.findall(text))):
            if not (BASE_DIR / path).is_file():
                problems.append(f"{name}: {path} does not exist")
        for link in MARKDOWN_LINK.findall(text):
            if "://" not in link and not (root / name).parent.joinpath(link).exists():
                problems.append(f"{name}: the link {link} leads nowhere")
    return problems


def settings_defaults() -> dict[str, object]:
    """Each variable uptime/settings.py reads, with its default when that is a constant."""
    tree = ast.parse((BASE_DIR / "uptime" / "settings.py").read_text())
    readers = {"env_str", "env_bool", "env_int", "env_list", "env_secret"}
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) in readers
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            default = node.args[1] if len(node.args) > 1 else None
            try:
                value = ast.literal_eval(default) if default is not None else None
            except ValueError:  # an expression: 1024 * 1024, a function of another setting
                value = _arithmetic(default)
            found[node.args[0].value] = value if node.func.id != "env_secret" else ...
    return found


def _arithmetic(node) -> object:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _arithmetic(node.left), _arithmetic(node.right)
        return left * right if isinstance(left, int) and isinstance(right, int) else ...
    return node.value if isinstance(node, ast.Constant) else ...


def written(value: object) -> str | None:
    """How the README's table writes a default; None when it is described in words."""
    if value is ...:
        return None
    if value is None or value in ("", []):
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(value)}`"
    return f"`{value}`"


def configuration_table(root: Path) -> dict[str, str]:
    text = (root / "README.md").read_text()
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 3:
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
                rows[name] = cells[1]
    return rows


def configuration_problems(root: Path) -> list[str]:
    table = configuration_table(root)
    problems = []
    defaults = {name: ... for name in settings_variables()} | settings_defaults()
    for name, value in defaults.items():
        if name not in table:
            problems.append(f"README.md: {name} (read by uptime/settings.py) is not in the configuration table")
        elif (expected := written(value)) and expected not in table[name]:
            problems.append(f"README.md: {name}'s default is {expected}, the table says {table[name]}")
    embedded = set(re.findall(r"os\.environ\.get\(\"([A-Z_]+)\"", (BASE_DIR / "uptime" / "embedded.py").read_text()))
    for name in set(table) - set(defaults) - embedded:
        problems.append(f"README.md: {name} is in the configuration table but nothing reads it")
    return problems


def schema_operations() -> set[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in HTTP_METHODS
    }


def documented_operations(cells: list[str]) -> set[tuple[str, str]]:
    """(method, path) pairs from table cells like `GET, POST /api/monitors/` or, in two
    cells, `/api/channels/` and `GET`, `POST`."""
    found = set()
    for match in re.finditer(r"`((?:[A-Z]+, )*[A-Z]+) (/[^`\s?]*)", cells[0]):
        found |= {(method, re.sub(r"\{[^}]+\}", "{}", match[2])) for method in match[1].split(", ")}
    if not found and len(cells) > 1:
        paths = re.findall(r"`(/[^`]*)`", cells[0])
        methods = re.findall(r"`([A-Z]+)`", cells[1])
        found |= {(method, re.sub(r"\{[^}]+\}", "{}", path)) for path in paths for method in methods}
    return found


def table_operations(text: str) -> set[tuple[str, str]]:
    found = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            found |= documented_operations([cell.strip() for cell in line.strip().strip("|").split("|")])
    return found


def api_problems(root: Path) -> list[str]:
    operations = schema_operations()
    problems = []
    readme = table_operations((root / "README.md").read_text())
    for method, path in sorted(operations - readme):
        problems.append(f"README.md: {method} {path} is missing from the API table")
    for method, path in sorted(readme - operations):
        if path not in NOT_IN_THE_SCHEMA:
            problems.append(f"README.md: {method} {path} is in the API table but not in the API")
    api = (root / "docs" / "api.md").read_text()
    section = api[api.index("## Operations") :]
    listed = table_operations(section[: section.index("\n## ", 1)])
    if listed != operations:
        problems.append(f"docs/api.md: the operations table differs by {sorted(listed ^ operations)}")
    for count in re.findall(r"(\d+)\s+operations", api):
        if int(count) != len(operations):
            problems.append(f"docs/api.md: says {count} operations; the document has {len(operations)}")
    return problems


# --- the tests ---------------------------------------------------------------------------------


def test_process_tables_name_the_queues_compose_and_make_run_use():
    assert process_table_problems(BASE_DIR) == []


def test_every_celery_command_in_the_docs_parses_with_the_projects_celery():
    assert celery_parse_error("celery -A uptime worker -Q india --without-outcome-writer") is None
    assert "no-such-flag" in celery_parse_error("celery -A uptime worker -Q india --no-such-flag")
    assert celery_parse_error("celery -A uptime beat --without-outcome-writer") is not None
    assert celery_command_problems(BASE_DIR) == []


def test_every_bench_command_in_the_docs_parses(monkeypatch):
    assert bench_command_problems(BASE_DIR, monkeypatch) == []


def test_every_make_target_and_embedded_command_in_the_docs_exists():
    assert {"run", "test", "lint", "faults"} <= make_targets()
    assert {"run", "test", "services"} <= embedded_commands()
    assert make_and_embedded_problems(BASE_DIR) == []


def test_every_file_the_docs_name_exists():
    assert path_problems(BASE_DIR) == []


def test_the_configuration_table_lists_every_setting_with_its_default():
    assert configuration_problems(BASE_DIR) == []


def test_the_api_docs_list_every_operation_of_the_openapi_document():
    assert api_problems(BASE_DIR) == []


DRIFTS = [
    # (file, text in it, replaced by, the check that must notice)
    ("docs/operations.md", "-Q housekeeping,notifications -n housekeeping@%h -c 8", "-Q maintenance -c 2", "process"),
    (
        "README.md",
        "-Q housekeeping,notifications -n housekeeping@%h -c 8",
        "-Q housekeeping -n housekeeping@%h",
        "process",
    ),
    ("docs/deployment.md", "-Q <region> -n <region>@%h -l info --without-outcome-writer", "-Q <region>", "process"),
    ("README.md", "-n usa@%h -l info --without-outcome-writer", "-n usa@%h -l info --no-outcome-writer", "celery"),
    ("bench/README.md", "--writer-batch 100 --bundles 10", "--batch 100 --bundles 10", "bench"),
    ("README.md", "make faults QUICK=1", "make fault QUICK=1", "make"),
    (
        "docs/api.md",
        "-m uptime.embedded test tests/test_openapi.py",
        "-m uptime.embedded pytest tests/test_openapi.py",
        "make",
    ),
    ("docs/reliability.md", "--only valkey-down-30s`", "--only valkey-down-60s`", "bench"),
    ("README.md", "checks/worker/reclaim.py", "checks/reclaim.py", "paths"),
    ("README.md", "| `BEAT_LEASE_SECONDS` | `10` |", "| `BEAT_LEASE_SECONDS` | `15` |", "configuration"),
    ("README.md", "| `GET /api/monitors/{id}/gaps/` |", "| `GET /api/monitors/{id}/holes/` |", "api"),
    # A digit put before the count, whatever it is now.
    ("docs/api.md", "The document has ", "The document has 1", "api"),
]


@pytest.mark.parametrize("drift", DRIFTS, ids=[f"{d[3]}: {d[0]}" for d in DRIFTS])
def test_each_check_catches_a_drifted_copy_of_the_docs(drift, tmp_path, monkeypatch):
    name, old, new, check = drift
    for doc in ["README.md", "bench/README.md", *(f"docs/{p.name}" for p in (BASE_DIR / "docs").glob("*.md"))]:
        (tmp_path / doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BASE_DIR / doc, tmp_path / doc)
    text = (tmp_path / name).read_text()
    assert old in text, f"the drift's text is no longer in {name}: update DRIFTS"
    (tmp_path / name).write_text(text.replace(old, new, 1))
    checks = {
        "process": process_table_problems,
        "celery": celery_command_problems,
        "bench": lambda root: bench_command_problems(root, monkeypatch),
        "make": make_and_embedded_problems,
        "paths": path_problems,
        "configuration": configuration_problems,
        "api": api_problems,
    }
    assert checks[check](tmp_path) != []
