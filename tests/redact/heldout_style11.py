"""An eleventh held-out-style corpus, written apart from the first ten on 2026-12-07 from a stranger's angle: a secret
on a process's command line, as the telemetry that records processes writes it. A tool given its password, token or
key as an argument (``mysql -pX``, ``docker login -p X``, ``openssl … -passout pass:X``, ``kubectl --token=X``,
``sqlplus user/X@db``, ``xfreerdp /p:X``, ``net use Z: \\\\nas\\share X``… ~90 tools of ``heldout11_values``) is
recorded by one of 27 *carriers*: shells' histories (a prompt, bash with ``HISTTIMEFORMAT``, zsh's extended history,
fish's YAML), the process table (``ps -eo``'s columns, ``/proc/PID/cmdline`` with its NULs or ``cat -v``'s ``^@``,
osquery's ``processes``), the kernel's audit (``EXECVE`` with each argument as ``aN=``, quoted or in hex; ``PROCTITLE``
as the hex of the NUL-joined argv, 128 bytes at most), OpenTelemetry's ``process.command_args`` (a JSON list in an
attribute) and ``process.command_line``, a Pod's ``args`` list, ``docker inspect``'s ``Args``, Windows' event 4688
and Sysmon's ``CommandLine``, PowerShell's prompt, sudo's log line, a crontab, a systemd unit's ``ExecStart``, a
Python ``CalledProcessError``, Node's ``spawnargs``, a logfmt ``cmd=``, a Jenkins ``+`` trace, Ansible's ``cmd``
list, the Kubernetes audit log of ``kubectl exec`` (every argument a ``command=`` parameter, URL-encoded) and a
Falco alert. The flag and its value are often separate items of a list. Look-alikes (``heldout11_benign``): the same
tools with no secret on the command line (a prompt, a file, the environment, ``-p`` as a port), in the same carriers.
Scoring as in the ninth corpus: no run of 8 characters of the secret, as the carrier wrote it, survives; a
look-alike's event must be unchanged.

Seeds: 111-116 for development; **117 and 118 are reserved** (their misses are not read while fixing).

    python -m tests.redact.heldout_style11 --seed 111 -v 20
"""

from __future__ import annotations

import html
import json
import shlex
import subprocess
from urllib.parse import quote

from tests.redact import heldout11_values as values
from tests.redact.heldout11_benign import benign_argvs
from tests.redact.heldout7_values import Draw
from tests.redact.heldout_style import AllFamilies as Figures
from tests.redact.heldout_style import Sample, cli, scorer
from tests.redact.heldout_style8 import survivors as survivors

RESERVED_SEEDS = (117, 118)
TS = "2026-12-07T09:12:44.902Z"


def _plain(s: str) -> str:
    return s


def _jsn(s: str) -> str:
    return json.dumps(s)[1:-1]


def _audit_arg(a: str) -> str:
    return a.encode().hex().upper() if any(c in a for c in '" ') or any(ord(c) < 0x21 or ord(c) > 0x7E for c in a) else f'"{a}"'


def _execve(argv, d):
    return (f"type=EXECVE msg=audit(1796610067.902:{d.randrange(1000, 99999)}): argc={len(argv)} "
            + " ".join(f"a{i}={_audit_arg(a)}" for i, a in enumerate(argv)), {})


def _proctitle(argv, d):
    raw = "\x00".join(argv).encode()[:128]
    return (f"type=SYSCALL msg=audit(1796610067.902:{d.randrange(1000, 99999)}): arch=c000003e syscall=59 success=yes exit=0 "
            f"comm=\"{argv[0][:15]}\" exe=\"/usr/bin/{argv[0]}\"\ntype=PROCTITLE msg=audit(1796610067.902:4711): proctitle={raw.hex().upper()}", {})


def _docker_inspect(argv, d):
    return (json.dumps([{"Id": d.hex(64), "Created": TS, "Path": argv[0], "Args": argv[1:],
                         "State": {"Status": "exited", "ExitCode": 1}}], indent=4), {})


def _k8s_args(argv, d):
    return ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: nightly\nspec:\n  template:\n    spec:\n      containers:\n"
            f"      - name: job\n        image: acme/tools:1.4\n        command: [{json.dumps(argv[0])}]\n        args:\n"
            + "".join(f"        - {json.dumps(a)}\n" for a in argv[1:]), {})


def _k8s_exec(argv, d):
    uri = "/api/v1/namespaces/prod/pods/api-0/exec?" + "&".join("command=" + quote(a, safe="") for a in argv) + "&container=api&stdin=true&stdout=true"
    return (json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": d.uuid(), "stage": "ResponseStarted",
                        "requestURI": uri, "verb": "create", "user": {"username": "ann@acme.io"}}).replace("ann@acme.io", "oidc:ann"), {})


def _win(argv):
    return subprocess.list2cmdline(argv)


# carrier: (frame (argv, d) -> (body, attrs), the secret's encoding)
CARRIERS = {
    "shell_prompt": (lambda a, d: (f"ops@bastion-1:~$ {shlex.join(a)}\n", {}), _plain),
    "bash_history": (lambda a, d: (f" {d.randrange(100, 2000)}  2026-12-07 09:12:44 {shlex.join(a)}", {}), _plain),
    "zsh_history": (lambda a, d: (f": 1796610067:0;{shlex.join(a)}", {}), _plain),
    "fish_history": (lambda a, d: (f"- cmd: {shlex.join(a)}\n  when: 1796610067", {}), _plain),
    "ps_eo": (lambda a, d: (f"    PID USER     ELAPSED CMD\n   {d.randrange(100, 99999)} ops      01:02:03 {' '.join(a)}", {}), _plain),
    "proc_cmdline_nul": (lambda a, d: (f"$ cat /proc/{d.randrange(100, 99999)}/cmdline\n" + "\x00".join(a) + "\x00", {}), _plain),
    "proc_cmdline_catv": (lambda a, d: (f"$ cat -v /proc/{d.randrange(100, 99999)}/cmdline\n" + "^@".join(a) + "^@", {}), _plain),
    "osquery": (lambda a, d: (json.dumps({"name": "pack_ops_processes", "hostIdentifier": "web-1", "action": "added",
                                          "columns": {"pid": str(d.randrange(100, 99999)), "name": a[0], "cmdline": " ".join(a)}}), {}), _jsn),
    "auditd_execve": (_execve, None),
    "auditd_proctitle": (_proctitle, lambda s: s.encode().hex().upper()),
    "otel_command_args": (lambda a, d: ("process started", {"process.executable.name": a[0], "process.command_args": json.dumps(a),
                                                             "process.pid": str(d.randrange(100, 99999))}), _jsn),
    "otel_command_line": (lambda a, d: ("process exited with code 1", {"process.command_line": shlex.join(a),
                                                                        "process.exit.code": "1"}), _plain),
    "k8s_args": (_k8s_args, _jsn),
    "docker_inspect": (_docker_inspect, _jsn),
    "win_4688": (lambda a, d: ("A new process has been created.\r\n\r\nProcess Information:\r\n\tNew Process ID:\t\t0x1a4c\r\n"
                               f"\tNew Process Name:\tC:\\Tools\\{a[0]}\r\n\tToken Elevation Type:\t%%1936\r\n"
                               f"\tCreator Process Name:\tC:\\Windows\\System32\\cmd.exe\r\n\tProcess Command Line:\t{_win(a)}", {}), _plain),
    "sysmon_xml": (lambda a, d: (f"<Event><System><EventID>1</EventID></System><EventData><Data Name=\"Image\">C:\\Tools\\{html.escape(a[0])}</Data>"
                                 f"<Data Name=\"CommandLine\">{html.escape(_win(a))}</Data><Data Name=\"User\">ACME\\ops</Data></EventData></Event>", {}),
                   html.escape),
    "powershell_prompt": (lambda a, d: (f"PS C:\\Users\\ops> {_win(a)}", {}), _plain),
    "sudo_log": (lambda a, d: (f"Dec  7 09:12:44 web-1 sudo:      ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/{' '.join(a)}", {}), _plain),
    "crontab": (lambda a, d: (f"$ crontab -l\n# m h  dom mon dow   command\n0 3 * * * {shlex.join(a)} >> /var/log/nightly.log 2>&1\n", {}), _plain),
    "systemd_unit": (lambda a, d: (f"[Unit]\nDescription=Nightly job\n\n[Service]\nType=oneshot\nUser=ops\nExecStart=/usr/bin/{shlex.join(a)}\n", {}), _plain),
    "py_called_process": (lambda a, d: ("Traceback (most recent call last):\n  File \"/app/jobs/nightly.py\", line 41, in run\n"
                                        "    subprocess.run(cmd, check=True)\nsubprocess.CalledProcessError: "
                                        f"Command '{a!r}' returned non-zero exit status 1.", {}), lambda s: repr(s)[1:-1]),
    "node_spawnargs": (lambda a, d: (f"Error: spawn {a[0]} exited with code 1\n    at ChildProcess.exithandler (node:child_process:422:12) {{\n"
                                     f"  code: 1,\n  spawnargs: [ {', '.join(repr(x) for x in a[1:])} ]\n}}", {}), lambda s: repr(s)[1:-1]),
    "logfmt_cmd": (lambda a, d: (f"time={TS} level=error msg=\"job failed\" cmd={json.dumps(shlex.join(a))} err=\"exit status 1\"", {}), _jsn),
    "jenkins_trace": (lambda a, d: (f"[Pipeline] sh\n+ {shlex.join(a)}\nERROR: script returned exit code 1", {}), _plain),
    "ansible_cmd": (lambda a, d: ("fatal: [web-1]: FAILED! => " + json.dumps({"changed": True, "cmd": a, "rc": 1, "msg": "non-zero return code",
                                                                           "stderr": "", "stdout": ""}), {}), _jsn),
    "k8s_exec_audit": (_k8s_exec, lambda s: quote(s, safe="")),
    "falco": (lambda a, d: (f"09:12:44.902: Notice Unexpected process spawned in container (user=root command={' '.join(a)} "
                            f"container_id={d.hex(12)} image=acme/api)", {}), _plain),
}


def _parts(carrier: str, secrets: list[str]) -> list[str]:
    enc = CARRIERS[carrier][1]
    if enc is None:     # auditd EXECVE: an argument in hex when it needs encoding
        return [s.encode().hex().upper() for s in secrets] + list(secrets)
    return [enc(s) for s in secrets]


def place(d: Draw, family: str) -> Sample:
    for _ in range(20):
        tool, argv, secret = values.draw(d, family)
        secrets = [secret, secret[::-1]] if tool == "snmpwalk" else [secret]
        carrier = d.pick(sorted(CARRIERS))
        body, attrs = CARRIERS[carrier][0](argv, d)
        text = body + "\x00" + "\x00".join(attrs.values())
        parts = [p for p in _parts(carrier, secrets) if len(p) >= 8 and p in text]
        if parts:
            return Sample(family, tool, carrier, body, attrs, tuple(parts))
    raise AssertionError(f"generator error: no {family} secret survives its carrier")


def look_alikes(d: Draw, rounds: int) -> list[Sample]:
    out = []
    for _ in range(rounds):
        for kind, argv in benign_argvs(d):
            carrier = d.pick(sorted(CARRIERS))
            body, attrs = CARRIERS[carrier][0](argv, d)
            out.append(Sample("benign", kind, carrier, body, attrs))
    return out


def generate(seed: int, *, per_family: int = 72, benign_rounds: int = 3) -> list[Sample]:
    """``per_family`` secrets of each of the five families, then the look-alikes ``benign_rounds`` times."""
    d = Draw(seed)
    return [place(d, f) for f in values.FAMILIES for _ in range(per_family)] + look_alikes(d, benign_rounds)


run = scorer(survivors, Figures, "heldout11")


def main() -> None:
    cli(__doc__, generate, run, seed=111, size="per_family", default=72)


if __name__ == "__main__":
    main()
