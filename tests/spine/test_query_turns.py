"""The attack matrix (ADR 0045, round 18): one operator's waiting queries against another operator's single query.
A real spine, its store process and sidecar; two operators, two real accounts: the test's (uid 0) and ``nobody``'s
(through ``setpriv``), each authenticated by the kernel on the spine's unix socket (``SO_PEERCRED``).

On the code before (round 17), operator queries waited for the operators' threads in arrival order, at most
``MAX_QUERIES_WAITING`` of them: the first operator holding all 64 made the second's query be refused
(RESOURCE_EXHAUSTED); holding fewer, it made it wait behind every one of its own. Now the calls wait per operator and
a free thread goes to the next operator in turn; a full pool sets aside the newest waiting call of the operator
holding most to let in one holding fewer (``ben.core.operator_pool``). ``Control.VerifyAudit`` ran on the spine's
default pool, beside the WAL appends, unbounded; now it waits on the operators' threads and counts in their bound.
"""

from __future__ import annotations

import os
import subprocess

import grpc

from ben.cli.procs import Cluster, wait_for
from ben.core.admin import MAX_QUERIES_WAITING, ORIGIN_METADATA, QUERY_THREADS
from ben.core.peers import operator_metadata
from ben.core.transport import CHANNEL_OPTIONS, MAX_STREAMS_PER_CONNECTION
from ben.core.transport import channel as open_channel
from ben.v1 import admin_pb2 as pb
from ben.v1 import admin_pb2_grpc as pb_grpc
from ben.v1 import control_pb2 as pb_control_messages
from ben.v1 import control_pb2_grpc as pb_control
from tests.sidecar.stranger import AS_NOBODY, nobody_env

#: Runs until cancelled: the queries after it wait for the store's query channel, their threads with them.
LONG = "SELECT sum(cityHash64(number)) FROM numbers(100000000000000)"
#: The first operator's other queries: each holds the store a while once it runs.
SLOW = "SELECT sleep(2)"

#: The second operator's one query, as ``nobody``: "served" or "refused <code> <details>".
SECOND = r"""
import sys
import grpc
from ben.core.peers import operator_metadata
from ben.core.transport import channel
from ben.v1 import admin_pb2 as pb, admin_pb2_grpc as pb_grpc
address = sys.argv[1]
with channel(address) as ch:
    try:
        reply = pb_grpc.AdminStub(ch).Query(pb.QueryRequest(sql="SELECT 'second' AS who"), timeout=300,
                                            metadata=operator_metadata(address))
        print("served" if b"second" in reply.json else "answered " + reply.json.decode()[:200], flush=True)
    except grpc.RpcError as exc:
        print("refused", exc.code().name, exc.details(), flush=True)
"""


def test_an_operator_s_query_is_served_in_turn_beside_another_operator_s_sixty_four(home) -> None:
    os.chmod(home, 0o755)  # nobody reaches the spine's sockets
    cluster = Cluster(home, spine={"socket_mode": "0666"}, store={"query_timeout_s": 600})
    with cluster.config.open("a") as config:  # two operators, each an account of this host
        config.write('[[spine.operators]]\nname = "first"\nuids = [0]\n'
                     '[[spine.operators]]\nname = "second"\nuids = [65534]\n')
    calls, second = [], None
    channels = [open_channel(cluster.spine_addr, [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)])
                for _ in range(-(-MAX_QUERIES_WAITING // MAX_STREAMS_PER_CONNECTION) + 1)]
    try:
        cluster.start()

        def query(sql: str):
            metadata = [*operator_metadata(cluster.spine_addr), (ORIGIN_METADATA, "cli")]  # a token a call
            return pb_grpc.AdminStub(channels[len(calls) // MAX_STREAMS_PER_CONNECTION]).Query.future(
                pb.QueryRequest(sql=sql), timeout=600, metadata=metadata)

        # the first operator: a query that holds the store, and the pool's whole bound behind it
        calls.append(query(LONG))
        wait_for(lambda: cluster.status("spine").get("queries_running", 0) == 1, 60, "the long query running")
        while len(calls) < MAX_QUERIES_WAITING:
            calls.append(query(SLOW))
        wait_for(lambda: cluster.status("spine").get("queries_running", 0) == MAX_QUERIES_WAITING, 60,
                 "the first operator's queries all in progress or waiting")
        # the audit's calls wait on the same threads (before: on the default pool the WAL appends share, unbounded)
        try:
            pb_control.ControlStub(channels[-1]).VerifyAudit(
                pb_control_messages.AuditRequest(), timeout=60, metadata=operator_metadata(cluster.spine_addr))
            raise AssertionError("VerifyAudit was served beside the operator's 64 queries, off the operators' threads")
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "MAX_QUERIES_WAITING" in exc.details(), exc
        # the second operator's one query: let in (the first's newest waiting one set aside), not refused
        second = subprocess.Popen([*AS_NOBODY, SECOND, cluster.spine_addr], stdout=subprocess.PIPE, text=True,
                                  env=nobody_env(), cwd="/")
        wait_for(lambda: cluster.status("spine").get("operator_calls_set_aside_total", 0) == 1 or
                 second.poll() is not None, 120, "the second operator's query let in")
        if second.poll() is not None:  # answered before the store was free: refused (the code before)
            said = second.stdout.readline().strip()
            assert said == "served", said
        set_aside = calls[-1]
        wait_for(set_aside.done, 60, "the first operator's newest query set aside")
        try:
            set_aside.result()
            raise AssertionError("the first operator's newest query was served, not set aside")
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "set aside" in exc.details(), exc
        calls[0].cancel()  # the store free again: the waiting queries run, the operators in turn
        said = second.stdout.readline().strip()
        done_first = sum(call.done() for call in calls[1:-1])
        assert said == "served", said
        # in turn: the second's query ran once the threads freed, not behind the first's sixty (before: refused)
        assert done_first <= 2 * QUERY_THREADS, f"{done_first} of the first operator's queries ran before it"
    finally:
        for call in calls:
            call.cancel()
        if second is not None:
            second.communicate(timeout=60)
        for channel in channels:
            channel.close()
        cluster.stop()
