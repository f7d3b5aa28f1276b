"""Writing the audit log. Who acts is the request being served (set by AuditMiddleware for
the web process) or `manage.py` (`from_command`); outside both (the workers, beat, the
housekeeping) nothing is recorded, so the check path pays one context lookup per save at
most. Saves and deletes of the audited models are recorded through Django's model signals
with the fields that changed; what bypasses them (bulk creation by COPY, a whole config
file applied, members and keys) is recorded by `record` from the adapter that did it."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save

from .models import AuditEvent

# Each audited model (registered by its own app, `audit_saves`): its name in the log, fields
# whose values are never written into it, and fields no one chooses (what the checks write)
# left out of it. The audit app imports none of them.
AUDITED: dict[type[Model], tuple[str, frozenset[str], frozenset[str]]] = {}
HIDDEN = "(changed)"
# A batch (10,000 monitors in one file or request) is logged by its count and this many of
# its names, not a list of all.
LOGGED_NAMES = 200

_request = ContextVar("audit_request", default=None)
_command: ContextVar["Who | None"] = ContextVar("audit_command", default=None)
# Inside one recorded whole (a config file applied): its parts are not recorded one by one.
_whole: ContextVar[bool] = ContextVar("audit_whole", default=False)


@dataclass(frozen=True)
class Who:
    user: Any  # accounts' User and ApiKey: the audit app imports no other app
    key: Any
    source: str


def who() -> Who | None:
    """Who acts now, or None when no person does (a worker, beat, a test's own setup)."""
    request = _request.get()
    if request is None:
        return _command.get()
    if request.path.startswith("/admin/"):
        return Who(request.user, None, AuditEvent.Source.ADMIN) if request.user.is_authenticated else None
    source = AuditEvent.Source.API if request.path.startswith("/api/") else AuditEvent.Source.WEB
    actor = getattr(request, "actor", None)  # the API's sets it on the request (MemberRole)
    if actor:
        return Who(actor.user, actor.key, source)
    return Who(request.user, None, source) if request.user.is_authenticated else None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


@contextmanager
def from_command() -> Iterator[None]:
    """What runs inside is recorded as done by manage.py with a file."""
    token = _command.set(Who(None, None, AuditEvent.Source.FILE))
    try:
        yield
    finally:
        _command.reset(token)


@contextmanager
def as_one_whole() -> Iterator[None]:
    """Saves inside are not recorded one by one: the caller records the whole."""
    token = _whole.set(True)
    try:
        yield
    finally:
        _whole.reset(token)


def record(
    organization_id: int,
    action: str,
    object_type: str,
    obj: Model | None = None,
    changes: dict | None = None,
    *,
    name: str = "",
    source: str | None = None,
) -> AuditEvent | None:
    acting = who()
    if acting is None:
        return None
    user, key = acting.user, acting.key
    return AuditEvent.objects.create(
        organization_id=organization_id,
        user=user,
        user_email=getattr(user, "email", ""),
        key=key,
        key_name=getattr(key, "name", ""),
        source=source or acting.source,
        action=action,
        object_type=object_type,
        object_id=obj.pk if obj is not None else None,
        object_name=(name or str(obj or ""))[:200],
        changes=changes or {},
    )


def _values(instance: Model) -> dict:
    not_chosen = AUDITED[type(instance)][2]
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.editable
        and not field.primary_key
        and field.attname not in not_chosen
        and not getattr(field, "auto_now", False)
    }


def _shown(value):
    return value if value is None or isinstance(value, bool | int | float | str | list | dict) else str(value)


def _remember(sender, instance, raw=False, **kwargs) -> None:
    instance._audit_before = None
    if raw or instance.pk is None or _whole.get() or who() is None:
        return
    stored = sender.objects.filter(pk=instance.pk).first()
    instance._audit_before = _values(stored) if stored is not None else None


def _saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw or _whole.get() or who() is None:
        return
    kind, secret, _not_chosen = AUDITED[sender]
    if created:
        record(instance.organization_id, "created", kind, instance)
        return
    before = getattr(instance, "_audit_before", None)
    if before is None:
        return
    after = _values(instance)
    changes = {
        name: HIDDEN if name in secret else [_shown(before[name]), _shown(after[name])]
        for name in after
        if before.get(name) != after[name]
    }
    if not changes:
        return
    action = "changed"
    if set(changes) == {"is_active"}:
        action = "resumed" if instance.is_active else "paused"
    record(instance.organization_id, action, kind, instance, changes)


def _deleted(sender, instance, origin=None, **kwargs) -> None:
    # An organization deleted takes its things and its log with it: nothing to record.
    deleting_organization = getattr(getattr(origin, "_meta", None), "label", "") == "accounts.Organization"
    if _whole.get() or who() is None or deleting_organization:
        return
    record(instance.organization_id, "deleted", AUDITED[sender][0], instance)


def audit_saves(
    model: type[Model], kind: str, secret: frozenset[str] = frozenset(), not_chosen: frozenset[str] = frozenset()
) -> None:
    """Record every save and delete of `model` made by someone (called from its app's ready)."""
    AUDITED[model] = (kind, secret, not_chosen)
    uid = f"audit-{model._meta.label_lower}"
    pre_save.connect(_remember, sender=model, dispatch_uid=f"{uid}-before")
    post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}-saved")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}-deleted")
