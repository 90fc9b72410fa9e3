"""The pipelined publisher keeps every summary in the outbox until its PubAck and every earlier one's
(real RocksDB outbox; a stand-in JetStream whose PubAcks the test gives, in any order)."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace

from ben.core.config import FederationConfig
from ben.federation import Federation, link
from ben.federation.outbox import Outbox
from ben.federation.policy import Policy


class HeldAcks:
    """publish_async returns a future the test resolves; what was published, in order."""

    def __init__(self):
        self.futures: list[asyncio.Future] = []
        self.ids: list[str] = []

    async def publish_async(self, subject, payload, headers=None):
        self.ids.append(headers["Nats-Msg-Id"])
        fut = asyncio.get_running_loop().create_future()
        self.futures.append(fut)
        return fut

    def ack(self, lo: int, hi: int) -> None:
        for f in self.futures[lo:hi]:
            if not f.done():
                f.set_result(SimpleNamespace(duplicate=False))


def _payload(i: int) -> bytes:
    return json.dumps({"summary": {"id": f"s-{i:06d}", "body": {"change": "opened"}}}).encode()


async def _until(check, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_outbox_forgets_only_what_was_pubacked_in_order(tmp_path) -> None:
    total, chunk, window = 3000, link.PUBLISH_CHUNK, link.PUBLISH_IN_FLIGHT
    fed = Federation(FederationConfig(cluster="east"), tmp_path, store=None)
    fed.outbox = Outbox(tmp_path / "outbox", store=None, policy=Policy(key=b"k" * 32), signer=None, cluster="east")
    fed.outbox.wal.append([_payload(i) for i in range(total)])
    fed._stop = asyncio.Event()
    js = HeldAcks()

    async def scenario() -> None:
        drain = asyncio.create_task(fed._drain(js))
        await _until(lambda: len(js.futures) >= window, "the window to fill")
        await asyncio.sleep(0.2)
        assert len(js.futures) < window + chunk  # bounded: it waits for PubAcks now
        assert fed.outbox.depth == total  # nothing PubAcked: nothing forgotten
        js.ack(chunk, 3 * chunk)  # the second and third chunks, not the first
        await asyncio.sleep(0.2)
        assert fed.outbox.depth == total  # an earlier summary still awaits its PubAck
        js.ack(0, chunk)
        await _until(lambda: fed.outbox.depth == total - 3 * chunk, "three chunks forgotten at once")
        while not drain.done():
            js.ack(0, len(js.futures))
            await asyncio.sleep(0.01)
        await drain
    asyncio.run(scenario())
    assert fed.outbox.depth == 0 and fed.published == total
    assert js.ids == [f"s-{i:06d}" for i in range(total)]  # each once, in order
    fed.outbox.close()


def test_a_missing_puback_keeps_everything_for_the_next_round(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(link, "PUBACK_TIMEOUT_S", 0.3)
    fed = Federation(FederationConfig(cluster="east"), tmp_path, store=None)
    fed.outbox = Outbox(tmp_path / "outbox", store=None, policy=Policy(key=b"k" * 32), signer=None, cluster="east")
    fed.outbox.wal.append([_payload(i) for i in range(600)])
    fed._stop = asyncio.Event()
    js = HeldAcks()

    async def scenario() -> None:
        try:
            await fed._drain(js)
        except asyncio.TimeoutError:
            return
        raise AssertionError("a PubAck that never comes must fail the round")
    asyncio.run(scenario())
    assert fed.outbox.depth == 600 and all(f.cancelled() for f in js.futures)
    fed.outbox.close()


class Msg:
    def __init__(self, data: bytes, seq: int, acks: list[int]):
        self.subject, self.data, self._acks = "ben.federation.east.opened", data, acks
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=seq), num_pending=0)

    async def ack(self) -> None:
        self._acks.append(self.metadata.sequence.stream)


class HeldInserts:
    """A store whose inserts wait until the test lets them return."""

    def __init__(self):
        import threading

        self.release = threading.Event()
        self.inserted: list[int] = []

    def query_json(self, sql: str) -> bytes:
        return b'{"data": []}'

    def insert_rows(self, target, table) -> None:
        self.release.wait(20)
        self.inserted.extend(table.column("stream_seq").to_pylist())


def test_consumer_acks_a_batch_only_after_its_insert(tmp_path) -> None:
    from ben.control.keys import generate
    from ben.federation.summary import seal

    key = generate(tmp_path / "keys", "east")
    acks: list[int] = []
    batches = [[Msg(seal(key, summary_id=f"s-{b}-{i}", cluster="east", body={"change": "opened"}), b * 10 + i, acks)
                for i in range(10)] for b in range(3)]
    fetched = []

    class Sub:
        async def fetch(self, batch, timeout):
            if len(fetched) < len(batches):
                fetched.append(len(fetched))
                return batches[len(fetched) - 1]
            await asyncio.sleep(timeout)
            raise asyncio.TimeoutError

        async def consumer_info(self):
            return SimpleNamespace(num_pending=0)

    class Js:
        async def add_stream(self, config):
            return None

        async def pull_subscribe(self, *args, **kwargs):
            return Sub()

    store = HeldInserts()
    fed = Federation(FederationConfig(cluster="west", poll_interval_ms=20), tmp_path / "west", store)
    fed.trust = {"east": key.public}
    fed._stop = asyncio.Event()

    async def flush():
        return None
    fed._nc = SimpleNamespace(flush=flush)

    async def scenario() -> None:
        task = asyncio.create_task(fed._consumer(Js()))
        await _until(lambda: len(fetched) >= 2, "the second batch fetched while the first is being inserted")
        await asyncio.sleep(0.2)
        assert acks == [] and store.inserted == []  # nothing acked before its insert returned
        store.release.set()
        await _until(lambda: len(acks) == 30, "every message acked after its insert")
        fed._stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    asyncio.run(scenario())
    assert store.inserted == sorted(store.inserted) and len(store.inserted) == 30 and fed.received == 30
    assert acks == list(range(30))
