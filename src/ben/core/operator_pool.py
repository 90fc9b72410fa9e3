"""Operators' slow calls on threads of their own, served in turn per operator (ADR 0045, rounds 17 and 18).

Round 17 gave operator queries threads of their own (``ben.core.admin.QUERY_THREADS``) and a bound (at most
``MAX_QUERIES_WAITING`` in progress or waiting), because on the default pool they held the threads the spine's WAL
appends share. Two things were left: the pool served in arrival order, so one operator's 64 waiting queries made
another's single query wait behind all of them or be refused; and the spine's ``Control.VerifyAudit`` and
``AuditEntries`` (an operator's; a whole chain verified in a thread) still ran on the default pool.

``OperatorPool`` is that pool, for both:

- at most ``threads`` calls run at once (a slot is given back only when its thread is done: a cancelled call whose
  thread still waits on the store keeps its slot, so nothing queues in the executor behind it);
- the calls waiting for a slot wait per operator (``ben.core.peers.CALLER``), and a free slot goes to the next
  operator in turn (round robin), so an operator's call waits for at most one call of each other operator;
- at most ``limit`` calls in progress or waiting at once. Past it a call is refused (``PoolFull``), unless the
  operator holding most holds two or more than its caller: then that operator's newest *waiting* call is refused
  instead (it never started; its client is told to retry) and this one waits in its place, as the accepting gate
  makes room for an account holding fewer (``ben.otlp.gate``). An operator alone still gets all ``limit``;
- a call runs in a copy of its caller's context (``CALLER`` is a context variable, which the audit log reads:
  ``run_in_executor`` alone does not carry it, round 17's defect).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ben.core.peers import CALLER


class PoolFull(Exception):
    """A call refused (or set aside while waiting): too many operator calls in progress or waiting."""


class _Call:
    def __init__(self, caller: str, future: asyncio.Future):
        self.caller, self.future, self.counted = caller, future, True


class OperatorPool:
    """``await pool.run(fn, *args)``: ``fn(*args)`` in a thread of the pool, in the caller's context."""

    def __init__(self, threads: int, limit: int, name: str, field: str):
        """``field`` names the bound in the refusals (a constant's name: ``ben.core.admin.MAX_QUERIES_WAITING``)."""
        self.threads, self.limit, self.name, self.field = threads, limit, name, field
        self.held: Counter[str] = Counter()  # caller -> calls in progress or waiting
        self.refused = self.set_aside = 0
        self._busy = 0
        self._waiting: dict[str, deque[_Call]] = {}  # caller -> its calls waiting for a thread, oldest first
        self._turn: deque[str] = deque()  # callers with calls waiting, the next to be served first
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        caller = CALLER.get() or "?"
        if not self._admit(caller):
            self.refused += 1
            raise PoolFull(f"{self.limit} operator calls are in progress or waiting already "
                           f"({self.field}), {self.held[caller]} of them this operator's: retry when one ends")
        loop = asyncio.get_running_loop()
        call = _Call(caller, loop.create_future())
        self.held[caller] += 1
        try:
            await self._wait(call)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix=self.name)
            done = self._executor.submit(contextvars.copy_context().run, fn, *args)
            # the slot is the thread's until it is done, whether or not this call still waits for it
            done.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
            return await asyncio.wrap_future(done)
        finally:
            if call.counted:
                self._uncount(call)

    def _admit(self, caller: str) -> bool:
        if sum(self.held.values()) < self.limit:
            return True
        most, count = max(self.held.items(), key=lambda kv: kv[1])
        if count - self.held[caller] < 2:
            return False
        queue = self._waiting.get(most) or ()
        victim = next((c for c in reversed(queue) if not c.future.done()), None)
        if victim is None:  # every call of it runs already: nothing to set aside
            return False
        self.set_aside += 1
        self._uncount(victim)
        victim.future.set_exception(PoolFull(
            f"this call waited for one of the operators' threads and was set aside to let in another operator's: "
            f"{self.limit} operator calls were in progress or waiting ({self.field}), the most of them this "
            "operator's: retry when one ends"))
        return True

    async def _wait(self, call: _Call) -> None:
        if call.caller not in self._waiting:
            self._waiting[call.caller] = deque()
            self._turn.append(call.caller)
        self._waiting[call.caller].append(call)
        self._dispatch()  # a slot may be free (the calls in turn before it were cancelled)
        try:
            await call.future
        except asyncio.CancelledError:
            if call.future.done() and not call.future.cancelled() and call.future.exception() is None:
                self._release()  # given a slot as it was cancelled: give it to the next
            raise

    def _release(self) -> None:
        self._busy -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Free slots to the callers in turn, one call each."""
        while self._busy < self.threads and self._turn:
            caller = self._turn.popleft()
            queue = self._waiting[caller]
            while queue and queue[0].future.done():  # cancelled or set aside while waiting
                queue.popleft()
            if not queue:
                del self._waiting[caller]
                continue
            call = queue.popleft()
            if queue:
                self._turn.append(caller)
            else:
                del self._waiting[caller]
            self._busy += 1
            call.future.set_result(None)

    def _uncount(self, call: _Call) -> None:
        call.counted = False
        self.held[call.caller] -= 1
        if self.held[call.caller] <= 0:
            del self.held[call.caller]

    def close(self) -> None:
        """Calls waiting are dropped (their calls were cancelled), those running not waited for."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
