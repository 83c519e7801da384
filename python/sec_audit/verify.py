"""`sec-audit verify FILE...`: check the HMAC chains of sealed audit lines.

Each line is checked on its own (its integrity member, its key, its HMAC), then per
stream: sequence numbers must run 1, 2, 3... in file order and each line's `prev` must
be the previous line's HMAC. Every problem names the file, line number, stream and
seq, and says what it means (deleted, reordered, edited...). Files are read in the
order given, so pass rotated files oldest first. A chain cannot show that lines were
cut from its end: compare the last seq per stream with what you expect.
"""

from __future__ import annotations

import argparse
import hmac
import itertools
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from sec_audit.core.config import INTEGRITY_KEY_ID_RE
from sec_audit.logging.integrity import Seal, compute_hmac, split_sealed

__all__ = ["Problem", "Report", "StreamSummary", "Verifier", "main", "verify_lines"]

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
DEFAULT_KEY_ID = "k1"
MAX_PROBLEMS_SHOWN = 100

# Problem kinds, each a different story about what happened to the file.
MALFORMED = "malformed"  # no well-formed integrity member: unsealed, or its member edited
UNKNOWN_KEY = "unknown_key"  # sealed with a key id we were not given
BAD_HMAC = "bad_hmac"  # the line (or its member) was edited, or the key is wrong
MISSING = "missing"  # seq numbers absent from the middle of a stream: lines deleted
MISSING_HEAD = "missing_head"  # a stream starts after seq 1: first lines deleted or not given
REORDERED = "reordered"  # a line appears after a later one of its stream
DUPLICATE = "duplicate"  # the very same line twice (replayed or copied)
CONFLICT = "conflict"  # two different valid lines claim one position
BAD_LINK = "bad_link"  # valid line whose prev is not its predecessor's HMAC


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    source: str
    line: int
    stream: str | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        if self.stream is not None:
            where += f": stream {self.stream} seq {self.seq}"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class StreamSummary:
    stream: str
    first_seq: int
    last_seq: int
    lines: int
    key_ids: tuple[str, ...]


@dataclass(slots=True)
class Report:
    lines: int = 0
    streams: dict[str, StreamSummary] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> list[str]:
        return [problem.kind for problem in self.problems]


@dataclass(slots=True)
class _Entry:
    seal: Seal
    source: str
    line: int
    valid: bool  # HMAC checked and good


@dataclass(slots=True)
class _Stream:
    entries: list[_Entry] = field(default_factory=list)
    max_seq: int = 0
    max_at: _Entry | None = None


class Verifier:
    """Feed lines in order (`feed`), possibly from several files, then `finish()`."""

    def __init__(self, keys: Mapping[str, bytes], *, allow_partial: bool = False) -> None:
        self.keys = dict(keys)
        self.allow_partial = allow_partial
        self.report = Report()
        self._streams: dict[str, _Stream] = {}

    def _problem(
        self, kind: str, entry: _Entry | None, source: str, line: int, detail: str
    ) -> None:
        stream = entry.seal.stream if entry is not None else None
        seq = entry.seal.seq if entry is not None else None
        self.report.problems.append(Problem(kind, source, line, stream, seq, detail))

    def feed(self, text: str, source: str, line: int) -> None:
        text = text.rstrip("\r\n")
        if not text.strip():
            return  # blank lines (a trailing newline) carry nothing
        self.report.lines += 1
        try:
            body, seal = split_sealed(text)
        except ValueError:
            self._problem(
                MALFORMED, None, source, line, "no valid integrity member (unsealed or edited)"
            )
            return
        entry = _Entry(seal, source, line, valid=False)
        key = self.keys.get(seal.key_id)
        if key is None:
            self._problem(
                UNKNOWN_KEY, entry, source, line, f"no key given for key_id {seal.key_id!r}"
            )
        else:
            expected = compute_hmac(key, body, seal.stream, seal.seq, seal.key_id, seal.prev)
            entry.valid = hmac.compare_digest(expected, seal.hmac)
            if not entry.valid:
                self._problem(
                    BAD_HMAC, entry, source, line, "HMAC mismatch: line edited (or wrong key)"
                )
        self._position(entry)

    def _position(self, entry: _Entry) -> None:
        """Order check in file order: a seq below the highest seen so far is out of place."""
        stream = self._streams.setdefault(entry.seal.stream, _Stream())
        stream.entries.append(entry)
        if stream.max_at is not None and entry.seal.seq < stream.max_seq:
            later = stream.max_at
            self._problem(
                REORDERED,
                entry,
                entry.source,
                entry.line,
                f"appears after seq {later.seal.seq} ({later.source}:{later.line})",
            )
        elif stream.max_at is None or entry.seal.seq > stream.max_seq:
            stream.max_seq, stream.max_at = entry.seal.seq, entry

    def finish(self) -> Report:
        for name, stream in self._streams.items():
            self._check_stream(name, stream)
        return self.report

    def _check_stream(self, name: str, stream: _Stream) -> None:
        by_seq: dict[int, _Entry] = {}
        for entry in stream.entries:
            first = by_seq.get(entry.seal.seq)
            if first is None:
                by_seq[entry.seal.seq] = entry
            elif entry.seal == first.seal:
                self._problem(
                    DUPLICATE,
                    entry,
                    entry.source,
                    entry.line,
                    f"same line as {first.source}:{first.line}",
                )
            else:
                self._problem(
                    CONFLICT,
                    entry,
                    entry.source,
                    entry.line,
                    f"another line with this seq at {first.source}:{first.line}",
                )
        seqs = sorted(by_seq)
        head = by_seq[seqs[0]]
        if seqs[0] > 1 and not self.allow_partial:
            self._problem(
                MISSING_HEAD,
                head,
                head.source,
                head.line,
                f"stream starts at seq {seqs[0]}: seq 1-{seqs[0] - 1} missing "
                "(deleted, or in a file not given)",
            )
        if seqs[0] == 1 and head.valid and head.seal.prev:
            self._problem(BAD_LINK, head, head.source, head.line, "seq 1 must have an empty prev")
        for before_seq, after_seq in itertools.pairwise(seqs):
            before, after = by_seq[before_seq], by_seq[after_seq]
            if after_seq > before_seq + 1:
                gap = after_seq - before_seq - 1
                span = (
                    f"seq {before_seq + 1}" if gap == 1 else f"seq {before_seq + 1}-{after_seq - 1}"
                )
                self._problem(
                    MISSING,
                    after,
                    after.source,
                    after.line,
                    f"{span} missing ({gap} line{'s' if gap > 1 else ''} deleted) after "
                    f"seq {before_seq} ({before.source}:{before.line})",
                )
            elif before.valid and after.valid and after.seal.prev != before.seal.hmac:
                self._problem(
                    BAD_LINK,
                    after,
                    after.source,
                    after.line,
                    f"prev is not the HMAC of seq {before_seq} ({before.source}:{before.line})",
                )
        key_ids = tuple(dict.fromkeys(entry.seal.key_id for entry in stream.entries))
        self.report.streams[name] = StreamSummary(
            name, seqs[0], seqs[-1], len(stream.entries), key_ids
        )


def verify_lines(
    lines: Iterable[str],
    keys: Mapping[str, bytes],
    *,
    source: str = "<lines>",
    allow_partial: bool = False,
) -> Report:
    """Verify sealed lines (one source); line numbers count from 1."""
    verifier = Verifier(keys, allow_partial=allow_partial)
    for number, text in enumerate(lines, 1):
        verifier.feed(text, source, number)
    return verifier.finish()


# --- the CLI -------------------------------------------------------------------------


class UsageError(Exception):
    pass


def _split_spec(spec: str) -> tuple[str, str]:
    """`[KEY_ID=]VALUE` -> (key_id, value)."""
    key_id, sep, value = spec.partition("=")
    if not sep:
        return DEFAULT_KEY_ID, spec
    if not INTEGRITY_KEY_ID_RE.fullmatch(key_id):
        raise UsageError(f"invalid key id {key_id!r} in {spec!r}")
    return key_id, value


# Users paste the key itself after --key-env: nothing about a --key-env argument is
# ever echoed (its key id, name or value), only its position.
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_spec(spec: str, where: str) -> tuple[str, str]:
    key_id, sep, name = spec.partition("=")
    if not sep:
        key_id, name = DEFAULT_KEY_ID, spec
    elif not INTEGRITY_KEY_ID_RE.fullmatch(key_id):
        raise UsageError(f"invalid key id in {where} (expected [KEY_ID=]VAR; not shown)")
    if not _ENV_NAME_RE.fullmatch(name):
        raise UsageError(
            f"the environment variable named by {where} is not a valid variable name "
            "(give the variable's name, not the key; the argument is not shown)"
        )
    return key_id, name


def _load_keys(key_envs: Sequence[str], key_files: Sequence[str]) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}

    def add(key_id: str, secret: bytes, origin: str) -> None:
        if key_id in keys:
            raise UsageError(f"key id {key_id!r} given twice")
        if not secret:
            raise UsageError(f"{origin} is empty")
        keys[key_id] = secret

    for position, spec in enumerate(key_envs, 1):
        where = f"--key-env #{position}" if len(key_envs) > 1 else "--key-env"
        key_id, name = _env_spec(spec, where)
        raw = os.environ.get(name)
        if raw is None:
            raise UsageError(f"the environment variable named by {where} is not set")
        if key_id in keys:
            raise UsageError(f"the key id of {where} is given twice")
        add(
            key_id,
            raw.encode("utf-8", "surrogateescape"),
            f"the environment variable named by {where}",
        )
    for spec in key_files:
        key_id, path = _split_spec(spec)
        try:
            with open(path, "rb") as handle:
                secret = handle.read()
        except OSError as exc:
            raise UsageError(f"cannot read key file {path!r}: {exc.strerror}") from exc
        # A key file written by `echo` or an editor ends in a newline that is not key.
        add(key_id, secret.rstrip(b"\r\n"), f"key file {path!r}")
    if not keys:
        raise UsageError("give the key with --key-env VAR or --key-file PATH")
    return keys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sec-audit verify",
        description="Check the integrity chains of sealed sec-audit JSONL files.",
        epilog="Exit status: 0 intact, 1 broken, 2 usage error. Give rotated files oldest first.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSONL files ('-' = stdin)")
    parser.add_argument(
        "--key-env",
        action="append",
        default=[],
        metavar="[KEY_ID=]VAR",
        help="read a key from an environment variable (key id defaults to k1); repeatable",
    )
    parser.add_argument(
        "--key-file",
        action="append",
        default=[],
        metavar="[KEY_ID=]PATH",
        help="read a key from a file (one trailing newline ignored); repeatable",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="accept streams that start after seq 1 (older files not given)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    return parser


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _feed_file(verifier: Verifier, path: str, stdin: TextIO) -> None:
    if path == "-":
        for number, text in enumerate(stdin, 1):
            verifier.feed(text, "<stdin>", number)
        return
    # newline="" keeps a stray "\r" inside a line visible to the HMAC check.
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        for number, text in enumerate(handle, 1):
            verifier.feed(text, path, number)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    out = stdout if stdout is not None else sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        verifier = Verifier(
            _load_keys(args.key_env, args.key_file), allow_partial=args.allow_partial
        )
        for path in args.files:
            try:
                _feed_file(verifier, path, sys.stdin)
            except OSError as exc:
                raise UsageError(f"cannot read {path!r}: {exc.strerror}") from exc
    except UsageError as exc:
        print(f"sec-audit verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = verifier.finish()
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        print(problem, file=out)
    hidden = len(report.problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        print(f"... and {hidden} more problems", file=out)
    if not args.quiet:
        for summary in report.streams.values():
            print(
                f"stream {summary.stream}: seq {summary.first_seq}-{summary.last_seq}, "
                f"{summary.lines} lines, key {', '.join(summary.key_ids)}",
                file=out,
            )
        status = "intact" if report.ok else f"BROKEN ({_plural(len(report.problems), 'problem')})"
        counts = f"{_plural(report.lines, 'line')} in {_plural(len(report.streams), 'stream')}"
        print(f"{counts}: {status}", file=out)
    return EXIT_OK if report.ok else EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
