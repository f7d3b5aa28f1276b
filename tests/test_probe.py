"""The probe against real local HTTP servers: what a user sees as up or down, and why."""

import time

import pytest

from probe.check import check, probe
from probe.target import ProbeTarget, parse_status_ranges


def local(url: str, **settings) -> ProbeTarget:
    """A target on this machine's loopback, which the private-address guard would refuse."""
    return ProbeTarget(url, allow_private=True, **settings)


def test_200_is_up_with_its_response_time(target):
    result = probe(local(target.url("/ok"), timeout_seconds=2))
    assert result.is_up
    assert result.status_code == 200
    assert result.error == ""
    assert 0 <= result.response_time_ms < 2000


def test_500_is_down_with_unexpected_status(target):
    result = probe(local(target.url("/status/500"), timeout_seconds=2))
    assert not result.is_up
    assert result.status_code == 500
    assert result.error == "unexpected status 500"


def test_expected_status_decides_what_is_up(target):
    assert probe(local(target.url("/status/404"), expected_status=((404, 404),))).is_up
    assert not probe(local(target.url("/ok"), expected_status=((201, 204),))).is_up


def test_slow_beyond_timeout_is_down_timeout(target):
    started = time.monotonic()
    result = probe(local(target.url("/slow?seconds=3"), timeout_seconds=1))
    assert not result.is_up
    assert result.error.startswith("timeout")
    assert time.monotonic() - started < 2.5


def test_closed_port_is_down_refused(closed_port):
    result = probe(local(f"http://127.0.0.1:{closed_port}/", timeout_seconds=2))
    assert not result.is_up
    assert result.status_code is None
    assert result.error.startswith("refused")


def test_unknown_host_is_down_dns():
    result = probe(local("http://no-such-host.invalid/", timeout_seconds=2))
    assert not result.is_up
    assert result.error.startswith("dns")


def test_tls_failure_is_down_tls(target):
    result = probe(local(target.url("/ok").replace("http://", "https://"), timeout_seconds=2))
    assert not result.is_up
    assert result.error.startswith("tls")


def test_endless_redirects_stop_at_the_limit(target):
    result = probe(local(target.url("/redirect-loop"), max_redirects=3))
    assert not result.is_up
    assert result.error.startswith("too many redirects")
    assert target.hits["/redirect-loop"] == 4  # the first request and three redirects


def test_huge_body_is_read_only_up_to_the_limit(target):
    result = probe(local(target.url("/big"), max_body_bytes=64 * 1024, timeout_seconds=5))
    assert result.is_up


def test_head_request(target):
    assert probe(local(target.url("/ok"), method="HEAD")).is_up


def test_flaky_target_is_up_after_one_retry(target):
    outcome = check(local(target.url("/flaky/a?failures=1"), timeout_seconds=2), retries=2, retry_interval_seconds=0.1)
    assert outcome.result.is_up
    assert outcome.attempts == 2


def test_failing_target_is_down_after_all_retries(target):
    outcome = check(local(target.url("/status/503")), retries=2, retry_interval_seconds=0.05)
    assert not outcome.result.is_up
    assert outcome.attempts == 3
    assert target.hits["/status/503"] == 3


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 1_000_000.0
        self.pauses = []

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def test_retries_stop_before_the_next_slot(target):
    clock = FakeClock()
    outcome = check(
        local(target.url("/status/500"), timeout_seconds=1),
        retries=5,
        retry_interval_seconds=1,
        deadline=clock.now + 3.5,  # a third retry (pause, then up to 1 s) would end past it
        sleep=clock.sleep,
        clock=clock,
    )
    assert outcome.attempts == 3
    assert clock.pauses == [1, 1]


@pytest.mark.parametrize(
    ("text", "ranges"),
    [("200-399", ((200, 399),)), ("200, 301,400-404", ((200, 200), (301, 301), (400, 404)))],
)
def test_status_ranges_parse(text, ranges):
    assert parse_status_ranges(text) == ranges


@pytest.mark.parametrize("text", ["", "abc", "99", "600", "300-200", "200-", "2xx"])
def test_bad_status_ranges_are_refused(text):
    with pytest.raises(ValueError):
        parse_status_ranges(text)
