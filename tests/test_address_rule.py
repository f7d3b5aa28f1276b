"""The one rule deciding which addresses a check may reach (probe.guard.address_allowed),
shared by URLs entered, every HTTP hop and TCP checks; tests/test_ssrf.py shows each path uses it."""

import ipaddress

import pytest
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES

from probe.guard import address_allowed

NOT_PUBLIC = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "0.1.2.3",
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "192.0.0.8",  # IETF protocol assignments
    "192.88.99.1",  # 6to4 relay anycast
    "198.18.0.1",  # benchmarking
    "198.19.255.255",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "::",
    "::1",
    "::127.0.0.1",  # IPv4-compatible
    "::a9fe:a9fe",
    "::8.8.8.8",
    "::ffff:10.0.0.1",  # IPv4-mapped: judged as the IPv4 address inside
    "::ffff:169.254.169.254",
    "::ffff:0:7f00:1",  # IPv4-translated
    "64:ff9b::a00:1",  # NAT64
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1",
    "2002:a00:1::1",  # 6to4
    "2002:a9fe:a9fe::1",
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1",  # documentation
    "3fff::1",
    "fec0::1",  # site-local
    "fc00::1",
    "fd00:ec2::254",
    "fe80::1",
    "ff02::1",  # multicast
    "ff0e::1",
    "100::1",  # discard
    "5f00::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_only_public_addresses_are_allowed(address):
    assert not address_allowed(ipaddress.ip_address(address), allow_loopback=False)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "::ffff:93.184.215.14", "2606:4700:4700::1111", "2001:4860:4860::8888"]
)
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False)


def test_allowing_loopback_allows_loopback_alone():
    loopback = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]
    assert all(address_allowed(ipaddress.ip_address(a), allow_loopback=True) for a in loopback)
    others = [a for a in NOT_PUBLIC if not ipaddress.ip_address(a).is_loopback]
    assert not any(address_allowed(ipaddress.ip_address(a), allow_loopback=True) for a in others)


def test_the_rule_refuses_everything_requests_hardened_refuses():
    # Its filter runs first at connect time; it must never refuse what entry accepted.
    for network in EXTRA_BLOCKED_NET_RANGES:
        for address in (network[0], network[-1]):
            assert not address_allowed(address, allow_loopback=False), address
