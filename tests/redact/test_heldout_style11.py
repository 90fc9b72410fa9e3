"""The eleventh held-out-style corpus (``tests/redact/heldout_style11.py``, ADR 0030 revision 15: a secret on a
process's command line, as the telemetry that records processes writes it), one test per rule it led to (each with
the look-alikes the rule must leave), and long adversarial inputs for the new patterns, redacted in a subprocess (a
hang fails by the subprocess' timeout).

Seeds 111-116 were used while the rules were fixed; the misses of seeds 117 and 118 were never read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import quote

import pytest

from ben.redact import DEFAULT_MANIFEST, Engine, parse_manifest
from tests.redact.heldout_style import Sample, redacted
from tests.redact.heldout_style11 import RESERVED_SEEDS, generate, run
from tests.redact.test_coverage import redact

PW = "Kq81Xt5Pw2Lm!z"


# -- the corpus: the reserved seeds ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", RESERVED_SEEDS)
def test_heldout_style11_recall_on_reserved_seeds_and_look_alikes(seed: int) -> None:
    fig = run(generate(seed))
    assert fig.total["family:benign"] == 120 and sum(1 for k in fig.total if k.startswith("family:")) == 6
    # revision 14: 66.1 / 66.9 %, 5 / 1 look-alikes changed; revision 15: 95.8 / 96.4 %, 4 / 1
    assert fig.recall() >= 0.95, (fig.recall(), fig.misses[:3])
    assert len(fig.damaged) <= 4, fig.damaged
    for fam in ("access", "cloud", "crypto", "database", "registry"):
        assert fig.rate("family:" + fam) >= 0.9, (fam, fig.rate("family:" + fam))   # the lowest measured: 91.7 %


# -- a command line recorded as a list of its arguments (ben.redact.argv) -----------------------------------
_ARGV = ["mysql", "-u", "app", "-h", "db.internal", "--password", PW, "shop"]


@pytest.mark.parametrize("text, attrs", [
    ("$ cat /proc/4211/cmdline\n" + "\x00".join(_ARGV) + "\x00", {}),                             # NULs
    ("$ cat -v /proc/4211/cmdline\n" + "^@".join(_ARGV) + "^@", {}),                               # cat -v
    ("process started", {"process.command_args": json.dumps(_ARGV)}),                               # OpenTelemetry
    ("subprocess.CalledProcessError: Command '" + repr(_ARGV) + "' returned non-zero exit status 1.", {}),
    ('[{"Path": "mysql", "Args": ' + json.dumps(_ARGV[1:], indent=4) + "}]", {}),                 # docker inspect
    ("      command: [\"mysql\"]\n      args:\n" + "".join(f"      - {json.dumps(a)}\n" for a in _ARGV[1:]), {}),   # a Pod
    ("type=EXECVE msg=audit(1796610067.902:4711): argc=8 " + " ".join(f'a{i}="{a}"' for i, a in enumerate(_ARGV)), {}),
    ("type=PROCTITLE msg=audit(1796610067.902:4711): proctitle=" + "\x00".join(_ARGV).encode().hex().upper(), {}),
    ('{"requestURI":"/api/v1/namespaces/prod/pods/api-0/exec?' + "&".join("command=" + quote(a, safe="") for a in _ARGV)
     + '&container=api"}', {}),                                                                      # kubectl exec
    ("Error: spawn zip exited with code 1 {\n  spawnargs: [ '-r', '-P', '" + PW + "', 'out.zip', '/srv' ]\n}", {}),   # program named before
    ("type=PROCTITLE msg=audit(1796610067.902:4711): proctitle=" + "\x00".join(["mysql", "--user=app", "--password=" + PW]).encode().hex().upper(), {}),
])
def test_a_password_in_a_recorded_argument_list_is_masked(text: str, attrs: dict) -> None:
    _, body, out = next(redacted([Sample("t", "t", "t", text, attrs)]))
    got = body + json.dumps(out)
    assert PW not in got and PW.encode().hex().upper() not in got, got


@pytest.mark.parametrize("text, attrs", [
    ('fatal: [web-1]: FAILED! => {"changed": true, "cmd": ["mysql", "-u", "root", "-p", "-h", "db-prod.acme.io", "shop"], "rc": 1}', {}),
    ("$ cat /proc/4211/cmdline\n" + "\x00".join(["docker", "login", "-u", "deploy", "--password-stdin", "ghcr.io"]) + "\x00", {}),
    ("process started", {"process.command_args": json.dumps(["ssh", "-p", "2222", "-i", "~/.ssh/id_ed25519", "-l", "deploy", "db.internal"])}),
    ("      command: [\"redis-cli\"]\n      args:\n      - \"-h\"\n      - \"cache\"\n      - \"-p\"\n      - \"6379\"\n", {}),
    ("type=PROCTITLE msg=audit(1796610067.902:4711): proctitle=" + "\x00".join(["openssl", "rsa", "-passin", "env:KEY_PASS"]).encode().hex().upper(), {}),
    ('{"tags": ["prod", "eu-west-1", "billing"], "ids": ["5f0c1c1e", "8a4b4c55"]}', {}),
    ("['7z', 'a', '-p', 'x.7z']", {}),
])
def test_an_argument_list_without_a_secret_stays(text: str, attrs: dict) -> None:
    _, body, out = next(redacted([Sample("t", "t", "t", text, attrs)]))
    assert (body, out) == (text, attrs)


def test_the_argv_detector_alone_finds_the_split_flag() -> None:
    """Without ``argv`` the flag and its value two items apart are not read together."""
    text = "$ cat /proc/4211/cmdline\n" + "\x00".join(["sshpass", "-p", PW, "ssh", "db"]) + "\x00"
    without = Engine(parse_manifest(DEFAULT_MANIFEST.replace(', "argv"]', "]"), need_key=False))
    assert PW not in redact(text) and PW in redact(text, without)


# -- programs' password arguments (ben.redact.identifiers.KEYLESS_COMMAND) ----------------------------------
@pytest.mark.parametrize("text", [
    f"unrar x -p{PW} export.rar", f"7z a '-p{PW}' backup.7z /srv", f"mysql -u app '-p{PW}' -h db",
    f"vsql -h db -U dbadmin -w {PW}", f"swift -A https://swift.acme.io/auth/v1.0 -U acct:ops -K {PW} list",
    f"PsExec.exe \\\\web-01 -u ACME\\admin -p {PW} cmd.exe", f"rdesktop -u admin -p {PW} host",
    f"neo4j-admin dbms set-initial-password {PW}", f"grafana-cli admin reset-admin-password {PW}", f"bw unlock {PW} --raw",
    f"npm config set //npm.acme.io/:_authToken {PW}", f"wpa_passphrase Acme-Office {PW}",
    f"nmcli dev wifi connect Acme-Office password {PW}", f"net use Z: \\\\nas01\\share {PW} /user:ACME\\svc",
    f"expdp 'system/{PW}' schemas=HR", f"snmpwalk -v3 -u mon -A {PW} -x AES -X {PW[::-1]} host",
    f"redis-cli -h cache AUTH default {PW}", f"mc alias set minio https://minio:9000 AKIAABCDEFGHIJKLMNOP {PW}",
    f"mysqladmin -u root password {PW}", f"xfreerdp /v:host /u:admin '/p:{PW}' /cert:ignore",
])
def test_programs_password_arguments(text: str) -> None:
    out = redact(text)
    assert PW not in out and PW[::-1] not in out, out


@pytest.mark.parametrize("text", [
    "ssh -p 2222 -l deploy db.internal", "docker run -d -p 8080:80 nginx:1.27", "redis-cli -h cache -p 6379 --scan",
    "mysql -u root -p -h db shop", "unrar x archive.rar", "snmpwalk -v2c -c public host", "bw unlock --check",
    "npm config set registry https://npm.acme.io/", "net use Z: \\\\nas01\\share /user:ACME\\svc", "mkdir -p /var/lib/acme",
    "redis-cli -h cache AUTH", "mysqladmin -u root status", "grafana-cli plugins install grafana-clock-panel",
    ": 1796610067:0;vault login -method=oidc role=ops", "ops@bastion-1:~$ vault login -method=oidc role=ops",
    "subprocess.CalledProcessError: Command '['gpg', '--passphrase-file', '/run/x']' returned non-zero exit status 2.",
])
def test_command_lines_without_a_secret_stay(text: str) -> None:
    assert redact(text) == text


# -- long inputs ------------------------------------------------------------------------------------------
def test_long_adversarial_inputs_for_the_new_patterns() -> None:
    code = r"""
from tests.redact.test_coverage import redact
texts = ["\x00" * 200000, "a\x00" * 100000, "^@" * 100000, '["a", ' * 40000, "['a', " * 40000, "[" * 200000,
         "- a\n" * 50000, '- "a"\n' * 50000, " a1=" * 50000, "a0=\"x\" a1=\"y\" " * 20000, "proctitle=" + "41" * 100000,
         "proctitle=" + "4100" * 50000, "&command=x" * 40000, "command=%41" * 30000, '"Path": "x"' * 20000 + '["a", "b"]',
         "spawn " * 40000 + "['a', 'b']", "unrar " * 40000, "vsql -w " * 30000, "snmpwalk -A " * 20000, "net use " * 30000,
         "redis-cli AUTH " * 20000, "mc alias set " * 20000, "expdp " * 40000, "wpa_passphrase " * 20000, "'-p" * 60000,
         "mysql " + "'-p" * 60000, ": 1796610067:0;" * 20000 + "login x"]
for s in texts:
    redact(s)
print("done")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "done", out.stderr
