"""ConfigMgr CMTrace logs of an attempt: ccmsetup.log (and its .lo_), smsts.log.

Written with the real message templates (docs/formats.md §2.1-§2.2): UTF-8 with a BOM,
CRLF, 3-digit fractions and the Windows bias in force at each instant (UTC = local
+ bias, so DST changes inside a file). The IME log and client.msi.log are in
agentlogs.py.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .scenarios import NEW_SMSTS_FROM, STEP_FAILURES, CcmRun, Plan

CMG = "CONTOSOCMG.CONTOSO.COM"
CMG_ID = "72186325152220592"
SITE_CODE = "CTS"
MP = "https://cm01.corp.contoso.com"
TENANT_ID = "2f4a9838-26b7-47ee-be60-ccc1fdec5953"
TENANT_DOMAIN = "contoso.onmicrosoft.com"
CLIENT_APP_ID = "7f1c5b3e-0a6d-4c2b-9d51-3e8a4f0b2c61"
BOM = b"\xef\xbb\xbf"

Rec = tuple[
    datetime, str, int, int, str, str
]  # utc, component, type, thread, file, msg


def cm_line(
    plan: Plan, at: datetime, comp: str, typ: int, thread: int, src: str, msg: str
) -> str:
    """One ConfigMgr CMTrace record with the bias in force at ``at``."""
    loc = plan.local(at)
    bias = plan.bias(at)
    return (
        f'<![LOG[{msg}]LOG]!><time="{loc:%H:%M:%S}.{loc.microsecond // 1000:03d}'
        f'{bias:+03d}" '
        f'date="{loc:%m-%d-%Y}" component="{comp}" context="" type="{typ}" '
        f'thread="{thread}" file="{src}">'
    )


def render(plan: Plan, recs: list[Rec]) -> bytes:
    """CRLF-separated records, UTF-8 with a BOM, as ConfigMgr writes them."""
    lines = [cm_line(plan, *r) for r in recs]
    return BOM + ("\r\n".join(lines) + "\r\n").encode("utf-8")


class _Clock:
    def __init__(self, rng: random.Random, at: datetime) -> None:
        self.rng, self.at = rng, at

    def tick(self, lo: float = 0.0, hi: float = 0.05) -> datetime:
        self.at += timedelta(seconds=self.rng.uniform(lo, hi))
        return self.at


def _cmdline(plan: Plan, service: bool, retry: bool) -> str:
    mp = f"https://{CMG}/CCM_Proxy_MutualAuth/{CMG_ID}"
    head = '"C:\\WINDOWS\\ccmsetup\\ccmsetup.exe"' + (" /runservice" if service else "")
    if retry:
        head += " /RetryWinTask:1"
    return (
        f"{head} /mp:{mp} CCMHOSTNAME={CMG}/CCM_Proxy_MutualAuth/{CMG_ID} "
        f"SMSSITECODE={SITE_CODE} SMSMP={MP} AADTENANTID={TENANT_ID} "
        f"AADCLIENTAPPID={CLIENT_APP_ID} AADRESOURCEURI=https://ConfigMgrService "
        f"PROVISIONTS={plan.ts_package}"
    )


def _run(plan: Plan, rng: random.Random, run: CcmRun, n: int, recs: list[Rec]) -> None:
    c = _Clock(rng, run.start)
    pid = rng.randint(1200, 9800)
    th = rng.randint(1000, 9999)
    ver = plan.client_version or "5.00.9132.1011"
    short = ver.replace("5.00.", "5.0.")

    def add(
        msg: str, typ: int = 1, src: str = "ccmsetup.cpp:0", comp: str = "ccmsetup"
    ) -> None:
        recs.append((c.tick(), comp, typ, th, src, msg))

    add(
        f"==========[ ccmsetup started in process {pid} ]==========",
        1,
        "ccmsetup.cpp:11116",
    )
    add(
        "Updated security on object C:\\WINDOWS\\ccmsetup\\cache\\.",
        0,
        "ccmsetup.cpp:10758",
    )
    add("Launch from folder C:\\WINDOWS\\ccmsetup\\", 1, "ccmsetup.cpp:767")
    add(f"CcmSetup version: {short}", 1, "ccmsetup.cpp:773")
    add(
        f"Running on 'Microsoft Windows 10 Enterprise' (10.0.{plan.build}). "
        "Service Pack (0.0). "
        "SuiteMask = 272. Product Type = 1",
        1,
        "util.cpp:2168",
    )
    cmd = _cmdline(plan, run.service, n > 2)
    add(f"Ccmsetup command line: {cmd}", 1, "ccmsetup.cpp:4421")
    add(
        "Command line parameters for ccmsetup have been specified. "
        " No registry lookup for "
        "command line parameters is required.",
        1,
        "ccmsetup.cpp:4562",
    )
    add(f"Command line: {cmd}", 1, "ccmsetup.cpp:4563")
    add("SslState value: 31", 0, "ccmsetup.cpp:5301")
    if not run.service:
        add("No version of the client is currently detected.", 1, "ccmsetup.cpp:3419")
        add("Successfully created the ccmsetup service", 1, "ccmsetup.cpp:4061")
        c.at = run.end - timedelta(milliseconds=20)
        add("CcmSetup is exiting with return code 0", 1, "ccmsetup.cpp:12000")
        return
    add("In ServiceMain", 1, "ccmsetup.cpp:3875", comp="CcmSetup")
    add("CCMSETUP bootstrap from Internet: 1", 1, "ccmsetup.cpp:5440")
    add(
        f"Found a valid online MP 'https://{CMG}/CCM_PROXY_MUTUALAUTH/{CMG_ID}'.",
        1,
        "siteinfo.cpp:600",
    )
    add(
        f"ccmsetup: Host={CMG}, Path=/CCM_Proxy_MutualAuth/{CMG_ID}/CCM_Client, "
        "Port=443, "
        "Protocol=https, CcmTokenAuth=1, Flags=0x4101, Options=0x1e0",
        0,
        "httphelper.cpp:1000",
    )
    exp = plan.local(run.start + timedelta(hours=8))
    add(
        "Cached encrypted token for 'S-1-5-18'. Will expire "
        f"at '{exp:%m/%d/%Y %H:%M:%S}'",
        1,
        "ccmutillib.cpp:6000",
    )
    add(
        "Searching for DP locations from MP(s)...",
        1,
        "ccmsetup.cpp:7360",
        comp="LocationServices",
    )
    add(
        f"The location 'https://{CMG}/downloadrestservice.svc/getcontentxmlsecure?"
        f"pid={SITE_CODE}00002&cid={SITE_CODE}00002'",
        1,
        "ccmsetup.cpp:7812",
    )
    add(
        f"Checking the URL 'https://{CMG}/CCM_Proxy_MutualAuth/{CMG_ID}/CCM_Client/ccmsetup.cab'",
        1,
        "ccmsetup.cpp:7900",
    )
    add(
        "Failed to get client version for sending state messages. Error 0x8004100e",
        2,
        "state.cpp:164",
    )
    total = rng.randint(40_000_000, 80_000_000)
    # Download progress: spreads the run over its duration (slow CMG downloads).
    span = (run.end - c.at).total_seconds()
    steps = 8 if span > 600 else 4
    for i in range(1, steps + 1):
        c.at += timedelta(seconds=span * 0.55 / steps)
        got = total * i // steps
        add(
            f"File download {100 * i // steps}% complete ({got} of {total} bytes).",
            0,
            "ccmsetup.cpp:10610",
        )
    add("Download complete.", 1, "ccmsetup.cpp:7040")
    code = "{" + plan.enrollment_id[::-1][:8] + "-1E4B-41E7-8E0D-7A0C6A2A1B3C}"
    add(
        f"Installing version {ver} of the client with product code {code}",
        1,
        "ccmsetup.cpp:8200",
    )
    add("Running installation package", 1, "msiutil.cpp:1000")
    add("  Package:     C:\\WINDOWS\\ccmsetup\\client.msi", 1, "msiutil.cpp:1010")
    add(
        "  Log:         C:\\WINDOWS\\ccmsetup\\Logs\\client.msi.log",
        1,
        "msiutil.cpp:1011",
    )
    actions = (
        ("CostInitialize", "Computing space requirements"),
        ("InstallValidate", "Validating install"),
        ("InstallFiles", "Copying new files"),
        ("WriteRegistryValues", "Writing system registry values"),
        ("CcmRegisterWmiMofFile", "Compiling MOF files"),
        ("StartServices", "Starting services"),
    )
    left = (run.end - c.at).total_seconds() * 0.9
    last = len(actions) if not run.msi_failed else rng.randint(3, len(actions) - 1)
    for name, desc in actions[:last]:
        c.at += timedelta(seconds=left / len(actions))
        hhmmss = plan.local(c.at).strftime("%H:%M:%S")
        add(f"MSI: Action {hhmmss}: {name}. {desc}", 0, "msiutil.cpp:325")
    c.at = max(c.at, run.end - timedelta(seconds=2))
    if run.failure_code is None:
        add("Installation succeeded.", 1, "msiutil.cpp:850")
        add(f"Client version {ver} installed successfully.", 1, "ccmsetup.cpp:8330")
        add(
            f"Sending Fallback Status Point message to '{CMG}', STATEID='400'.",
            1,
            "state.cpp:295",
        )
    else:
        if run.msi_failed:
            add(
                "MSI: Setup failed due to unexpected circumstances\nThe "
                "error code is 80070643",
                3,
                "msiutil.cpp:325",
            )
            add("Installation failed with error code 1603", 3, "msiutil.cpp:1200")
        else:
            add(
                "Failed to get DP locations as the expected "
                f"version from MP 'https://{CMG}/"
                f"CCM_Proxy_MutualAuth/{CMG_ID}'. Error 0x87d00215",
                2,
                "ccmsetup.cpp:7500",
            )
        add(
            f"Sending Fallback Status Point message to '{CMG}', STATEID='301'.",
            1,
            "state.cpp:295",
        )
        add("Next retry in 10 minute(s)...", 1, "ccmsetup.cpp:9800")
        add(
            f"CcmSetup failed with error code 0x{run.failure_code:08x}",
            1,
            "ccmsetup.cpp:11892",
        )
    c.at = max(c.at, run.end - timedelta(milliseconds=5))
    add(
        f"CcmSetup is exiting with return code {run.exit_code}", 1, "ccmsetup.cpp:12000"
    )


def ccmsetup_log(plan: Plan, rng: random.Random) -> bytes:
    """ccmsetup.log with every run of the attempt (retries as several runs)."""
    recs: list[Rec] = []
    for n, run in enumerate(plan.runs, 1):
        _run(plan, rng, run, n, recs)
    return render(plan, recs)


def roll(data: bytes, rng: random.Random) -> tuple[bytes, bytes]:
    """Split a log into (older .lo_ part, newer .log part) as a rollover does.

    The cut lands inside one of the first half's records (never inside the
    failure or exit lines at the end), like a size-based rollover can.
    """
    lo = len(data) // 4
    hi = len(data) // 2
    cut = rng.randint(lo, hi)
    return data[:cut], data[cut:]


def _ver_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".")[:3])


def smsts_log(plan: Plan, rng: random.Random) -> bytes:
    """smsts.log of the PROVISIONTS task sequence."""
    assert plan.ts_start is not None
    new = _ver_tuple(plan.client_version or "5.00.9132.1011") >= NEW_SMSTS_FROM
    th = rng.randint(1000, 9999)
    recs: list[Rec] = []
    c = _Clock(rng, plan.ts_start - timedelta(seconds=rng.uniform(5, 15)))

    def add(
        msg: str,
        typ: int = 1,
        src: str = "tsmanager.cpp:0",
        comp: str = "TSManager",
        at: datetime | None = None,
    ) -> None:
        recs.append((at or c.tick(), comp, typ, th, src, msg))

    add("Successfully intialized Logging for TS Manager.", 1, "tsmanager.cpp:1009")
    add('Commandline: "C:\\WINDOWS\\CCM\\TsManager.exe"', 1, "tsmanager.cpp:102")
    add(
        f"TSManager initialized environment for task sequence: {plan.ts_package}",
        1,
        "tsmanager.cpp:620",
    )
    add("Parsing task sequence . . .", 1, "tsmanager.cpp:661")
    add("Task sequence schema version is 3.10", 0, "tspolicy.cpp:3000")
    add("Starting Task Sequence Engine . . . ", 1, "tsmanager.cpp:1127")
    add(
        "Set a global environment variable _SMSTSInstructionTableSize="
        f"{len(plan.ts_steps)}",
        0,
        "executionenv.cxx:668",
    )
    for ptr, step in enumerate(plan.ts_steps):
        c.at = max(c.at, step.start - timedelta(milliseconds=40))
        add(
            f"Set a global environment variable _SMSTSNextInstructionPointer={ptr}",
            0,
            "executionenv.cxx:668",
        )
        if new:
            typ = step.type_name if step.kind == "action" else ""
            add(
                "Start executing an instruction. Instruction "
                f"name: '{step.name}'.  Pointer: {ptr}. "
                f"Type: '{typ}'. Disabled: 0",
                1,
                "engine.cxx:914",
            )
        else:
            add(
                "Start executing an instruction. Instruction "
                f"name: {step.name}. Instruction pointer: {ptr}",
                1,
                "engine.cxx:143",
            )
        if step.kind == "group":
            add(
                f"The group ({step.name}) has been successfully started",
                1,
                "instruction.cxx:350",
            )
            continue
        if step.kind == "group_end":
            add(
                f"The group ({step.name}) has been successfully completed",
                1,
                "instruction.cxx:369",
            )
            continue
        if "InstallApplication" in step.type_name:
            cmd = (
                "smsappinstall.exe /app:ScopeId_"
                + plan.enrollment_id[:8]
                + "/Application_"
                + f"{rng.getrandbits(32):08x}"
            )
        elif "PowerShell" in step.type_name:
            cmd = (
                "PowerShell.exe -NoProfile -ExecutionPolicy Bypass "
                '-File "Set-Regional.ps1"'
            )
        elif "InstallUpdate" in step.type_name:
            cmd = "tsinstallswupdate.exe /install /softwareupdates:3"
        else:
            cmd = "manage-bde.exe -on C: -RecoveryPassword"
        add(f"Start executing the command line: {cmd}", 1, "instruction.cxx:805")
        add(
            "!--------------------------------------------------------------------------------------------!",
            1,
            "commandline.cpp:0",
        )
        add("Expand a string: WinPEandFullOS", 0, "executionenv.cxx:782")
        add(
            f"Executing command line: {cmd} with options (0, 4)",
            1,
            "commandline.cpp:827",
        )
        if step.end is None:
            # still running when the ESP gave up: a few progress lines, then nothing
            for _ in range(3):
                add(
                    "Waiting for job status notification...",
                    1,
                    "installapplication.cpp:800",
                    "InstallApplication",
                    c.tick(30, 240),
                )
            continue
        c.at = max(c.at, step.end - timedelta(seconds=1))
        if step.code == 0:
            add("Process completed with exit code 0", 1, "commandline.cpp:1124")
            add(
                "!--------------------------------------------------------------------------------------------!",
                1,
                "instruction.cxx:836",
            )
            add(
                f"Successfully completed the action ({step.name}) "
                "with the exit win32 code 0",
                1,
                "instruction.cxx:895",
            )
            add(
                "Set a global environment variable _SMSTSLastActionRetCode=0",
                0,
                "executionenv.cxx:668",
            )
            add(
                "Set a global environment variable _SMSTSLastActionSucceeded=true",
                0,
                "executionenv.cxx:668",
            )
            continue
        code = step.code
        signed = code - 2**32 if code >= 2**31 else code
        text = dict(STEP_FAILURES).get(code, "Unspecified error")
        add(f"Process completed with exit code {code}", 1, "commandline.cpp:1124")
        add(
            "!--------------------------------------------------------------------------------------------!",
            1,
            "instruction.cxx:836",
        )
        if rng.random() < 0.5:
            add(
                f"Failed to run the action: {step.name}. Error {signed}",
                3,
                "instruction.cxx:917",
            )
        else:
            add(
                f"Failed to run the action: {step.name}.\r\n{text} "
                f"(Error: {code:08X}; Source: Windows)",
                3,
                "instruction.cxx:917",
            )
        add(
            f"Set a global environment variable _SMSTSLastActionRetCode={signed}",
            0,
            "executionenv.cxx:668",
        )
        add(
            "Set a global environment variable _SMSTSLastActionSucceeded=false",
            0,
            "executionenv.cxx:668",
        )
        group = next(
            (s.name for s in reversed(plan.ts_steps[:ptr]) if s.kind == "group"), ""
        )
        add(
            f"The execution of the group ({group}) has failed "
            "and the execution has been aborted. "
            "An action failed.\r\nOperation aborted (Error: 80004004; Source: Windows)",
            3,
            "engine.cxx:224",
        )
        add(
            f"Failed to run the last action: {step.name}. Execution "
            "of task sequence failed.",
            3,
            "engine.cxx:1102",
        )
        add("Task Sequence Engine failed! Code: enExecutionFail", 3, "engine.cxx:1500")
        add(
            "****************************************************************************",
            1,
            "tsmanager.cpp:1200",
        )
        return render(plan, recs)
    if all(s.end is not None for s in plan.ts_steps):
        add("Task sequence completed 0x00000000", 1, "tsmanager.cpp:1336")
        add("Start to cleanup TS policy", 0, "tsmanager.cpp:1370")
        add("End Task Sequence policy cleanup", 0, "tsmanager.cpp:1380")
    return render(plan, recs)
