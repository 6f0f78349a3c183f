"""The smsts.log message templates a task sequence is read from (docs/formats.md §2.2).

One compiled pattern per kind of line the engine writes (TSManager component),
as seen in public smsts logs ([S-ERNESTO], [S-MAXMOON] in docs/formats.md) and
Microsoft's support articles; `task_sequence` walks the records with them.
Spelling mistakes in the patterns (``exeuction``, ``Manaqer``) are Windows'.
"""

from __future__ import annotations

import re

START_NEW = re.compile(
    r"Start executing an instruction\. Instruction name: '(?P<name>.*)'\.\s+"
    r"Pointer: (?P<ptr>\d+)(?:\.\s+Type: '(?P<type>[^']*)')?"
)
START_OLD = re.compile(
    r"Start executing an instruction\. Instruction name: (?P<name>.*)\. "
    r"Instruction pointer: (?P<ptr>\d+)"
)
GROUP = re.compile(
    r"^The group \((?P<name>.*)\) has been (?:successfully )?"
    r"(?P<how>started|completed|skipped)"
)
GROUP_ABORT = re.compile(
    r"^The execution of the group \((?P<name>.*)\) has failed and the execution "
    r"has been aborted"
)
SUCCEEDED = re.compile(
    r"^Successfully completed the action \((?P<name>.*)\) with the exit win32 code "
    r"(?P<code>-?\d+)"
)
FAILED = re.compile(
    r"^Failed to run the action: (?P<name>.*?)\.\s*(?:Error (?P<err>-?\d+)\.?)?\s*$"
)
SKIPPED = re.compile(r"^The action \((?P<name>.*)\) has been skipped")
INSTR_SKIPPED = re.compile(
    r"^Execution of the instruction \((?P<name>.*)\) has been skipped"
)
PROCESS_EXIT = re.compile(r"^Process completed with exit code (?P<code>-?\d+)")
BARE_ERROR = re.compile(r"\(Error: (?P<hex>[0-9A-Fa-f]{1,8}); Source: [^)]*\)")
CMD_FAILED = re.compile(r"^Command line execution failed \((?P<hex>[0-9A-Fa-f]{1,8})\)")
OP_ABORTED = re.compile(r"^Operation aborted \(Error: (?P<hex>[0-9A-Fa-f]{1,8});")
REBOOT = re.compile(
    r"\breboot(?:ing)?\b.{0,40}?\b(?:requested|initiated)\b"
    r"|\b(?:requested|initiated)\b.{0,20}?\breboot\b"
    r"|RebootSystem\(\)"
    r"|\bSMSTSRebootRequested=\s*(?!false\b)\S",
    re.I,
)
RESUME = re.compile(
    r"^(?:Resuming Task Sequence|The task execution engine started execution"
    r"|Starting Task Sequence Engine|NextInstructionPointer: )",
    re.I,
)
ENGINE_START = re.compile(
    r"^(?:Starting Task Sequence Engine|The task execution engine started)"
)
PACKAGE = re.compile(
    r"(?:_SMSTSPackageID\s*(?:=|:|to)\s*|Executing task sequence\s+|"
    r"task sequence(?: package| ID)?[: ]\s*)'?(?P<id>[A-Z0-9]{3}[0-9A-F]{5})\b"
)
ENGINE_FAILED = re.compile(
    r"Task Sequence Engine failed!\s*Code:\s*(?P<code>\w+)", re.I
)
EXEC_FAILED = re.compile(
    r"Task sequence execution failed with error code (?:0x)?(?P<hex>[0-9A-Fa-f]{1,8})",
    re.I,
)
MANAGER_FAILED = re.compile(
    r"Task Sequence Mana[qg]er failed to execute task sequence\. Code "
    r"(?:0x)?(?P<hex>[0-9A-Fa-f]{1,8})",
    re.I,
)
LAST_ACTION = re.compile(
    r"^Failed to run the last action: (?P<name>.*?)\. Execution of task sequence failed"
)
RESULT = re.compile(r"^Execution engine result code: (?P<word>\w+) \((?P<n>-?\d+)\)")
ENGINE_OK = re.compile(r"^The task ex(?:ecu|eu)tion engine successfully completed")
TS_COMPLETED = re.compile(
    r"^Task sequence completed (?:0x)?(?P<hex>[0-9A-Fa-f]{1,8})\b"
)


# Records worth a Python look (RE2 syntax, run by Arrow over the column): the
# step, group and engine lines above, reboot markers and package ids.
WANTED = (
    r"^(?:Start executing an instruction|The group \(|The execution of the group"
    r"|Successfully completed the action|Failed to run the|The action \("
    r"|Execution of the instruction|Process completed with exit code"
    r"|Command line execution failed|Operation aborted|NextInstructionPointer: "
    r"|Execution engine result code|The task ex)"
    r"|(?i:reboot|task sequence)|_SMSTSPackageID"
)
