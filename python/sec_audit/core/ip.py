"""Client IP resolution through trusted proxies.

`REMOTE_ADDR` is the peer that connected to us. Only when it lies inside a trusted
proxy CIDR is `X-Forwarded-For` consulted, from the right (each proxy appends the
address it saw, so the right end is the part our own proxies wrote):

- with `count` = N (the original's algorithm): the right-most N-1 entries must each
  parse and lie in a trusted CIDR, and the client is entry [-N] (`REMOTE_ADDR` is the
  N-th proxy). Too few entries or any failure -> `REMOTE_ADDR`, `trusted_route=False`.
- without a count (D5): walk from the right past entries inside the trusted CIDRs; the
  first entry outside them is the client; if every entry is trusted, the left-most.
  An unparseable entry met on the way -> `REMOTE_ADDR`, `trusted_route=False`.

Differences from the original, on purpose:
- An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports for
  an IPv4 peer) is treated as its IPv4 address: it matches IPv4 CIDRs and is printed
  dotted on every Python version (the original printed `::ffff:a00:1` on 3.11 and
  never matched it against IPv4 CIDRs). Write trusted CIDRs in IPv4 form for them.
- The header is attacker-controlled, so the work is bounded: it is scanned from the
  right, never split whole; only the right-most N (or `MAX_WALK_ENTRIES`) non-empty
  entries are considered, with at most `MAX_EMPTY_ENTRIES` empty ones skipped on the
  way (more count as an unparseable entry); an entry longer than `MAX_ENTRY_CHARS` is
  unparseable. A walk through more than `MAX_WALK_ENTRIES` trusted entries falls back
  to `REMOTE_ADDR`.
- Ports (`1.2.3.4:80`, `[::1]:443`) are not stripped: such an entry is unparseable.
Output is the canonical `str(ip_address)` (IPv6 compressed and lower-case).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

__all__ = [
    "MAX_EMPTY_ENTRIES",
    "MAX_ENTRY_CHARS",
    "MAX_WALK_ENTRIES",
    "Address",
    "ClientIP",
    "Network",
    "parse_address",
    "resolve_client_ip",
]

MAX_ENTRY_CHARS = 64
MAX_WALK_ENTRIES = 32
MAX_EMPTY_ENTRIES = 32

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class ClientIP:
    """The resolved client address (None when nothing parses) and how it was found."""

    address: str | None
    trusted_route: bool


def parse_address(text: str | None) -> Address | None:
    """Parse one address; None for empty, oversized or invalid text (ports included)."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > MAX_ENTRY_CHARS:
        return None
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    # `in` is False across IP versions, never an error.
    return any(address in network for network in networks)


def _entries_from_right(header: str) -> Iterator[str | None]:
    """Non-empty entries, right-most first, scanned lazily (the header is never split).

    None stands for an unparseable entry: one too long to be an address (never copied),
    or the rest of a header that holds more than `MAX_EMPTY_ENTRIES` empty entries.
    """
    empties = 0
    end = len(header)
    while end >= 0:
        start = header.rfind(",", 0, end)
        if end - start - 1 > MAX_ENTRY_CHARS * 4:
            yield None  # too long even with generous whitespace
        elif piece := header[start + 1 : end].strip():
            yield piece
        else:
            empties += 1
            if empties > MAX_EMPTY_ENTRIES:
                yield None
                return
        end = start


def _counted(header: str, networks: Sequence[Network], count: int) -> Address | None:
    for index, entry in enumerate(_entries_from_right(header)):
        hop = parse_address(entry)
        if index == count - 1:
            return hop
        if hop is None or not _trusted(hop, networks):
            return None
    return None  # fewer than `count` entries


def _walk(header: str, networks: Sequence[Network]) -> Address | None:
    leftmost: Address | None = None
    for index, entry in enumerate(_entries_from_right(header)):
        if index == MAX_WALK_ENTRIES:
            return None  # a longer chain of our own proxies than we follow
        hop = parse_address(entry)
        if hop is None or not _trusted(hop, networks):
            return hop
        leftmost = hop
    # Every entry is one of our proxies: the left-most is the client.
    return leftmost


def resolve_client_ip(
    remote_addr: str | None,
    forwarded_for: str | None,
    networks: Sequence[Network],
    count: int | None,
) -> ClientIP:
    """Resolve the client address of a request (see the module docstring)."""
    remote = parse_address(remote_addr)
    fallback = ClientIP(None if remote is None else str(remote), False)
    if remote is None or not networks or not forwarded_for or not _trusted(remote, networks):
        return fallback
    if count is None:
        client = _walk(forwarded_for, networks)
    else:
        client = _counted(forwarded_for, networks, count)
    return fallback if client is None else ClientIP(str(client), True)
