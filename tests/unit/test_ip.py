"""Client IP resolution: the original's counted algorithm, the D5 walk, and hostile headers."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import pytest

from sec_audit.core.ip import (
    MAX_WALK_ENTRIES,
    ClientIP,
    parse_address,
    resolve_client_ip,
)

TEN = [ip_network("10.0.0.0/8")]
LOOPBACK = [ip_network("127.0.0.0/8")]
MIXED: list[IPv4Network | IPv6Network] = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


def trusted(address: str) -> ClientIP:
    return ClientIP(address, True)


def fallback(address: str | None) -> ClientIP:
    return ClientIP(address, False)


class GuardedHeader(str):
    """A header that fails if split whole and counts how often it is scanned."""

    rfind_calls = 0

    def split(self, *args: object, **kwargs: object) -> list[str]:  # type: ignore[override]
        raise AssertionError("the header must not be split whole")

    def rsplit(self, *args: object, **kwargs: object) -> list[str]:  # type: ignore[override]
        raise AssertionError("the header must be scanned, not rsplit")

    def rfind(self, *args: object) -> int:  # type: ignore[override]
        type(self).rfind_calls += 1
        return super().rfind(*args)  # type: ignore[arg-type]


@pytest.fixture
def guarded() -> type[GuardedHeader]:
    GuardedHeader.rfind_calls = 0
    return GuardedHeader


# --- no trusted proxies: REMOTE_ADDR only -----------------------------------------


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", None),
        (None, None),
        ("garbage", None),
        ("203.0.113.9:80", None),
    ],
)
def test_no_cidrs_uses_remote_addr(remote: str | None, expected: str | None) -> None:
    assert resolve_client_ip(remote, "8.8.8.8", [], None) == fallback(expected)
    assert resolve_client_ip(remote, "8.8.8.8", [], 1) == fallback(expected)


# --- the original's counted algorithm (upstream tests: N=2, 10.0.0.0/8) -----------


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("8.8.8.8, 10.0.0.2", trusted("8.8.8.8")),
        ("8.8.8.8, 203.0.113.99", fallback("10.0.0.3")),  # untrusted hop
        ("8.8.8.8", fallback("10.0.0.3")),  # too few entries
        ("6.6.6.6, 8.8.8.8, 10.0.0.2", trusted("8.8.8.8")),  # left spoof ignored
        (" 8.8.8.8 ,, 10.0.0.2 , ", trusted("8.8.8.8")),  # whitespace and empties
        ("8.8.8.8, garbage", fallback("10.0.0.3")),
        ("garbage, 10.0.0.2", fallback("10.0.0.3")),  # client entry must parse
        ("10.0.0.7, 10.0.0.2", trusted("10.0.0.7")),  # client may be inside the CIDRs
        ("", fallback("10.0.0.3")),
        (None, fallback("10.0.0.3")),
    ],
)
def test_counted_two_hops(xff: str | None, expected: ClientIP) -> None:
    assert resolve_client_ip("10.0.0.3", xff, TEN, 2) == expected


def test_counted_untrusted_remote_ignores_xff() -> None:
    assert resolve_client_ip("203.0.113.5", "8.8.8.8, 10.0.0.2", TEN, 2) == fallback("203.0.113.5")


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("8.8.8.8", trusted("8.8.8.8")),
        ("1.2.3.4, 9.9.9.9", trusted("9.9.9.9")),
        ("garbage", fallback("127.0.0.1")),
        ("203.0.113.7:8080", fallback("127.0.0.1")),  # ports are not stripped
        ("[2001:db8::1]:443", fallback("127.0.0.1")),
        ("2001:db8::1", trusted("2001:db8::1")),
        ("2001:DB8::0:1", trusted("2001:db8::1")),  # canonical output
        ("127.0.0.5", trusted("127.0.0.5")),
        ("::ffff:8.8.8.8", trusted("8.8.8.8")),
    ],
)
def test_counted_one_hop_edge_cases(xff: str, expected: ClientIP) -> None:
    assert resolve_client_ip("127.0.0.1", xff, LOOPBACK, 1) == expected


def test_counted_three_hops() -> None:
    xff = "1.1.1.1, 10.0.0.5, 10.0.0.6"
    assert resolve_client_ip("10.0.0.3", xff, TEN, 3) == trusted("1.1.1.1")
    assert resolve_client_ip("10.0.0.3", xff, TEN, 4) == fallback("10.0.0.3")


# --- IPv4-mapped IPv6 (fix: treated as IPv4, printed dotted) -----------------------


def test_ipv4_mapped_remote_addr_matches_ipv4_cidr() -> None:
    assert resolve_client_ip("::ffff:127.0.0.1", "8.8.8.8", LOOPBACK, 1) == trusted("8.8.8.8")
    assert resolve_client_ip("::ffff:127.0.0.1", "8.8.8.8", LOOPBACK, None) == trusted("8.8.8.8")


def test_ipv4_mapped_remote_addr_printed_dotted() -> None:
    assert resolve_client_ip("::ffff:127.0.0.1", None, LOOPBACK, 1) == fallback("127.0.0.1")
    assert resolve_client_ip("::ffff:7f00:1", None, [], None) == fallback("127.0.0.1")


def test_parse_address() -> None:
    assert parse_address("::ffff:10.0.0.1") == IPv4Address("10.0.0.1")
    assert parse_address(" 2001:db8::1\t") == IPv6Address("2001:db8::1")
    for bad in (None, "", "   ", "01.2.3.4", "1.2.3.4/32", "1.2.3.4:80", "[::1]", "x"):
        assert parse_address(bad) is None, bad


def test_entry_length_limit() -> None:
    at_limit = "fe80::1%" + "a" * 56  # 64 characters, a valid scoped address
    assert parse_address(at_limit) is not None
    assert parse_address(at_limit + "a") is None
    assert resolve_client_ip("10.0.0.3", at_limit + "a", TEN, None) == fallback("10.0.0.3")


# --- D5: no count, walk from the right past trusted entries ------------------------


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("8.8.8.8", trusted("8.8.8.8")),
        ("1.1.1.1, 8.8.8.8, 10.0.0.2, 10.0.0.9", trusted("8.8.8.8")),
        ("10.0.0.7, 10.0.0.2", trusted("10.0.0.7")),  # all trusted: the left-most
        ("10.0.0.7", trusted("10.0.0.7")),
        ("8.8.8.8, garbage, 10.0.0.2", fallback("10.0.0.3")),  # unparseable on the walk
        ("garbage, 8.8.8.8, 10.0.0.2", trusted("8.8.8.8")),  # beyond the client: unseen
        ("garbage, 10.0.0.2", fallback("10.0.0.3")),
        ("8.8.8.8:80, 10.0.0.2", fallback("10.0.0.3")),
        ("8.8.8.8, 2001:db8::5", trusted("8.8.8.8")),  # trusted IPv6 hop
        ("2001:db9::1, 2001:db8::5", trusted("2001:db9::1")),
        ("8.8.8.8, ::ffff:10.0.0.2", trusted("8.8.8.8")),  # mapped hop is trusted
        ("::ffff:8.8.8.8, 10.0.0.2", trusted("8.8.8.8")),
        ("   8.8.8.8   ,\t10.0.0.2\t", trusted("8.8.8.8")),
        (", ,  ,", fallback("10.0.0.3")),
        ("", fallback("10.0.0.3")),
    ],
)
def test_walk(xff: str, expected: ClientIP) -> None:
    assert resolve_client_ip("10.0.0.3", xff, MIXED, None) == expected


def test_walk_untrusted_remote_ignores_xff() -> None:
    assert resolve_client_ip("8.8.4.4", "10.0.0.2", MIXED, None) == fallback("8.8.4.4")


def test_walk_unparseable_remote() -> None:
    assert resolve_client_ip("garbage", "8.8.8.8", MIXED, None) == fallback(None)


# --- spoofing attempts -------------------------------------------------------------


def test_spoofed_trusted_looking_entry_is_walked_past() -> None:
    # The client claims to be a proxy; our proxy appends the real peer on the right.
    assert resolve_client_ip("10.0.0.3", "10.0.0.5, 8.8.8.8", TEN, None) == trusted("8.8.8.8")


def test_spoofed_left_most_entry_is_ignored() -> None:
    assert resolve_client_ip("10.0.0.3", "1.2.3.4, 8.8.8.8", TEN, None) == trusted("8.8.8.8")
    assert resolve_client_ip("10.0.0.3", "1.2.3.4, 8.8.8.8", TEN, 1) == trusted("8.8.8.8")


def test_direct_client_cannot_claim_an_address() -> None:
    for count in (None, 1, 2):
        assert resolve_client_ip("8.8.8.8", "127.0.0.1, 10.0.0.2", TEN, count) == fallback(
            "8.8.8.8"
        )


def test_injected_separators_in_entries() -> None:
    for xff in ("8.8.8.8;9.9.9.9, 10.0.0.2", "8.8.8.8 9.9.9.9, 10.0.0.2", "8.8.8.8\n, 10.0.0.2x"):
        assert resolve_client_ip("10.0.0.3", xff, TEN, None) == fallback("10.0.0.3")


# --- hostile headers: bounded work -------------------------------------------------


def test_huge_header_is_scanned_from_the_right(guarded: type[GuardedHeader]) -> None:
    header = guarded("1.1.1.1, " * 200_000 + "8.8.8.8, 10.0.0.2")
    assert resolve_client_ip("10.0.0.3", header, TEN, None) == trusted("8.8.8.8")
    assert guarded.rfind_calls == 2
    assert resolve_client_ip("10.0.0.3", header, TEN, 2) == trusted("8.8.8.8")
    assert guarded.rfind_calls == 4


def test_long_trusted_chain_beyond_the_bound_falls_back(guarded: type[GuardedHeader]) -> None:
    header = guarded(", ".join(["10.0.0.9"] * 200_000))
    assert resolve_client_ip("10.0.0.3", header, TEN, None) == fallback("10.0.0.3")
    assert guarded.rfind_calls == MAX_WALK_ENTRIES + 1  # 32 hops, then one more seen


def test_walk_bound_edges() -> None:
    exactly = ", ".join(["10.0.0.9"] * (MAX_WALK_ENTRIES - 1) + ["10.0.0.8"])
    assert resolve_client_ip("10.0.0.3", "10.0.0.1, " + exactly, TEN, None) == fallback("10.0.0.3")
    assert resolve_client_ip("10.0.0.3", exactly, TEN, None) == trusted("10.0.0.9")
    past_bound = "8.8.8.8, " + ", ".join(["10.0.0.9"] * MAX_WALK_ENTRIES)
    assert resolve_client_ip("10.0.0.3", past_bound, TEN, None) == fallback("10.0.0.3")


def test_header_of_commas_is_bounded(guarded: type[GuardedHeader]) -> None:
    header = guarded("8.8.8.8" + "," * 1_000_000 + "10.0.0.2")
    assert resolve_client_ip("10.0.0.3", header, TEN, None) == fallback("10.0.0.3")
    assert resolve_client_ip("10.0.0.3", header, TEN, 2) == fallback("10.0.0.3")
    assert guarded.rfind_calls < 100


def test_giant_single_entry_is_unparseable(guarded: type[GuardedHeader]) -> None:
    header = guarded("8" * 1_000_000 + ", 10.0.0.2")
    assert resolve_client_ip("10.0.0.3", header, TEN, None) == fallback("10.0.0.3")
    assert resolve_client_ip("10.0.0.3", header, TEN, 2) == fallback("10.0.0.3")
    whitespace = guarded(" " * 1_000_000 + "8.8.8.8, 10.0.0.2")
    assert resolve_client_ip("10.0.0.3", whitespace, TEN, None) == fallback("10.0.0.3")


def test_huge_count_is_bounded_by_the_header(guarded: type[GuardedHeader]) -> None:
    header = guarded("8.8.8.8, 10.0.0.2")
    assert resolve_client_ip("10.0.0.3", header, TEN, 10**9) == fallback("10.0.0.3")
    assert guarded.rfind_calls == 2


def test_remote_addr_is_bounded() -> None:
    assert resolve_client_ip("1" * 10_000, "8.8.8.8", TEN, None) == fallback(None)
