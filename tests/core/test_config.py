from __future__ import annotations

import os
from pathlib import Path

import pytest

from ben.core.config import load_config, parse_config
from ben.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ben.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BEN_HOME", str(tmp_path))
    cfg = load_config(None)
    assert cfg.spine.data_dir == tmp_path / "spine"
    assert cfg.sidecar.spine == cfg.spine.listen == f"unix://{tmp_path / 'spine.sock'}"
    assert cfg.spine.store_path == tmp_path / "spine" / "chdb"


def test_unknown_field_names_field_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[spine]\nlisten_adress = \"127.0.0.1:7000\"\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert "spine.listen_adress" in str(err.value)
    assert "unknown field" in str(err.value)


def test_wrong_type_names_field(tmp_path: Path) -> None:
    path = write(tmp_path, "[sidecar]\nship_window_records = \"many\"\n")
    with pytest.raises(ConfigError, match=r"sidecar\.ship_window_records"):
        load_config(path)


def test_out_of_range_names_field(tmp_path: Path) -> None:
    path = write(tmp_path, "[spine.store]\ninsert_max_rows = 0\n")
    with pytest.raises(ConfigError, match=r"spine\.store\.insert_max_rows.*greater than or equal to 1"):
        load_config(path)


@pytest.mark.parametrize("address", ["nowhere", "unix://", "host:99999", "unix:///" + "x" * 120])
def test_bad_address_names_field(tmp_path: Path, address: str) -> None:
    path = write(tmp_path, f'[sidecar]\nspine = "{address}"\n')
    with pytest.raises(ConfigError, match=r"sidecar\.spine"):
        load_config(path)


def test_good_addresses() -> None:
    cfg = parse_config({"spine": {"listen": "127.0.0.1:7070"}, "sidecar": {"spine": "unix:rel.sock"}})
    assert cfg.spine.listen == "127.0.0.1:7070"
    assert cfg.sidecar.spine == "unix:rel.sock"


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[spine\nlisten = 1\n")
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_a_dangling_link_or_a_directory_given_as_the_config_says_which(tmp_path: Path) -> None:
    """"file not found" for a link whose target is gone; "cannot read: [Errno 21] Is a directory: 'x'"."""
    (tmp_path / "ben.toml").symlink_to(tmp_path / "gone.toml")
    with pytest.raises(ConfigError, match=r"file not found \(a symbolic link to .*gone.toml, which does not exist\)"):
        load_config(tmp_path / "ben.toml")
    (tmp_path / "conf.d").mkdir()
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "conf.d")
    assert str(err.value) == f"in {tmp_path / 'conf.d'}: a directory, not a file"


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[spine]\ndata_dir = "data/spine"\n[spine.store]\npath = "db"\n')
    cfg = load_config(path)
    assert cfg.spine.data_dir == tmp_path.resolve() / "data" / "spine"
    assert cfg.spine.store_path == tmp_path.resolve() / "db"


@pytest.mark.parametrize("store, field", [
    ('backend = "mysql"', "spine.store.backend"),
    ("port = 0", "spine.store.port"),
    ('host = "a b"', "spine.store.host"),
    ("retention_days = -1", "spine.store.retention_days"),
    ('password_env = "X"\npassword_file = "pw"', "spine.store"),
])
def test_bad_store_fields_are_named(tmp_path: Path, store: str, field: str) -> None:
    path = write(tmp_path, f"[spine.store]\n{store}\n")
    with pytest.raises(ConfigError, match=rf"{str(path)}.*'{field}'"):
        load_config(path)


def test_clickhouse_store_password_from_env_or_file(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, '[spine.store]\nbackend = "clickhouse"\nport = 9440\nsecure = true\n'
                           'password_env = "BEN_TEST_CH_PW"\n')
    store = load_config(path).spine.store
    assert (store.backend, store.port, store.secure) == ("clickhouse", 9440, True)
    with pytest.raises(ConfigError, match="BEN_TEST_CH_PW is not set"):
        store.password()
    monkeypatch.setenv("BEN_TEST_CH_PW", "s3cret")
    assert store.password() == "s3cret"
    (tmp_path / "pw").write_text("from-file\n")
    os.chmod(tmp_path / "pw", 0o600)  # a password file others may read is refused (ADR 0045)
    path = write(tmp_path, '[spine.store]\nbackend = "clickhouse"\npassword_file = "pw"\n')
    assert load_config(path).spine.store.password() == "from-file"  # relative to the config file


def test_relative_paths_of_every_table_are_taken_from_the_file(tmp_path) -> None:
    """spine and sidecar TLS, store, federation, control and OTLP files, the cortex's and the web's."""
    from ben.core.config import load_config

    cfg = tmp_path / "etc" / "ben.toml"
    cfg.parent.mkdir()
    cfg.write_text('[spine]\ndata_dir = "d"\n[spine.tls]\ncert = "s.pem"\nkey = "s.key"\nca = "ca.pem"\n'
                   '[spine.federation]\npolicy = "f.toml"\n[sidecar.tls]\ncert = "c.pem"\nkey = "c.key"\n'
                   'ca = "ca.pem"\n[sidecar.otlp]\ntls_cert_file = "o.pem"\ntls_key_file = "o.key"\n'
                   '[cortex]\nresponses = "r.toml"\n[web]\ntoken_file = "tok"\n[web.tls]\ncert = "w.pem"\nkey = "w.key"\n'
                   'ca = "ca.pem"\n')
    c = load_config(cfg)
    base = cfg.parent
    assert c.spine.data_dir == base / "d" and c.spine.federation.policy == base / "f.toml"
    assert (c.spine.tls.cert, c.sidecar.tls.ca) == (base / "s.pem", base / "ca.pem")
    assert c.sidecar.otlp.tls_key_file == base / "o.key"
    assert c.cortex.responses == base / "r.toml" and c.web.token_file == base / "tok"
    assert (c.web.tls.cert, c.web.tls.key, c.web.tls.ca) == (base / "w.pem", base / "w.key", base / "ca.pem")


@pytest.mark.parametrize("text,field,near", [
    ("[spine]\ndata_dirr = 'x'\n", "spine.data_dirr", "spine.data_dir"),
    ("[sidecar]\nshutdown_timeout = 5\n", "sidecar.shutdown_timeout", "sidecar.shutdown_timeout_ms"),
    ("[spine.store]\nretension_days = 3\n", "spine.store.retension_days", "spine.store.retention_days"),
    ("[spine.detect]\nbucket = 5\n", "spine.detect.bucket", "spine.detect.bucket_ms"),
    ("[[spine.operators]]\nname = 'a'\nuid = [1]\n", "spine.operators.0.uid", "spine.operators.0.uids"),
    ("[web.tls]\ncertt = 'x'\n", "web.tls.certt", "web.tls.cert"),
    ("[sidcar]\nid = 'x'\n", "sidcar", "sidecar"),
    ("[sidecar.otlp]\ngrpc_listn = ''\n", "sidecar.otlp.grpc_listn", "sidecar.otlp.grpc_listen"),
])
def test_an_unknown_key_names_the_nearest_valid_one(tmp_path: Path, text: str, field: str, near: str) -> None:
    path = tmp_path / "ben.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.field == field and f"did you mean {near!r}?" in str(err.value), str(err.value)


def test_an_unknown_key_with_nothing_near_says_to_check_it(tmp_path: Path) -> None:
    path = tmp_path / "ben.toml"
    path.write_text("[spine]\nzzzzzz = 1\n")
    with pytest.raises(ConfigError, match=r"'spine.zzzzzz': unknown field \(check its spelling"):
        load_config(path)


@pytest.mark.parametrize("text, field, there", [
    ("[spine]\nretention_days = 3\n", "spine.retention_days", "spine.store.retention_days"),
    ("[spine]\nbucket_ms = 250\n", "spine.bucket_ms", "spine.detect.bucket_ms"),
    ("[spine.store]\nlisten = 'unix:///tmp/s.sock'\n", "spine.store.listen", "spine.listen"),
    ("[sidecar]\ngrpc_listen = ''\n", "sidecar.grpc_listen", "sidecar.otlp.grpc_listen"),
])
def test_a_key_in_the_wrong_table_names_the_table_it_belongs_in(tmp_path: Path, text: str, field: str,
                                                                 there: str) -> None:
    """``retention_days`` under ``[spine]`` (the README shows it in ``[spine.store]``) was "unknown field (check
    its spelling and its [table])": the spelling was right, and the table was not named (ADR 0033)."""
    path = tmp_path / "ben.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    table = there.rpartition(".")[0]
    assert err.value.field == field and f"it belongs in [{table}] ({there!r})" in str(err.value), str(err.value)


def test_a_key_of_another_component_is_not_offered(tmp_path: Path) -> None:
    """``[web] port`` is not ``spine.store.port`` (the web's is ``listen_port``)."""
    path = tmp_path / "ben.toml"
    path.write_text("[web]\nport = 8000\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "spine.store" not in str(err.value) and err.value.field == "web.port", str(err.value)


@pytest.mark.parametrize("table, key", [("spine", "data_dir"), ("sidecar", "data_dir"), ("spine.store", "path"),
                                        ("sidecar", "redact_manifest"), ("web", "token_file")])
def test_an_empty_path_is_refused_not_the_configs_own_directory(tmp_path: Path, table: str, key: str) -> None:
    """``data_dir = ""`` was the config file's own directory: the spine made it its data directory, took
    group and other permissions off the files there and wrote its WAL beside them (ADR 0033)."""
    path = tmp_path / "ben.toml"
    path.write_text(f"[{table}]\n{key} = \" \"\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.field == f"{table}.{key}" and "an empty path" in str(err.value), str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ben.toml"]


@pytest.mark.parametrize("table, key, value", [("spine", "data_dir", "srv/ben\\n"), ("sidecar", "data_dir", "a\\tb"),
                                               ("spine.control", "trust", "trust\\u001b.toml")])
def test_a_path_with_a_control_character_is_refused(tmp_path: Path, table: str, key: str, value: str) -> None:
    """``data_dir = "srv/ben\\n"`` was taken: a data directory whose name ends in a newline, every log line naming
    a path under it broken in two (ADR 0033, round 8; as ``$BEN_HOME``)."""
    path = tmp_path / "ben.toml"
    path.write_text(f'[{table}]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.field == f"{table}.{key}" and "holds a control character" in str(err.value), str(err.value)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ben.toml"]


@pytest.mark.parametrize("body, field, words", [
    ('[sidecar.otlp]\ninsecure = "yes"\n', "sidecar.otlp.insecure", "must be true or false"),
    ('[sidecar.otlp]\ninsecure = "false"\n', "sidecar.otlp.insecure", "must be true or false"),
    ("[spine]\ninsecure = 1\n", "spine.insecure", "must be true or false"),
    ("[spine.detect]\nenabled = 0\n", "spine.detect.enabled", "must be true or false"),
    ("[spine]\nmax_connections = true\n", "spine.max_connections", "must be a number, not true or false"),
    ("[spine.store]\nretention_days = false\n", "spine.store.retention_days", "must be a number"),
])
def test_a_yes_no_option_takes_a_boolean_and_a_number_is_no_boolean(tmp_path: Path, body: str, field: str,
                                                                     words: str) -> None:
    """pydantic's lax reading took ``insecure = "yes"`` (and ``"false"``!) or ``1`` as true, so a typo
    turned TLS off; ``max_connections = true`` was 1 (ADR 0033)."""
    path = tmp_path / "ben.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.field == field and words in str(err.value), str(err.value)


def test_a_scalar_where_a_table_belongs_says_so(tmp_path: Path) -> None:
    path = tmp_path / "ben.toml"
    path.write_text("[spine]\nstore = 3\n")
    with pytest.raises(ConfigError, match=r"'spine.store': expected a table \[spine.store\], got 3"):
        load_config(path)


ROUND_4 = [  # the attack matrix's round 4 bounds (ADR 0045): a bad value names its field
    ({"sidecar": {"otlp": {"max_connections": 0}}}, "sidecar.otlp.max_connections"),
    ({"sidecar": {"otlp": {"max_connection_idle_s": 0}}}, "sidecar.otlp.max_connection_idle_s"),
    ({"sidecar": {"otlp": {"alert_rate_per_subsystem_per_s": -1}}}, "sidecar.otlp.alert_rate_per_subsystem_per_s"),
    ({"sidecar": {"otlp": {"alert_burst_per_subsystem": 0}}}, "sidecar.otlp.alert_burst_per_subsystem"),
    ({"spine": {"detect": {"max_series_per_peer": 0}}}, "spine.detect.max_series_per_peer"),
    ({"spine": {"control": {"query_log_max_entries": -1}}}, "spine.control.query_log_max_entries"),
    ({"spine": {"control": {"query_log_max_age_s": -1}}}, "spine.control.query_log_max_age_s"),
    ({"spine": {"store": {"query_system_tables": ["one", "disks; --"]}}}, "spine.store.query_system_tables"),
    ({"spine": {"max_connections": 0}}, "spine.max_connections"),  # round 5: the spine's listener
    ({"spine": {"max_connection_idle_s": -1}}, "spine.max_connection_idle_s"),
    ({"sidecar": {"max_senders_per_client": 0}}, "sidecar.max_senders_per_client"),  # round 15
    ({"sidecar": {"sender_idle_s": 1}}, "sidecar.sender_idle_s"),
    ({"sidecar": {"max_calls_per_client": 0}}, "sidecar.max_calls_per_client"),
    ({"spine": {"max_senders_per_client": 0}}, "spine.max_senders_per_client"),
    ({"spine": {"max_calls_per_client": 0}}, "spine.max_calls_per_client"),
    ({"spine": {"control": {"attach_refusals_audited": 0}}}, "spine.control.attach_refusals_audited"),
    ({"spine": {"control": {"attach_refusals_window_s": 0}}}, "spine.control.attach_refusals_window_s"),
]


@pytest.mark.parametrize("raw, field", ROUND_4, ids=[f for _, f in ROUND_4])
def test_round_4_bounds_name_their_field(raw: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert field in str(err.value), err.value


def test_round_4_defaults() -> None:
    cfg = parse_config({})
    assert cfg.sidecar.otlp.max_connections == 256 and cfg.spine.detect.max_series_per_peer == 25_000
    assert cfg.spine.max_connections == 10_000 and cfg.spine.max_connection_idle_s == 300.0
    assert cfg.spine.control.query_log_max_entries == 1_000_000 and "disks" not in cfg.spine.store.query_system_tables
    assert parse_config({"spine": {"store": {"query_system_tables": ["Tables"]}}}).spine.store.query_system_tables == [
        "tables"]


@pytest.mark.parametrize("text, field, words", [
    # a unit written where the key's name gives it: pydantic's "unable to parse string as an integer"
    ('[spine]\nshutdown_timeout_ms = "10s"\n', "spine.shutdown_timeout_ms", "a number of milliseconds, without a unit"),
    ('[spine.store]\nquery_timeout_s = "60s"\n', "spine.store.query_timeout_s", "a number of seconds, without a unit"),
    ('[sidecar]\nwal_max_bytes = "1 GiB"\n', "sidecar.wal_max_bytes", "a number of bytes, without a unit"),
    # a time past the platform's timeouts was taken: the spine stopped with OverflowError (a bug in ben)
    ("[spine]\nshutdown_timeout_ms = 99999999999999999\n", "spine.shutdown_timeout_ms", "at most a year"),
    ("[sidecar.control]\nhandler_timeout_ms = 99999999999999999\n", "sidecar.control.handler_timeout_ms",
     "at most a year"),
    # inf was taken as a window of detection
    ("[spine.detect]\ngroup_window_s = inf\n", "spine.detect.group_window_s", "finite time"),
])
def test_a_time_or_size_is_a_bounded_number_without_a_unit(tmp_path: Path, text: str, field: str, words: str) -> None:
    path = tmp_path / "ben.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert field in message and words in message and str(path) in message, message


def test_a_binary_config_says_where_it_stops_being_text(tmp_path: Path) -> None:
    """It was "cannot read: 'utf-8' codec can't decode byte 0xd0 in position 24: invalid continuation byte"."""
    path = tmp_path / "ben.toml"
    path.write_bytes(b"[spine]\nlisten = 'x'\n\xd0\xcf\x11\xe0\x00")
    with pytest.raises(ConfigError, match=r"not UTF-8 text at line 3 \(TOML is UTF-8; a binary file\?\)") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_slow_clients_are_cut_after_10_s_by_default_and_a_config_may_say_otherwise(tmp_path: Path) -> None:
    """The slowloris deadlines (tests/test_attack_matrix.py sets them short to wait less): 10 s unless set."""
    cfg = load_config(None)
    assert (cfg.web.header_timeout_s, cfg.sidecar.otlp.slow_client_timeout_s, cfg.spine.metrics_connection_timeout_s,
            cfg.sidecar.metrics_connection_timeout_s) == (10.0, 10.0, 10.0, 10.0)
    cfg = parse_config({"web": {"header_timeout_s": 2}, "sidecar": {"otlp": {"slow_client_timeout_s": 3}},
                        "spine": {"metrics_connection_timeout_s": 4}})
    assert (cfg.web.header_timeout_s, cfg.sidecar.otlp.slow_client_timeout_s,
            cfg.spine.metrics_connection_timeout_s) == (2.0, 3.0, 4.0)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[web]\nheader_timeout_s = 0\n"))
    assert "header_timeout_s" in str(err.value)
    # a request body on the web interface: 60 s after its headers (ADR 0045, round 8)
    assert load_config(None).web.body_timeout_s == 60.0 and parse_config({"web": {"body_timeout_s": 5}}).web.body_timeout_s == 5
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[web]\nbody_timeout_s = -1\n"))
    assert "body_timeout_s" in str(err.value)


def test_a_tls_client_that_is_no_certificate_name_is_named(tmp_path: Path) -> None:
    """``sidecar.tls_clients`` names certificates (ADR 0045, round 11): a name no certificate can hold is refused."""
    cfg = tmp_path / "ben.toml"
    cfg.write_text('[sidecar]\ntls_clients = ["alice", "a b"]\n')
    with pytest.raises(ConfigError, match=r"sidecar\.tls_clients.*'a b' is no certificate name"):
        load_config(cfg)
    cfg.write_text('[sidecar]\ntls_clients = ["alice", "ops@example"]\n')
    assert load_config(cfg).sidecar.tls_clients == ["alice", "ops@example"]
