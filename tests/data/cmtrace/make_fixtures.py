"""Writes the CMTrace / SMS-trace fixtures in this folder (see README.md).

Every line is composed here from the grammar in docs/formats.md §1; nothing is
copied from a real log. Run: python tests/data/cmtrace/make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def ccm(
    msg: str,
    time: str,
    date: str,
    comp: str,
    typ: str = "1",
    thread: str = "4120",
    file: str = "ccmsetup.cpp:100",
) -> str:
    return (
        f'<![LOG[{msg}]LOG]!><time="{time}" date="{date}" component="{comp}" '
        f'context="" type="{typ}" thread="{thread}" file="{file}">'
    )


def main() -> None:
    # 1. Modern SMS-trace server log (docs/formats.md §1.5), CRLF, `~~  $$<` tails.
    lines = [
        "SMS_HIERARCHY_MANAGER started.~~  $$<SMS_HIERARCHY_MANAGER><07-15-2023 "
        "09:12:45.332+240><thread=4116 (0x1014)>",
        "Processing site control file: Site SC1~~  $$<SMS_HIERARCHY_MANAGER>"
        "<07-15-2023 09:12:46.001+240><thread=4116 (0x1014)>",
        'STATMSG: ID=3306 SEV=I LEV=M SOURCE="SMS Server" COMP="SMS_HIERARCHY_MANAGER"'
        "~~  $$<SMS_HIERARCHY_MANAGER><07-15-2023 09:12:46.010+240><thread=4116 (0x1014)>",
        "CMG connection point: connected to 2 instances~~  $$<CMGService><06-24-2020 "
        "15:31:46.376+00><thread=4992 (0x1380)>",
        "Summarizing site system status~  $$<SMS_SITE_SYSTEM_STATUS_SUMMARIZER>"
        "<12-06-2016 03:11:46.039+300><thread=4840 (0x12E8)>",
    ]
    (HERE / "sms_trace_server_modern.log").write_bytes(
        ("\r\n".join(lines) + "\r\n").encode()
    )

    # 2. A task sequence crossing the US spring-forward (2025-03-09 02:00 PST):
    #    the bias changes from +480 to +420 inside the file (docs/formats.md §1.2).
    recs = [
        ccm(
            "Executing command line: cmd.exe /c step1",
            "01:59:58.500+480",
            "03-09-2025",
            "TSManager",
            thread="2212",
            file="commandline.cpp:1123",
        ),
        ccm(
            "Process completed with exit code 0",
            "01:59:59.900+480",
            "03-09-2025",
            "TSManager",
            thread="2212",
            file="commandline.cpp:1124",
        ),
        ccm(
            "Start executing an instruction. Instruction name: step2. "
            "Instruction pointer: 4",
            "03:00:00.100+420",
            "03-09-2025",
            "TSManager",
            thread="2212",
            file="engine.cxx:1",
        ),
        ccm(
            "Failed to run the action: step2.\r\nThe system cannot find the file "
            "specified. (Error: 80070002; Source: Windows)",
            "03:00:01.250+420",
            "03-09-2025",
            "TSManager",
            typ="3",
            thread="2212",
            file="engine.cxx:2",
        ),
    ]
    (HERE / "dst_crossing_us.log").write_bytes(
        b"\xef\xbb\xbf" + ("\r\n".join(recs) + "\r\n").encode()
    )

    # 3. IME lines: 7-digit fractions, no bias, unpadded dates (docs/formats.md §9.1).
    recs = [
        ccm(
            "[Win32App] ExecManager: processing targeted app",
            "9:05:01.1234567",
            "4-2-2024",
            "IntuneManagementExtension",
            thread="14",
            file="",
        ),
        ccm(
            "[Win32App] app installed, exit code 0",
            "21:59:59.9999999",
            "4-2-2024",
            "AppWorkload",
            thread="14",
            file="",
        ),
        # 01:30 on 2024-10-27 happens twice in Asia/Jerusalem (DST ends at 02:00).
        ccm(
            "Agent heartbeat",
            "01:30:00.0000000",
            "10-27-2024",
            "AgentExecutor",
            thread="",
            file="",
        ),
    ]
    (HERE / "ime_7digit_nobias.log").write_bytes(
        b"\xef\xbb\xbf" + ("\r\n".join(recs) + "\r\n").encode()
    )

    # 4. Rollover pair split in the middle of a message (docs/formats.md §1.7).
    recs = [
        ccm(
            "==========[ ccmsetup started in process 10168 ]==========",
            "13:28:46.510+480",
            "01-13-2023",
            "ccmsetup",
        ),
        ccm(
            "Running on 'Microsoft Windows 11 Enterprise' (10.0.22631). "
            "Service Pack (0.0). SuiteMask = 272. Product Type = 1",
            "13:28:46.525+480",
            "01-13-2023",
            "ccmsetup",
        ),
        ccm(
            "CcmSetup is exiting with return code 0",
            "13:29:10.001+480",
            "01-13-2023",
            "ccmsetup",
            file="ccmsetup.cpp:11180",
        ),
    ]
    text = "\r\n".join(recs) + "\r\n"
    cut = text.index("Service Pack")
    rollover = HERE / "rollover"
    (rollover / "ccmsetup.lo_").write_bytes(b"\xef\xbb\xbf" + text[:cut].encode())
    (rollover / "ccmsetup.log").write_bytes(b"\xef\xbb\xbf" + text[cut:].encode())
    # Dated IME history cut inside the attribute block of a record.
    recs = [
        ccm(
            "[Win32App] Downloading content",
            "16:13:02.0000001",
            "4-2-2024",
            "AppWorkload",
            thread="9",
            file="",
        ),
        ccm(
            "[Win32App] Download done",
            "16:13:04.5000000",
            "4-2-2024",
            "AppWorkload",
            thread="9",
            file="",
        ),
    ]
    text = "\r\n".join(recs) + "\r\n"
    cut = text.index('component="AppWorkload"', len(recs[0]))
    (rollover / "AppWorkload-20240402-161304.log").write_bytes(text[:cut].encode())
    (rollover / "AppWorkload.log").write_bytes(text[cut:].encode())

    # 5. NUL padding after the records (pre-allocated file; docs/formats.md §9.1).
    recs = [
        ccm(f"Padding test {i}", f"10:00:0{i}.000+300", "10-18-2019", "CcmExec")
        for i in range(3)
    ]
    (HERE / "nul_padding.log").write_bytes(
        ("\r\n".join(recs) + "\r\n").encode() + b"\x00" * 2048
    )

    # 6. Lone CR inside a message (console progress output).
    recs = [
        ccm(
            "  Console > \r    0 percent completed\r  100 percent completed",
            "16:52:13.000+480",
            "02-07-2024",
            "OSDApplyOS",
            thread="1200",
        ),
        ccm(
            "Apply done", "16:52:14.000+480", "02-07-2024", "OSDApplyOS", thread="1200"
        ),
    ]
    (HERE / "lone_cr.log").write_bytes(("\r\n".join(recs) + "\r\n").encode())

    # 7. UTF-16LE with BOM (Out-File on Windows PowerShell 5.1, docs/formats.md §1.6).
    recs = [
        ccm(
            "Utilisateur connecté: ÄÖÜ ✓",
            "08:15:00.250-60",
            "09-14-2023",
            "Custom Writer",
            thread="77",
            file="",
        ),
        ccm(
            "Second line",
            "08:15:01.000-60",
            "09-14-2023",
            "Custom.Writer",
            typ="",
            thread="77",
            file="",
        ),
    ]
    (HERE / "utf16le_bom.log").write_bytes(
        b"\xff\xfe" + ("\r\n".join(recs) + "\r\n").encode("utf-16-le")
    )

    # 8. cp1252 bytes (ANSI writer): curly quotes, euro sign, e-acute.
    recs = [
        ccm(
            "Caf\u00e9 \u201cquoted\u201d \u20ac5",
            "11:00:00.000+000",
            "05-05-2022",
            "ThirdParty",
            thread="5",
            file="",
        ),
    ]
    (HERE / "cp1252.log").write_bytes(("\r\n".join(recs) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
