"""The HMAC chain: sealing finished lines, and verify_lines finding every kind of tampering.

Lines come from the real JSONLLogFormatter (its `finish` seam sealing with our chain,
as the integration will) and from a stub formatter with both separator styles.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.events import AuditEvent
from sec_audit.logging.emission import emit_event
from sec_audit.logging.formatters import JSONLLogFormatter
from sec_audit.logging.integrity import IntegrityChain, mac_input, split_sealed
from sec_audit.verify import (
    BAD_HMAC,
    BAD_LINK,
    CONFLICT,
    DUPLICATE,
    MALFORMED,
    MISSING,
    MISSING_HEAD,
    REORDERED,
    UNKNOWN_KEY,
    Problem,
    verify_lines,
)

KEY = b"0123456789abcdef0123456789abcdef"
KEYS = {"k1": KEY}
COMPACT = (",", ":")


class StubFormatter(logging.Formatter):
    """A stand-in for the JSONL formatter: record.msg (a dict) as JSON, then sealed."""

    def __init__(self, chain: IntegrityChain, compact: bool = False) -> None:
        super().__init__()
        self.chain = chain
        self.separators = COMPACT if compact else None

    def format(self, record: logging.LogRecord) -> str:
        return self.chain.seal(json.dumps(record.msg, separators=self.separators))


class SealingFormatter(JSONLLogFormatter):
    """The real formatter with the 3-line integration (see docs/delivery.md)."""

    def __init__(self, chain: IntegrityChain, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chain = chain
        self.reserved_bytes = chain.member_bytes(self.compact)

    def finish(self, line: str) -> str:
        return self.chain.seal(line)


_count = 0


def logger_with(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    global _count
    _count += 1
    stream = io.StringIO()
    logger = logging.getLogger(f"tests.integrity.{_count}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    return logger, stream


def stub_lines(n: int, compact: bool = False, chain: IntegrityChain | None = None) -> list[str]:
    logger, stream = logger_with(StubFormatter(chain or IntegrityChain(KEY), compact))
    for i in range(n):
        logger.info({"event": "e", "i": i, "text": 'quote " and \\ and é'})
    return stream.getvalue().splitlines()


def event(i: int = 0, **extra: Any) -> AuditEvent:
    attrs = {"request_id": f"{i:032x}", "http.response.status_code": 404, "url.path": f"/x/{i}"}
    attrs.update(extra)
    return AuditEvent("http.response.client_error", "1.0", "http.response", attrs)


def formatter_lines(n: int, **kwargs: Any) -> list[str]:
    logger, stream = logger_with(SealingFormatter(IntegrityChain(KEY), **kwargs))
    for i in range(n):
        assert emit_event(logger, event(i), logging.WARNING)
    return stream.getvalue().splitlines()


def problems(lines: list[str], keys: dict[str, bytes] = KEYS, **kw: Any) -> list[Problem]:
    return verify_lines(lines, keys, **kw).problems


def kinds(lines: list[str], keys: dict[str, bytes] = KEYS, **kw: Any) -> list[tuple[str, int]]:
    return [(p.kind, p.line) for p in problems(lines, keys, **kw)]


# -- sealing -------------------------------------------------------------------------


@pytest.mark.parametrize("compact", [False, True])
def test_real_formatter_lines_are_sealed_and_verify(compact: bool) -> None:
    lines = formatter_lines(5, compact=compact)
    objs = [json.loads(line) for line in lines]
    member = objs[0]["integrity"]
    assert list(objs[0])[-2:] == ["event_name", "integrity"]  # the last envelope key
    assert list(member) == ["stream", "seq", "key_id", "prev", "hmac"]
    assert len(member["stream"]) == 16 and int(member["stream"], 16) >= 0
    assert [o["integrity"]["seq"] for o in objs] == [1, 2, 3, 4, 5]
    assert {o["integrity"]["stream"] for o in objs} == {member["stream"]}
    assert objs[0]["integrity"]["prev"] == ""
    for before, after in itertools.pairwise(objs):
        assert after["integrity"]["prev"] == before["integrity"]["hmac"]
    # The line keeps the formatter's own style, member included.
    for line, obj in zip(lines, objs, strict=True):
        assert line == json.dumps(obj, separators=COMPACT if compact else None)
    report = verify_lines(lines, KEYS)
    assert report.ok and report.lines == 5
    assert [(s.first_seq, s.last_seq, s.lines, s.key_ids) for s in report.streams.values()] == [
        (1, 5, 5, ("k1",))
    ]


def test_hmac_is_over_the_unsealed_line_and_chain_position() -> None:
    chain = IntegrityChain(KEY, "k7")
    plain = [json.dumps({"a": 1}), json.dumps({"a": 2})]
    sealed = [chain.seal(line) for line in plain]
    prev = ""
    for seq, (line, text) in enumerate(zip(plain, sealed, strict=True), 1):
        body, seal = split_sealed(text)
        assert body == line  # removing the member gives the formatter's line back
        assert (seal.stream, seal.seq, seal.key_id, seal.prev) == (chain.stream, seq, "k7", prev)
        message = line.encode() + f"\n{chain.stream} {seq} k7 {prev}".encode()
        assert message == mac_input(line, chain.stream, seq, "k7", prev)
        assert seal.hmac == hmac.new(KEY, message, hashlib.sha256).hexdigest()
        prev = seal.hmac


def test_stub_formatter_both_styles_and_empty_object() -> None:
    chain = IntegrityChain(KEY)
    default = chain.seal('{"a": [1, 2], "b": {"c": "d"}}')
    compact = chain.seal('{"a":[1,2],"b":{"c":"d"}}')
    empty = chain.seal("{}")
    assert default.startswith('{"a": [1, 2], "b": {"c": "d"}, "integrity": {"stream": "')
    assert compact.startswith('{"a":[1,2],"b":{"c":"d"},"integrity":{"stream":"')
    assert empty.startswith('{"integrity": {"stream": "')
    assert [json.loads(x)["integrity"]["seq"] for x in (default, compact, empty)] == [1, 2, 3]
    assert verify_lines([default, compact, empty], KEYS).ok


def test_escaped_quotes_in_the_first_key_do_not_confuse_the_style() -> None:
    chain = IntegrityChain(KEY)
    line = chain.seal(json.dumps({'k\\"": 1, "x': 2}, separators=COMPACT))
    assert ',"integrity":{' in line
    assert verify_lines([line], KEYS).ok


@pytest.mark.parametrize("text", ["", "[1, 2]", "not json", '{"a": 1', '"str"', "{ }"])
def test_seal_rejects_what_is_not_a_json_object_line(text: str) -> None:
    with pytest.raises(ValueError, match="not a JSON object line"):
        IntegrityChain(KEY).seal(text)


def test_member_bytes_bounds_what_seal_adds() -> None:
    for compact in (False, True):
        chain = IntegrityChain(KEY, "a-long-key-id-of-32-characters.x")
        line = json.dumps({"a": 1}, separators=COMPACT if compact else None)
        first = chain.seal(line)
        chain._seq = 10**18  # far along a long-lived stream
        later = chain.seal(json.dumps({"a": 2}, separators=COMPACT if compact else None))
        limit = chain.member_bytes(compact)
        assert len(first) - len(line) <= limit
        assert len(later) - len(line) <= limit
        assert limit - (len(later) - len(line)) < 4  # and not by much


def test_size_bound_keeps_room_for_the_member() -> None:
    limit = 2048
    settings = {"logging": {"projection_limits": {"max_record_bytes": limit}}}
    logger, stream = logger_with(SealingFormatter(IntegrityChain(KEY), settings=settings))
    emit_event(logger, event(1, note="x" * 5000), logging.WARNING)
    (line,) = stream.getvalue().splitlines()
    assert len(line.encode()) <= limit
    assert json.loads(line)["integrity"]["seq"] == 1
    assert verify_lines([line], KEYS).ok


def test_chain_from_settings() -> None:
    settings = SecAuditSettings.from_value({"logging": {"integrity": {"key": KEY, "key_id": "k2"}}})
    assert settings.logging.integrity is not None
    chain = IntegrityChain.from_config(settings.logging.integrity)
    assert chain.key_id == "k2"
    assert KEY.decode() not in repr(chain)
    assert verify_lines([chain.seal("{}")], {"k2": KEY}).ok


def test_streams_differ_per_chain() -> None:
    assert IntegrityChain(KEY).stream != IntegrityChain(KEY).stream


def test_the_same_line_sealed_again_gets_the_same_seal() -> None:
    chain = IntegrityChain(KEY)
    first = chain.seal('{"a": 1}')
    assert chain.seal('{"a": 1}') == first
    assert json.loads(chain.seal('{"a": 2}'))["integrity"]["seq"] == 2


def test_one_formatter_on_two_handlers_gives_both_the_whole_chain() -> None:
    formatter = StubFormatter(IntegrityChain(KEY))
    logger, first = logger_with(formatter)
    second = io.StringIO()
    handler = logging.StreamHandler(second)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    for i in range(4):
        logger.info({"i": i})
    assert first.getvalue() == second.getvalue()
    assert verify_lines(first.getvalue().splitlines(), KEYS).ok


def test_concurrent_sealing_through_one_handler_stays_in_order() -> None:
    logger, stream = logger_with(StubFormatter(IntegrityChain(KEY)))
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(200):
            logger.info({"t": t, "i": i})

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1600
    assert [json.loads(x)["integrity"]["seq"] for x in lines] == list(range(1, 1601))
    assert verify_lines(lines, KEYS).ok


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_stream() -> None:
    chain = IntegrityChain(KEY)
    parent_line = chain.seal('{"who": "parent"}')
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: seal one line, hand it over, leave without cleanup
        try:
            os.write(write_end, chain.seal('{"who": "child"}').encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child_line = pipe.read().decode()
    os.waitpid(pid, 0)
    child, parent = json.loads(child_line)["integrity"], json.loads(parent_line)["integrity"]
    assert child["stream"] != parent["stream"]
    assert (child["seq"], child["prev"]) == (1, "")
    next_line = chain.seal('{"who": "parent again"}')
    assert json.loads(next_line)["integrity"]["seq"] == 2  # the parent's chain goes on
    assert verify_lines([parent_line, child_line, next_line], KEYS).ok


# -- tampering -----------------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["default", "compact"])
def lines(request: pytest.FixtureRequest) -> list[str]:
    return stub_lines(6, compact=request.param)


def test_intact(lines: list[str]) -> None:
    assert problems(lines) == []


def test_deleted_line_is_reported_with_its_seq_and_place(lines: list[str]) -> None:
    del lines[2]
    (problem,) = problems(lines)
    stream = json.loads(lines[0])["integrity"]["stream"]
    assert (problem.kind, problem.line, problem.stream, problem.seq) == (MISSING, 3, stream, 4)
    assert problem.detail == "seq 3 missing (1 line deleted) after seq 2 (<lines>:2)"


def test_several_deleted_lines(lines: list[str]) -> None:
    del lines[1:4]
    (problem,) = problems(lines)
    assert problem.kind == MISSING
    assert problem.detail == "seq 2-4 missing (3 lines deleted) after seq 1 (<lines>:1)"


def test_deleted_head_and_partial_files(lines: list[str]) -> None:
    assert kinds(lines[2:]) == [(MISSING_HEAD, 1)]
    assert "seq 1-2 missing" in problems(lines[2:])[0].detail
    assert problems(lines[2:], allow_partial=True) == []


def test_tail_truncation_is_not_detectable_but_summarised(lines: list[str]) -> None:
    report = verify_lines(lines[:4], KEYS)
    assert report.ok
    assert [s.last_seq for s in report.streams.values()] == [4]


def test_reordered_lines(lines: list[str]) -> None:
    lines[1], lines[3] = lines[3], lines[1]
    found = problems(lines)
    assert [(p.kind, p.line, p.seq) for p in found] == [(REORDERED, 3, 3), (REORDERED, 4, 2)]
    assert found[0].detail == "appears after seq 4 (<lines>:2)"


def test_moved_line(lines: list[str]) -> None:
    lines.append(lines.pop(0))
    assert [(p.kind, p.line, p.seq) for p in problems(lines)] == [(REORDERED, 6, 1)]


def test_edited_byte_in_the_body(lines: list[str]) -> None:
    lines[3] = lines[3].replace('"i": 3', '"i": 4').replace('"i":3', '"i":4')
    assert kinds(lines) == [(BAD_HMAC, 4)]
    assert problems(lines)[0].detail == "HMAC mismatch: line edited (or wrong key)"


@pytest.mark.parametrize("index", [0, 10, -80, -2])
def test_any_single_byte_flip_is_caught(lines: list[str], index: int) -> None:
    text = lines[2]
    position = index % len(text)
    flipped = "A" if text[position] != "A" else "B"
    lines[2] = text[:position] + flipped + text[position + 1 :]
    found = problems(lines)
    assert found, "an edited line must not verify"
    assert all(p.line == 3 or p.kind == MISSING for p in found)


def test_edited_member_is_malformed_and_leaves_a_gap(lines: list[str]) -> None:
    lines[2] = lines[2][:-1] + ', "x": 1}}'
    assert kinds(lines) == [(MALFORMED, 3), (MISSING, 4)]


def test_renumbered_line_breaks_its_own_hmac(lines: list[str]) -> None:
    del lines[2]
    for i in range(2, len(lines)):  # seq 4.. renumbered to close the gap
        obj = json.loads(lines[i])
        old = obj["integrity"]["seq"]
        lines[i] = (
            lines[i]
            .replace(f'"seq": {old},', f'"seq": {old - 1},')
            .replace(f'"seq":{old},', f'"seq":{old - 1},')
        )
    assert [kind for kind, _ in kinds(lines)] == [BAD_HMAC] * 3


def test_unsealed_and_blank_lines(lines: list[str]) -> None:
    lines.insert(2, json.dumps({"forged": True}))
    lines.insert(0, "")
    assert kinds(lines) == [(MALFORMED, 4)]


def test_duplicated_line(lines: list[str]) -> None:
    lines.insert(4, lines[1])
    assert [(k, n) for k, n in kinds(lines)] == [(REORDERED, 5), (DUPLICATE, 5)]
    assert problems(lines)[1].detail == "same line as <lines>:2"


def test_two_streams_interleave_freely() -> None:
    a, b = stub_lines(4), stub_lines(4, compact=True)
    mixed = [a[0], b[0], b[1], a[1], a[2], b[2], b[3], a[3]]
    report = verify_lines(mixed, KEYS)
    assert report.ok and len(report.streams) == 2


def test_line_moved_to_another_stream_is_caught() -> None:
    a, b = stub_lines(3), stub_lines(3)
    stream_a = json.loads(a[0])["integrity"]["stream"]
    stream_b = json.loads(b[0])["integrity"]["stream"]
    # Swap the stream ids of two lines that share a seq: each "fits" the other stream.
    a[1], b[1] = a[1].replace(stream_a, stream_b), b[1].replace(stream_b, stream_a)
    # Stream A now reads seq 1, 3, 2 and stream B 2, 1, 3: the HMACs name the culprits.
    assert kinds(a + b) == [(BAD_HMAC, 2), (REORDERED, 4), (BAD_HMAC, 5), (REORDERED, 5)]


def test_wrong_key_fails_every_line(lines: list[str]) -> None:
    assert kinds(lines, {"k1": b"another key, 16+ bytes"}) == [(BAD_HMAC, n) for n in range(1, 7)]


def test_key_rotation_and_unknown_key_ids() -> None:
    old = stub_lines(2, chain=IntegrityChain(KEY, "2024"))
    new = stub_lines(2, chain=IntegrityChain(b"n" * 32, "2025"))
    assert verify_lines(old + new, {"2024": KEY, "2025": b"n" * 32}).ok
    found = problems(old + new, {"2024": KEY})
    assert [(p.kind, p.line) for p in found] == [(UNKNOWN_KEY, 3), (UNKNOWN_KEY, 4)]
    assert found[0].detail == "no key given for key_id '2025'"


def test_two_chains_claiming_one_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("secrets.token_hex", lambda n: "ab" * n)
    first, second = stub_lines(3), stub_lines(3, compact=True)
    assert kinds(first + second) == [
        (REORDERED, 4),
        (REORDERED, 5),
        (CONFLICT, 4),
        (CONFLICT, 5),
        (CONFLICT, 6),
    ]
    # Spliced in place of its twin, a valid line from the other chain breaks the link.
    spliced = [first[0], second[1], first[2]]
    assert kinds(spliced) == [(BAD_LINK, 2), (BAD_LINK, 3)]


def test_problem_text_names_file_line_stream_and_seq(lines: list[str]) -> None:
    del lines[1]
    text = str(problems(lines)[0])
    stream = json.loads(lines[0])["integrity"]["stream"]
    assert text == (
        f"<lines>:2: stream {stream} seq 3: missing: seq 2 missing (1 line deleted) "
        "after seq 1 (<lines>:1)"
    )


@pytest.fixture(autouse=True)
def _no_leaked_loggers() -> Iterator[None]:
    yield
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("tests.integrity."):
            logging.getLogger(name).handlers.clear()


# -- wired through settings and the CLI --------------------------------------------


def test_settings_turn_sealing_on_in_the_real_formatter_and_cli_verifies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from sec_audit.cli import main as cli_main

    monkeypatch.setenv("AUDIT_HMAC_KEY", KEY.decode())
    settings = {"logging": {"integrity": {"key_env": "AUDIT_HMAC_KEY"}}}
    logger, stream = logger_with(JSONLLogFormatter(settings=settings))
    for i in range(3):
        assert emit_event(logger, event(i), logging.WARNING)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["integrity"]["seq"] for line in lines] == [1, 2, 3]
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    assert cli_main(["verify", "--key-env", "AUDIT_HMAC_KEY", str(path)], stdout=out) == 0
    # Delete the middle line: the CLI reports the gap and fails.
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    out = io.StringIO()
    assert cli_main(["verify", "--key-env", "AUDIT_HMAC_KEY", str(path)], stdout=out) == 1
    assert "missing" in out.getvalue()


def test_formatter_without_integrity_adds_no_member() -> None:
    logger, stream = logger_with(JSONLLogFormatter())
    assert emit_event(logger, event(), logging.WARNING)
    assert "integrity" not in json.loads(stream.getvalue())
