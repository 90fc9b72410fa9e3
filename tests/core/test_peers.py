"""Operators and the auth socket (ADR 0034): uid from the kernel, single-use tokens."""

from __future__ import annotations

import asyncio
import os
import pwd

import pytest

from ben.core import peers
from ben.core.config import OperatorConfig
from ben.core.errors import ConfigError, TransportError
from ben.core.peers import Operator, TokenIssuer, operator_metadata, operators_from_config


def test_default_operator_is_the_process_user_by_uid_only() -> None:
    (op,) = operators_from_config([])
    assert op == Operator(pwd.getpwuid(os.geteuid()).pw_name, (os.geteuid(),), "")
    alice = operators_from_config([OperatorConfig(name="alice", uids=[1000])])
    assert alice == [Operator("alice", (1000,), "alice")]   # her certificate's name defaults to hers


@pytest.mark.parametrize("second", [dict(name="a"), dict(name="b", uids=[7]), dict(name="b", cert="a")])
def test_an_identity_of_two_operators_is_refused(second) -> None:
    with pytest.raises(ConfigError, match="more than one operator") as refused:
        operators_from_config([OperatorConfig(name="a", uids=[7]), OperatorConfig(**second)])
    assert refused.value.field == "spine.operators"


def test_tokens_are_issued_by_uid_and_redeemed_once(tmp_path, monkeypatch) -> None:
    async def run(operators) -> tuple:
        issuer = TokenIssuer(operators)
        await issuer.start(f"unix://{tmp_path / 'spine.sock'}")
        try:
            got = await asyncio.to_thread(operator_metadata, f"unix://{tmp_path / 'spine.sock'}")
        except TransportError as exc:
            got = exc
        try:
            if isinstance(got, list):
                token = dict(got)[peers.TOKEN_METADATA]
                return got, issuer.redeem(token), issuer.redeem(token), issuer.redeem("forged")
            return got, issuer.refused
        finally:
            await issuer.shutdown()

    got, first, second, forged = asyncio.run(run([Operator("me", (os.geteuid(),))]))
    assert first == "me" and second is None and forged is None
    refused, count = asyncio.run(run([Operator("other", (os.geteuid() + 4242,))]))
    assert isinstance(refused, TransportError) and "not an operator" in str(refused) and count == 1
    assert not (tmp_path / "spine.sock.auth").exists()
    # A token past its time is worth nothing.
    monkeypatch.setattr(peers, "TOKEN_TTL_S", -1.0)
    _, late, _, _ = asyncio.run(run([Operator("me", (os.geteuid(),))]))
    assert late is None
