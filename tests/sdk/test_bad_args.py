"""A developer misusing the SDK (ADR 0033): a wrong argument to Client or its lifecycle raises a ConfigError
naming it; an event after shutdown() is dropped, counted and said once. No sidecar needs to run."""

from __future__ import annotations

import logging
import math

import pytest

from ben.core.errors import BenError, ConfigError, InvalidEventError
from ben.sdk import Client
from ben.sdk.limits import check_level

NOWHERE = "unix:///tmp/ben-no-such-sidecar.sock"


@pytest.mark.parametrize("kwargs,field", [
    ({"sidecar": 123}, "sidecar"),
    ({"sidecar": b"unix:///tmp/x.sock"}, "sidecar"),
    ({"sidecar": "abc"}, "sidecar"),
    ({"strict": "yes"}, "strict"),
    ({"flush_interval_ms": -1}, "flush_interval_ms"),
    ({"max_buffer_events": math.nan}, "max_buffer_events"),
    ({"flush_interval_ms": math.inf}, "flush_interval_ms"),
    ({"max_batch_events": 2.5}, "max_batch_events"),
    ({"full_policy": "sometimes"}, "full_policy"),
])
def test_a_wrong_client_argument_is_named(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        Client("checkout-api", **{"sidecar": NOWHERE, **kwargs})
    assert err.value.field == field and isinstance(err.value, BenError), str(err.value)


@pytest.mark.parametrize("method", ["flush", "force_flush", "shutdown"])
@pytest.mark.parametrize("timeout", ["5", math.nan, [1], True])
def test_a_timeout_that_is_not_a_number_is_named(method: str, timeout) -> None:
    client = Client("checkout-api", sidecar=NOWHERE)
    try:
        with pytest.raises(ConfigError, match=rf"Client\.\w*{method.split('_')[-1]}\(\), field 'timeout'"):
            getattr(client, method)(timeout=timeout)
    finally:
        client.shutdown(timeout=0)


def test_a_negative_or_infinite_timeout_is_taken() -> None:
    client = Client("checkout-api", sidecar=NOWHERE)
    assert client.flush(timeout=-1) is True  # nothing emitted: nothing to wait for
    assert client.flush(timeout=math.inf) is True
    client.shutdown(timeout=0)


def test_an_event_after_shutdown_is_dropped_counted_and_said_once(caplog) -> None:
    client = Client("checkout-api", sidecar=NOWHERE)
    client.shutdown(timeout=0)
    with caplog.at_level(logging.WARNING, logger="ben.sdk"):
        assert client.gauge("latency_ms", 1.0) is None
        assert client.log("late") is None
    assert client.stats.dropped_closed == 2
    said = [r for r in caplog.records if "after Client.shutdown()" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("subsystem", ["x" * 257, "checkout\napi", "tab\there", "nul\x00"])
def test_a_subsystem_too_long_or_with_control_characters_is_named(subsystem: str) -> None:
    with pytest.raises(ConfigError) as err:  # was taken: it names every row, incident and command target
        Client(subsystem, sidecar=NOWHERE)
    assert err.value.field == "subsystem" and "printable" in str(err.value)


def test_a_handler_registered_after_shutdown_is_refused() -> None:
    client = Client("checkout-api", sidecar=NOWHERE)
    client.shutdown(timeout=0)
    with pytest.raises(ConfigError, match=r"on_command\(\).*'throttle_job' registered after Client.shutdown\(\)"):
        client.on_command("throttle_job", lambda cmd: None)  # was taken in silence: it would never run


def test_an_int_timeout_past_a_float_is_taken() -> None:
    client = Client("checkout-api", sidecar=NOWHERE)
    assert client.flush(timeout=10**400) is True  # was OverflowError: int too large to convert to float
    assert client.force_flush(timeout=-10**400) is True
    assert client.shutdown(timeout=10**400) is True


@pytest.mark.parametrize("level", ["wran", "", "information", None, 3, "warn\n2"])
def test_an_unknown_log_level_is_refused_naming_it(level) -> None:
    """A level is the log's series name: a typo became a series of its own. Now it is refused (raised with
    strict) naming the argument and the levels accepted."""
    client = Client("checkout-api", sidecar=NOWHERE, strict=True)
    try:
        with pytest.raises(InvalidEventError, match=r"argument 'level': unknown log level .*expected one of trace, "
                                                    r"debug, info, warn, warning, error, critical, fatal"):
            client.log("payment retried", level=level)
    finally:
        client.shutdown(timeout=0)
    lenient = Client("checkout-api", sidecar=NOWHERE)
    try:
        assert lenient.log("payment retried", level=level) is None
        assert lenient.stats.invalid_by_field["level"] == 1
    finally:
        lenient.shutdown(timeout=0)


@pytest.mark.parametrize("level,stored", [("warn", "warn"), ("WARNING", "warning"), ("Error", "error"),
                                          ("info", "info"), ("FATAL", "fatal"), ("critical", "critical"),
                                          ("debug", "debug"), ("trace", "trace")])
def test_every_documented_log_level_is_taken_in_any_case(level: str, stored: str) -> None:
    client = Client("checkout-api", sidecar=NOWHERE, strict=True)
    try:
        assert client.log("payment retried", level=level) is not None
        assert client.stats.invalid == 0
        assert check_level(level) == stored  # the series name: lower case, as the OTLP receiver stores it
    finally:
        client.shutdown(timeout=0)


def test_a_flush_that_fails_says_why_once(caplog) -> None:
    """``flush()`` with no sidecar answered a bare False: a notebook's user learnt nothing of the socket nobody
    listens on until ``shutdown()`` (ADR 0033, round 7). Said once per reason; a poll (timeout 0) says nothing."""
    client = Client("checkout-api", sidecar=NOWHERE)
    try:
        assert client.gauge("latency_ms", 1.0) == 1
        with caplog.at_level(logging.WARNING, logger="ben.sdk"):
            assert client.flush(timeout=0) is False
            assert client.flush(timeout=0.5) is False
            assert client.flush(timeout=0.5) is False
        said = [r.getMessage() for r in caplog.records if "flush:" in r.getMessage()]
        assert len(said) == 1 and "1 events not acknowledged" in said[0] and "within 0.5 s" in said[0], said
        assert client.last_error in said[0] or "slow to answer" in said[0]
    finally:
        client.shutdown(timeout=0)


@pytest.mark.parametrize("field", ["host", "instance"])
@pytest.mark.parametrize("value", ["web\n01", "tab\there", "esc\x1b[31m", "x" * 257])
def test_a_host_or_instance_with_control_characters_is_named(field: str, value: str) -> None:
    """Taken as given (the subsystem was refused): the receiver then stored them with U+FFFD and counted the
    request as unprintable (ADR 0033, round 7)."""
    with pytest.raises(ConfigError) as err:
        Client("checkout-api", sidecar=NOWHERE, **{field: value})
    assert err.value.field == field and "printable" in str(err.value)
    Client("checkout-api", sidecar=NOWHERE, **{field: "web-01 é"}).shutdown(timeout=0)  # letters and spaces stay


@pytest.mark.parametrize("increment", ["1", None, b"1", True, 10**400],
                         ids=["str", "None", "bytes", "bool", "int-past-a-float"])
def test_a_counter_s_increment_that_is_no_number_names_increment(increment) -> None:
    """``counter("x", "1")`` said "argument 'value': ...": ``counter`` has no argument ``value`` (a negative or
    NaN increment already said 'increment')."""
    client = Client("bad-args-counter", sidecar=NOWHERE)
    strict = Client("bad-args-counter", sidecar=NOWHERE, strict=True)
    try:
        assert client.counter("requests", increment) is None
        assert client.stats.invalid_by_field == {"increment": 1}
        with pytest.raises(InvalidEventError) as caught:
            strict.counter("requests", increment)
        assert caught.value.field == "increment" and str(caught.value).startswith("argument 'increment': "), caught
    finally:
        client.shutdown(timeout=0)
        strict.shutdown(timeout=0)


def test_a_ben_home_with_a_newline_is_named_by_the_client(monkeypatch) -> None:
    """The SDK's default socket is under ``$BEN_HOME``: a newline in it is a ConfigError naming the variable
    (was taken: the client waited on a socket path no sidecar listens at)."""
    monkeypatch.setenv("BEN_HOME", "/tmp/a\nb")
    monkeypatch.delenv("BEN_SIDECAR_SOCKET", raising=False)
    with pytest.raises(ConfigError) as caught:
        Client("checkout-api")
    assert caught.value.field == "$BEN_HOME" and "control character" in str(caught.value)
