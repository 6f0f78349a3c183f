"""Archive bombs built from their formats' own structures, for the budget tests.

- `nested_zip`: a 42.zip-style ZIP: 16 ZIPs of 16 ZIPs each holding four 1 GiB
  files of zeros (1 TiB in all, about 19 KB on disk). The 1 GiB deflate stream
  is computed once and stored four times.
- `mszip_cab`: a CAB (MS-CAB, docs/formats.md §5.1) of MSZIP blocks: every
  CFDATA block is ``CK`` + the raw deflate of 32 KiB of zeros, so the cabinet
  grows by ~50 bytes per 32 KiB it expands to (3.6 GB from a few MB).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

GIB = 1 << 30
_ZEROS = bytes(1 << 20)


def _deflated_zeros(size: int) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of `size` zero bytes, built in 1 MiB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts, crc = [], 0
    for _ in range(size // len(_ZEROS)):
        parts.append(packer.compress(_ZEROS))
        crc = zlib.crc32(_ZEROS, crc)
    parts.append(packer.flush())
    return b"".join(parts), crc


def _stored_deflate_zip(names: list[str], stream: bytes, crc: int, size: int) -> bytes:
    """A ZIP whose every entry is the same precomputed deflate stream."""
    out = io.BytesIO()
    central = []
    for name in names:
        offset = out.tell()
        raw = name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(stream),
                size,
                len(raw),
                0,
            )
        )
        out.write(raw + stream)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(stream),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
    start = out.tell()
    body = b"".join(central)
    out.write(body)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(body), start, 0
        )
    )
    return out.getvalue()


def _zip_of(copies: int, inner: bytes, stem: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for n in range(copies):
            z.writestr(f"{stem}{n:02d}.zip", inner)
    return buffer.getvalue()


def nested_zip(fan_out: int = 16, files: int = 4, file_size: int = GIB) -> bytes:
    """42.zip's shape: fan_out ZIPs of fan_out ZIPs of `files` files of zeros."""
    stream, crc = _deflated_zeros(file_size)
    bottom = _stored_deflate_zip(
        [f"zeros{n}.bin" for n in range(files)], stream, crc, file_size
    )
    return _zip_of(fan_out, _zip_of(fan_out, bottom, "b"), "a")


def mszip_cab(
    total: int = 3_600_000_000, name: str = "zeros.bin", per_folder: int = 55_000
) -> bytes:
    """A CAB whose files expand to `total` zero bytes.

    One file per folder of `per_folder` 32 KiB blocks (55,000: 1.8 GB files;
    8,192: files of exactly 256 MiB, each within a member limit of 256 MB).
    """
    block = 32768
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = b"CK" + packer.compress(bytes(block)) + packer.flush()
    cfdata = struct.pack("<IHH", 0, len(payload), block) + payload
    blocks = -(-total // block)
    folders = [min(per_folder, blocks - i) for i in range(0, blocks, per_folder)]
    names = [f"{n}-{name}".encode() + b"\0" for n in range(len(folders))]
    header_size = 36 + 8 * len(folders)
    files_size = sum(16 + len(n) for n in names)
    offset = header_size + files_size
    cffolders, cffiles = [], []
    for index, count in enumerate(folders):
        cffolders.append(struct.pack("<IHH", offset, count, 1))  # 1 = MSZIP
        offset += count * len(cfdata)
        size = count * block
        cffiles.append(
            struct.pack("<IIHHHH", size, 0, index, 0x5B21, 0x5000, 0x20) + names[index]
        )
    header = b"MSCF" + struct.pack(
        "<IIIIIBBHHHHH",
        0,
        offset,
        0,
        header_size,
        0,
        3,
        1,
        len(folders),
        len(folders),
        0,
        1,
        0,
    )
    return b"".join([header, *cffolders, *cffiles, cfdata * sum(folders)])
