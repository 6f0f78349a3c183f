"""ccmsetup.log records -> one row per ccmsetup run (`ccmsetup_runs`).

Works on the `cm_log_entries` rows of ONE ccmsetup log (rollover set already
stitched by the CMTrace parser), in record order. Pure: no I/O.

A run starts at the banner ``==========[ ccmsetup started in process <pid> ]==========``
(docs/formats.md §2.1). Records before the first banner (a rolled file that starts
mid-run) form run 0, only when there are any. ccmsetup relaunches itself as a
service, so two processes log at once: the launcher's last lines (``CcmSetup is
exiting with return code 0``) land after the service's banner (corpus
ccmsetup_jimbocalvo-Reddit_1.log). A record therefore goes to the run that owns
its thread (the banner's thread, and every new thread seen while that run was
the newest), until that run logs its exit line; unknown threads go to the
newest run.

Where each column comes from (`schema.CCMSETUP_RUNS` declares what it means):
    run_no: 0 for records before the first banner, then 1, 2, ... per banner.
    pid: process id from the banner (null for run 0).
    started_at / ended_at: UTC of the run's first / last record (null when the
        records carry no bias and the device zone is unknown).
    started_local: local wall-clock time of the first record.
    ts_confidence: confidence of the first record's UTC (exact, ...).
    return_code: N of ``CcmSetup is exiting with return code <N>``.
    return_meaning: N decoded (docs/formats.md §6.4: 0 success, 6 error, 7 reboot
        required, 8 setup already running, 9 prerequisite evaluation failure,
        10 setup manifest hash validation failure).
    error_code / error_code_hex: ``CcmSetup failed with error code 0x...``;
        else an MSI failure (``Installation failed with error code <N>`` or
        ``File <path>client.msi installation failed. Error text: ExitCode: <N>``
        as HRESULT_FROM_WIN32, ``The error code is <hex>``), as u32 + 0x%08X.
    client_version: ``Installing version <v> of the client``, else
        ``CcmSetup version: <v>`` (the bootstrapper's own version).
    mp_host: MP or CMG host: ``Found a valid online MP '<url>'``,
        ``ccmsetup: Host=<host>``, then CCMHOSTNAME=, /mp:, SMSMP= properties.
    used_cmg: a URL with CCM_Proxy_MutualAuth / CCM_Proxy_ServerAuth, or a
        CCMHOSTNAME property.
    provisionts: PROVISIONTS property (co-management task sequence id).
    command_line: text of the first ``Command line:`` (or ``Ccmsetup command
        line:``) record of the run.
    properties: JSON object of the command line: ``/key:value`` switches as
        ``"/key": "value"`` (bare switches ``true``), ``KEY=value`` and
        ``KEY="quoted value"`` properties as ``"KEY": "value"``; a
        CCMSETUPCMD="..." value is expanded into its own properties too.
    last_msi_action: name of the last ``MSI: Action HH:MM:SS: <Name>. ...``.
    first_record_no / last_record_no: record numbers of the run's first and
        last record (evidence; runs can interleave).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from .. import schema
from ..columns import fits
from ..errorcodes import hresult_from_win32, parse_code, to_hex

RETURN_MEANINGS = {
    0: "success",
    6: "error",
    7: "reboot required",
    8: "setup already running",
    9: "prerequisite evaluation failure",
    10: "setup manifest hash validation failure",
}

_BANNER = re.compile(r"=+\[ ccmsetup started in process (\d+) \]=+")
_EXIT = re.compile(r"CcmSetup is exiting with return code (-?\d+)", re.I)
_FAILED = re.compile(
    r"CcmSetup failed with error code (0x[0-9A-Fa-f]{1,8}|-?\d+)", re.I
)
_MSI_FAILED = re.compile(
    r"(?:Installation failed with error code |installation failed\. Error text: "
    r"ExitCode: )(-?\d+)",
    re.I,
)
_ERROR_IS = re.compile(r"The error code is ([0-9A-Fa-f]{8})\b")
_INSTALLING = re.compile(r"Installing version (\S+) of the client", re.I)
_CCMSETUP_VERSION = re.compile(r"^CcmSetup version:\s*(\S+)", re.I)
_COMMAND_LINE = re.compile(r"^(Ccmsetup )?Command line:\s*(.*)", re.I | re.S)
_VALID_MP = re.compile(r"Found a valid online MP '([^']+)'", re.I)
_HOST = re.compile(r"ccmsetup: Host=([^,\s]+)", re.I)
_MSI_ACTION = re.compile(r"^MSI: Action \d{1,2}:\d{2}:\d{2}: ([^.]+)\.")
_CMG = re.compile(r"CCM_Proxy_(?:MutualAuth|ServerAuth)", re.I)
# Records worth a Python look (RE2 syntax, run by Arrow over the column).
_WANTED = (
    r"(?i)ccmsetup started in process|return code|error code|installation failed"
    r"|Installing version|version:|Command line:|valid online MP|Host=|CCM_Proxy_"
    r"|MSI: Action"
)
# A token is a run of non-space characters and quoted parts: FSP="primary.lan",
# "/mp:server.dmz", "C:\\Program Files\\ccmsetup.exe".
_TOKEN = re.compile(r'(?:[^\s"]+|"[^"]*")+')


@dataclass
class _Run:
    run_no: int
    pid: int | None
    first: int  # row index of the first record
    last: int = 0  # row index of the last record
    exited: bool = False
    return_code: int | None = None
    failed_code: int | None = None
    msi_code: int | None = None
    installing: str | None = None
    setup_version: str | None = None
    valid_mp: str | None = None
    host: str | None = None
    command_line: str | None = None
    command_is_argv: bool = False
    properties: dict = field(default_factory=dict)
    cmg_url: bool = False
    last_msi_action: str | None = None


def derive_runs(entries: pa.Table) -> pa.Table:
    """Turn the records of one ccmsetup log into one row per ccmsetup run.

    Args:
        entries: rows of schema.CM_LOG_ENTRIES for one log, in record order.

    Returns:
        A table with schema.CCMSETUP_RUNS, one row per run, in run order.
    """
    messages = entries.column("message")
    # Arrow's RE2 picks the few records worth a Python look; the rest only
    # need their thread for run attribution.
    wanted = pc.fill_null(pc.match_substring_regex(messages, _WANTED), False)
    rows = pc.indices_nonzero(wanted)
    texts = dict(zip(rows.to_pylist(), messages.take(rows).to_pylist(), strict=True))
    threads = entries.column("thread").to_pylist()
    runs: list[_Run] = []
    owner: dict[int, _Run] = {}  # thread -> run that owns it
    for i, thread in enumerate(threads):
        message = texts.get(i)
        banner = message is not None and _BANNER.search(message)
        if banner:
            run_no = runs[-1].run_no + 1 if runs else 1
            run = _Run(run_no, fits(int(banner.group(1)), pa.int64()), i)
            runs.append(run)
        else:
            owned = owner.get(thread) if thread is not None else None
            if owned is None or owned.exited:
                if not runs:
                    runs.append(_Run(0, None, i))
                owned = runs[-1]
            run = owned
        if thread is not None:
            owner[thread] = run
        run.last = i
        if message:
            _scan(run, message)
    return _to_table(runs, entries)


def _scan(run: _Run, message: str) -> None:
    """Pick the facts out of one message (cheap prefix tests first)."""
    if "MSI: Action" in message:
        m = _MSI_ACTION.match(message)
        if m:
            run.last_msi_action = m.group(1).strip()
        return
    if m := _EXIT.search(message):
        run.return_code = fits(int(m.group(1)), pa.int32())
        run.exited = True
    elif m := _FAILED.search(message):
        run.failed_code = parse_code(m.group(1))
    elif m := _MSI_FAILED.search(message):
        run.msi_code = hresult_from_win32(int(m.group(1)))
    elif m := _ERROR_IS.search(message):
        run.msi_code = run.msi_code or parse_code(m.group(1), bare_hex=True)
    elif m := _INSTALLING.search(message):
        run.installing = m.group(1)
    elif m := _CCMSETUP_VERSION.match(message):
        run.setup_version = run.setup_version or m.group(1)
    elif m := _COMMAND_LINE.match(message):
        # "Command line:" is what ccmsetup acts on; "Ccmsetup command line:" is
        # the raw argv it was started with. Keep the first of the preferred kind.
        if run.command_line is None or (run.command_is_argv and not m.group(1)):
            run.command_line = m.group(2).strip()
            run.properties = parse_command_line(run.command_line)
            run.command_is_argv = bool(m.group(1))
    elif m := _VALID_MP.search(message):
        run.valid_mp = m.group(1)
    elif m := _HOST.search(message):
        run.host = m.group(1)
    if not run.cmg_url and _CMG.search(message):
        run.cmg_url = True


def parse_command_line(text: str) -> dict:
    """Split a ccmsetup command line into switches and properties.

    Args:
        text: ``ccmsetup.exe /mp:https://x SMSSITECODE=ABC FSP="a b"``.

    Returns:
        ``{"/mp": "https://x", "SMSSITECODE": "ABC", "FSP": "a b"}``; bare
        switches map to True. The program path (first token ending in .exe) is
        dropped. A CCMSETUPCMD value is expanded too (earlier keys win).
    """
    props: dict = {}
    for n, token in enumerate(_TOKEN.findall(text)):
        bare = _unquote(token)
        if n == 0 and bare.lower().endswith(".exe"):
            continue
        if bare.startswith("/"):
            key, sep, value = bare.partition(":")
            props.setdefault(key, _unquote(value) if sep else True)
        elif "=" in token:
            key, _, value = token.partition("=")
            value = _unquote(value)
            props.setdefault(_unquote(key), value)
            if key.upper() == "CCMSETUPCMD":
                for k, v in parse_command_line(value).items():
                    props.setdefault(k, v)
    return props


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def _prop(props: dict, key: str):
    key = key.lower()
    for k, v in props.items():
        if k.lower() == key:
            return v
    return None


def _host_of(value: str | None) -> str | None:
    """`https://cmg.example.com/CCM_Proxy_MutualAuth/72` -> `cmg.example.com`."""
    if not value or not isinstance(value, str):
        return None
    value = value.split(";")[0].strip()
    if "://" not in value:
        value = "//" + value
    try:
        host = urlsplit(value).hostname
    except ValueError:  # "[" without its "]" reads as a broken IPv6 literal
        return None
    return host or None


def _mp_host(run: _Run) -> str | None:
    for candidate in (
        run.valid_mp,
        run.host,
        _prop(run.properties, "CCMHOSTNAME"),
        _prop(run.properties, "/mp"),
        _prop(run.properties, "SMSMP"),
    ):
        host = _host_of(candidate)
        if host:
            return host
    return None


def _to_table(runs: list[_Run], entries: pa.Table) -> pa.Table:
    firsts = pa.array([run.first for run in runs], pa.int64())
    lasts = pa.array([run.last for run in runs], pa.int64())
    record_no = entries.column("record_no")
    ts_utc = entries.column("ts_utc")
    errors = [
        run.failed_code if run.failed_code is not None else run.msi_code for run in runs
    ]
    props = [run.properties for run in runs]
    return pa.table(
        {
            "run_no": pa.array([run.run_no for run in runs], pa.int32()),
            "pid": [run.pid for run in runs],
            "started_at": ts_utc.take(firsts),
            "ended_at": ts_utc.take(lasts),
            "started_local": entries.column("ts_local").take(firsts),
            "ts_confidence": entries.column("ts_confidence").take(firsts),
            "return_code": [run.return_code for run in runs],
            "return_meaning": [_meaning(run.return_code) for run in runs],
            "error_code": errors,
            "error_code_hex": [to_hex(e) for e in errors],
            "client_version": [run.installing or run.setup_version for run in runs],
            "mp_host": [_mp_host(run) for run in runs],
            "used_cmg": [
                run.cmg_url or _prop(run.properties, "CCMHOSTNAME") is not None
                for run in runs
            ],
            "provisionts": [_str_or_none(_prop(p, "PROVISIONTS")) for p in props],
            "command_line": [run.command_line for run in runs],
            "properties": [
                json.dumps(run.properties) if run.command_line is not None else None
                for run in runs
            ],
            "last_msi_action": [run.last_msi_action for run in runs],
            "first_record_no": record_no.take(firsts),
            "last_record_no": record_no.take(lasts),
        },
        schema=schema.CCMSETUP_RUNS,
    )


def _meaning(code: int | None) -> str | None:
    return None if code is None else RETURN_MEANINGS.get(code, "unknown")


def _str_or_none(value) -> str | None:
    return value if isinstance(value, str) and value else None


TABLES = ("ccmsetup_runs",)


def derive(entries: pa.Table) -> dict[str, pa.Table]:
    """The `Derivation` entry point: one ccmsetup log's records -> its runs."""
    return {"ccmsetup_runs": derive_runs(entries)}
