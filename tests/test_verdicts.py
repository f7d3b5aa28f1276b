"""The rule that turns each region's latest result into one status."""

import pytest

from checks.state.verdicts import verdict


@pytest.mark.parametrize(
    ("latest", "quorum", "expected"),
    [
        ({"india": None}, None, "pending"),
        ({"india": "up"}, None, "up"),
        ({"india": "down"}, None, "down"),
        # Two regions: a majority is both.
        ({"india": "down", "usa": "up"}, None, "degraded"),
        ({"india": "down", "usa": "down"}, None, "down"),
        ({"india": "down", "usa": None}, None, "degraded"),
        # Three regions: a majority is two; one flaky vantage point never pages.
        ({"india": "down", "usa": "up", "europe": "up"}, None, "degraded"),
        ({"india": "down", "usa": "down", "europe": "up"}, None, "down"),
        ({"india": "up", "usa": None, "europe": None}, None, "up"),
        # An explicit quorum.
        ({"india": "down", "usa": "up", "europe": "up"}, 1, "down"),
        ({"india": "down", "usa": "down", "europe": "up"}, 3, "degraded"),
        ({"india": "down", "usa": "down", "europe": "down"}, 3, "down"),
        # A quorum above the number of regions means all of them.
        ({"india": "down", "usa": "down"}, 5, "down"),
        ({"india": "up", "usa": "up"}, 1, "up"),
    ],
)
def test_verdict(latest, quorum, expected):
    assert verdict(latest, quorum) == expected
