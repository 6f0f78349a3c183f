"""The small documents of an MDM diagnostics CAB, in the shapes of the real ones.

MDMDiagReport.xml (ReportCreationTime in UTC), MdmDiagLogMetadata.json (the
2022+ JSON shape), DiagnosticsFrameworkData.json (device zone, name, serial,
build), MdmLogCollectorFootPrint.txt and DeviceHash_<NAME>.csv (docs/formats.md
§5.1, §9.5, and §8.1 for the times and zone they carry).
"""

from __future__ import annotations

import base64
import json
import random

from .scenarios import Plan

CHANNELS = (
    "microsoft-windows-aad/operational",
    "microsoft-windows-devicemanagement-enterprise-diagnostics-provider/admin",
    "microsoft-windows-devicemanagement-enterprise-diagnostics-provider/operational",
    "microsoft-windows-moderndeployment-diagnostics-provider/autopilot",
    "microsoft-windows-moderndeployment-diagnostics-provider/managementservice",
    "microsoft-windows-user device registration/admin",
    "microsoft-windows-provisioning-diagnostics-provider/admin",
    "microsoft-windows-shell-core/operational",
)
AREAS = "deviceenrollment;deviceprovisioning;autopilot;"


def report_xml(plan: Plan) -> bytes:
    """A small MDMDiagReport.xml with the UTC ReportCreationTime anchor."""
    t = plan.collected_at
    created = t.strftime("%A, %d %B %Y--%H:%M:%S") + " (UTC)"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        "<MDMEnterpriseDiagnosticsReport>\r\n"
        "  <Version>1.0</Version>\r\n"
        "  <SystemInformation>\r\n"
        f"  <ReportCreationTime>{created}</ReportCreationTime>\r\n"
        f"  <OSVersion>10.0.{plan.build}.{plan.ubr}</OSVersion>\r\n"
        f"  <BuildBranch>{plan.build_branch}</BuildBranch>\r\n"
        f"  <SerialNumber>{plan.serial}</SerialNumber>\r\n"
        "</SystemInformation>\r\n"
        "  <Enrollments>\r\n"
        "  <Enrollment>\r\n"
        f"    <EnrollmentId>{plan.enrollment_id}</EnrollmentId>\r\n"
        "    <EnrollmentState>1</EnrollmentState>\r\n"
        "    <EnrollmentType>6</EnrollmentType>\r\n"
        "    <DiscoveryServiceFullURL>https://enrollment.manage.microsoft.com/enrollmentserver/"
        "discovery.svc</DiscoveryServiceFullURL>\r\n"
        "  </Enrollment>\r\n"
        "  </Enrollments>\r\n"
        "</MDMEnterpriseDiagnosticsReport>\r\n"
    )
    return xml.encode("utf-8")


def metadata_json(plan: Plan) -> bytes:
    """MdmDiagLogMetadata.json as the 2022+ builds write it."""
    install = int(plan.started_at.timestamp()) - 3600
    lines = [
        '  "MdmDiagVersion":"1.0"',
        f'  "AreaName" : "{AREAS}"',
        '  "BaseBuildRevisionNumber":1',
        f'  "BuildBranch":"{plan.build_branch}"',
        '  "BuildGUID":"ffffffff-ffff-ffff-ffff-ffffffffffff"',
        f'  "BuildLabEx":"{plan.build_lab_ex}"',
        '  "CompositionEditionID":"Enterprise"',
        f'  "CurrentBuild":"{plan.build}"',
        f'  "CurrentBuildNumber":"{plan.build}"',
        '  "CurrentMajorVersionNumber":10',
        '  "CurrentMinorVersionNumber":0',
        '  "EditionID":"Enterprise"',
        f'  "InstallDate":{install}',
        '  "ProductName":"Windows 10 Enterprise"',
        f'  "DisplayVersion":"{plan.display_version}"',
        '  "SystemRoot":"C:\\\\WINDOWS"',
        f'  "UBR":{plan.ubr}',
    ]
    return ("{\r\n" + ",\r\n".join(lines) + "\r\n}").encode("utf-8")


def framework_json(plan: Plan) -> bytes:
    """DiagnosticsFrameworkData.json: where the pipeline learns the device zone."""

    def item(pid: str, name: str, value: str) -> dict:
        return {"propertyId": pid, "propertyName": name, "value": value}

    doc = {
        "$schema": [
            {
                "categories": [
                    {
                        "categoryId": "General",
                        "categoryName": "General",
                        "isVisible": False,
                        "items": [
                            item("DeviceName", "Device Name", plan.device_name),
                            # the base build's BuildLabEx, as in real files
                            item("OSBuild", "OS Build", plan.build_lab_ex),
                            item("Timezone", "Time Zone", plan.tz_name),
                            item(
                                "Domain",
                                "Joined Domain",
                                "corp.contoso.com" if plan.join_method else "",
                            ),
                        ],
                    },
                    {
                        "categoryId": "Hardware",
                        "categoryName": "Hardware",
                        "isVisible": False,
                        "items": [
                            item("SerialNumber", "Serial Number", plan.serial),
                            item("ProductName", "Product Name", plan.model),
                            item("Manufacturer", "Manufacturer", plan.manufacturer),
                        ],
                    },
                ],
                "dataBindSchemaId": 1,
                "isVisible": False,
                "tabId": "configurationInfo",
                "tabName": "Configuration info",
            },
            {
                "categories": [
                    {
                        "categoryId": "EnrollmentStatus",
                        "categoryName": "Enrollment Status",
                        "events": [
                            {
                                "details": "Required warning "
                                "event data incomplete or missing.",
                                "eventId": "ESPDevicePrepPolicyProvidersInstallation",
                                "eventName": "Policy Provider Installation",
                                "finishTime": "<time not available>",
                                "isVisible": False,
                                "startTime": "<time not available>",
                                "status": 3,
                            }
                        ],
                        "isVisible": False,
                        "status": 3,
                    }
                ],
                "dataBindSchemaId": 0,
                "isVisible": False,
                "status": 2,
                "tabId": "deploymentInfoByCategory",
                "tabName": "Deployment info",
            },
        ]
    }
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def footprint(plan: Plan) -> bytes:
    """MdmLogCollectorFootPrint.txt: the tool's own log (UTC start stamp)."""
    start = plan.collected_at.strftime("%Y-%m-%dT%H:%M:%S")
    lines = [f"--- Start at:{start}", f'"AreaName" : "{AREAS}"']
    lines += [f"Collected EventViewer Entry: {c}" for c in CHANNELS]
    lines.append(f"--- {len(CHANNELS)} EventViewer entries are collected")
    lines.append(
        "Failed (HResult: 0x80070003) to CollectFileEntry:"
        "c:\\programdata\\microsoft\\dc\\hostos\\*.xml"
    )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def device_hash(plan: Plan, rng: random.Random) -> bytes:
    """DeviceHash_<NAME>.csv: header + one row, a ~4 KB base64 hardware hash."""
    blob = rng.getrandbits(2900 * 8).to_bytes(2900, "little")
    b64 = base64.b64encode(blob).decode("ascii")
    header = "Device Serial Number,Windows Product ID,Hardware Hash"
    text = f"{header}\r\n{plan.serial},,{b64}\r\n"
    return text.encode("ascii")


def ztd_file(plan: Plan) -> bytes:
    """AutopilotDDSZTDFile.json of a device whose registration failed: UTF-16LE
    with a BOM, one line (docs/formats.md §9.5, §6.6)."""
    assert plan.ztd_error is not None
    code, reason = plan.ztd_error
    text = json.dumps({"ErrorCode": code, "ErrorReason": reason}, separators=(",", ":"))
    return "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
