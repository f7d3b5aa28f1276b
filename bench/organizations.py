"""The organization a benchmark's monitors, channels and pages belong to: its user's personal
one, which every account gets when it is made (accounts/apps.py)."""


def personal_organization(user):
    """`user`'s personal organization (their first membership's)."""
    from accounts.actors import actor_for_user

    actor = actor_for_user(user)
    if actor is None:
        raise RuntimeError(f"{user} has no organization")
    return actor.organization
