"""`ben certs` (ADR 0034): a CA, server and client certificates, keys 0600."""

from __future__ import annotations

import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from ben.cli import app
from ben.core.certs import init_ca, issue
from ben.core.errors import ConfigError


def test_ben_certs_makes_a_ca_and_certificates(tmp_path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["certs", "init", "--dir", str(tmp_path)]).exit_code == 0
    out = runner.invoke(app, ["certs", "issue", "spine", "--server", "--host", "spine.example", "--dir", str(tmp_path)])
    assert out.exit_code == 0 and "[spine.tls]" in out.output
    assert runner.invoke(app, ["certs", "issue", "sc-1", "--dir", str(tmp_path)]).exit_code == 0
    for name in ("ca", "spine", "sc-1"):
        assert stat.S_IMODE((tmp_path / f"{name}.key").stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())
    spine = x509.load_pem_x509_certificate((tmp_path / "spine.crt").read_bytes())
    client = x509.load_pem_x509_certificate((tmp_path / "sc-1.crt").read_bytes())
    spine.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sc-1"
    sans = spine.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "spine.example" in sans.get_values_for_type(x509.DNSName)
    # No overwriting by accident.
    again = runner.invoke(app, ["certs", "issue", "sc-1", "--dir", str(tmp_path)])
    assert again.exit_code != 0


def test_issue_without_a_ca_names_the_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="ca.key"):
        issue(tmp_path, "sc-1")


@pytest.mark.parametrize("name", ["é", "x" * 100, "a b", "a\nb", "*", "a,b", ".hidden", "../evil", ""])
def test_a_name_no_sidecar_or_operator_can_have_is_refused_before_anything_is_made(tmp_path, name) -> None:
    """``é`` and a name over 64 were "unexpected ValueError (a bug in ben)" (cryptography's DNS name and common
    name bounds); ``a b``, ``a\\nb``, ``*`` and ``a,b`` were signed and written, with a snippet ("set sidecar.id =
    'a b'") that the config then refused (ADR 0033, round 8)."""
    init_ca(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ConfigError) as caught:
        issue(tmp_path, name)
    assert caught.value.field == "NAME" and "not a usable name" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_names_a_sidecar_or_an_operator_can_have_are_issued(tmp_path) -> None:
    init_ca(tmp_path)
    for name in ("sc-web-1", "alice@example.com", "spine", "a_b.c"):
        cert, key = issue(tmp_path, name)
        assert cert.name == f"{name}.crt" and key.name == f"{name}.key"


def test_a_ca_certificate_and_key_that_are_no_pair_issue_nothing(tmp_path) -> None:
    """`ca.crt` copied from another CA beside this one's `ca.key`: a certificate was issued (signed by the key,
    naming the other CA as its issuer) and every TLS handshake with it then failed. A ca.crt that is no PEM said
    cryptography's FAQ link and not which file."""
    import os
    import shutil

    init_ca(tmp_path / "a")
    init_ca(tmp_path / "b")
    shutil.copy(tmp_path / "b" / "ca.crt", tmp_path / "a" / "ca.crt")
    with pytest.raises(ConfigError, match="ca.crt and ca.key in .* are not a pair") as refused:
        issue(tmp_path / "a", "alice")
    assert refused.value.field == "--dir"
    assert sorted(os.listdir(tmp_path / "a")) == ["ca.crt", "ca.key"]
    (tmp_path / "a" / "ca.crt").write_bytes(b"\x00junk")
    with pytest.raises(ConfigError, match=r"ca\.crt: Unable to load PEM file \(ben certs init") as refused:
        issue(tmp_path / "a", "alice")
    assert "https://" not in str(refused.value)
    assert sorted(os.listdir(tmp_path / "a")) == ["ca.crt", "ca.key"]
    issue(tmp_path / "b", "alice")  # a pair still issues
