"""The audit context: nesting, reset, and isolation across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading

import pytest

from sec_audit.core.context import (
    AuditContext,
    get_context,
    new_request_id,
    reset_context,
    set_context,
)


def test_no_context_by_default() -> None:
    assert get_context() is None


def test_fields_and_defaults() -> None:
    ctx = AuditContext("r1")
    assert dataclasses.astuple(ctx) == ("r1", None, None, None, None, None)
    full = AuditContext("r2", "s", "http://h/p", "/p", "10.0.0.1", "GET")
    assert (full.session_id, full.url, full.path, full.source_address, full.method) == (
        "s",
        "http://h/p",
        "/p",
        "10.0.0.1",
        "GET",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.path = "/x"  # type: ignore[misc]


def test_set_and_reset_restore_outer_contexts() -> None:
    outer, inner = AuditContext("outer"), AuditContext("inner")
    t1 = set_context(outer)
    try:
        assert get_context() is outer
        t2 = set_context(inner)
        assert get_context() is inner
        reset_context(t2)
        assert get_context() is outer
    finally:
        reset_context(t1)
    assert get_context() is None


def test_set_none_hides_outer_context() -> None:
    token = set_context(AuditContext("outer"))
    inner = set_context(None)
    assert get_context() is None
    reset_context(inner)
    assert get_context() == AuditContext("outer")
    reset_context(token)


def test_new_request_id_is_32_hex_and_unique() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_asyncio_tasks_are_isolated() -> None:
    async def request(name: str, started: asyncio.Event, other: asyncio.Event) -> tuple[str, str]:
        token = set_context(AuditContext(name))
        try:
            started.set()
            await other.wait()  # the other task has set its own context meanwhile
            seen = get_context()
            assert seen is not None
            return name, seen.request_id
        finally:
            reset_context(token)

    async def main() -> list[tuple[str, str]]:
        a, b = asyncio.Event(), asyncio.Event()
        results = await asyncio.gather(request("a", a, b), request("b", b, a))
        assert get_context() is None
        return list(results)

    assert asyncio.run(main()) == [("a", "a"), ("b", "b")]


def test_child_task_inherits_but_cannot_change_parent() -> None:
    async def child() -> str | None:
        seen = get_context()
        set_context(AuditContext("child"))  # only the task's copy changes
        return None if seen is None else seen.request_id

    async def main() -> tuple[str | None, str | None]:
        token = set_context(AuditContext("parent"))
        try:
            inherited = await asyncio.create_task(child())
            after = get_context()
            return inherited, None if after is None else after.request_id
        finally:
            reset_context(token)

    assert asyncio.run(main()) == ("parent", "parent")


def test_threads_do_not_see_each_others_context() -> None:
    seen: list[AuditContext | None] = []
    token = set_context(AuditContext("main"))
    try:
        thread = threading.Thread(target=lambda: seen.append(get_context()))
        thread.start()
        thread.join()
    finally:
        reset_context(token)
    assert seen == [None]
