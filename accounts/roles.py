"""Roles, lowest first: a viewer reads; an editor also writes monitors, channels, windows and
pages; an admin also manages members, invitations and keys; an owner also makes owners and
is the only one who may leave an organization without one."""

from .models import Role

ROLES = list(Role.values)


def rank(role: str) -> int:
    return ROLES.index(role)


def at_least(role: str, needed: str) -> bool:
    return rank(role) >= rank(needed)


def lower(first: str, second: str) -> str:
    return first if rank(first) <= rank(second) else second
