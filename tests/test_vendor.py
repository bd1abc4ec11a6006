"""The vendored front-end files are exactly the ones recorded in static/vendor/VENDOR.md."""

import base64
import hashlib
import re
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
VENDOR_MD = VENDOR_DIR / "VENDOR.md"

# The JS in static/js/tovholder.js is written against these release lines.
EXPECTED_VERSION_PREFIX = {"htmx.org": "4.0.", "socket.io-client": "4.8."}
COLUMNS = ["file", "package", "version", "path in tarball", "npm tarball integrity"]


def _rows() -> list[dict[str, str]]:
    lines = [ln.strip() for ln in VENDOR_MD.read_text(encoding="utf-8").splitlines()]
    table = [ln for ln in lines if ln.startswith("|") and ln.endswith("|")]
    assert len(table) >= 3, "VENDOR.md has no table"
    header = [c.strip() for c in table[0].strip("|").split("|")]
    rows = []
    for line in table[2:]:  # skip the header and the | --- | line
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        assert len(cells) == len(header), f"malformed row: {line}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _sri_sha384(path: Path) -> str:
    digest = hashlib.sha384(path.read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")


def test_vendored_files_match_their_recorded_checksums() -> None:
    rows = _rows()
    sha_column = next(c for c in rows[0] if c.startswith("file SHA-384"))
    for column in COLUMNS:
        assert column in rows[0], f"VENDOR.md table lacks column {column!r}"
    files = {row["file"] for row in rows}
    assert {"htmx.min.js", "socket.io.min.js"} <= files
    for row in rows:
        path = VENDOR_DIR / row["file"]
        assert path.is_file(), f"{row['file']} is listed in VENDOR.md but missing"
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]+={0,2}", row["npm tarball integrity"])
        assert _sri_sha384(path) == row[sha_column], f"{row['file']} differs from VENDOR.md"


def test_vendored_versions_are_the_supported_release_lines() -> None:
    rows = _rows()
    packages = {row["package"] for row in rows}
    assert set(EXPECTED_VERSION_PREFIX) <= packages
    for row in rows:
        prefix = EXPECTED_VERSION_PREFIX.get(row["package"])
        assert prefix is not None, f"unexpected package {row['package']!r}"
        assert re.fullmatch(r"\d+\.\d+\.\d+", row["version"]), row["version"]
        assert row["version"].startswith(prefix), f"{row['package']} {row['version']}"
    # The files themselves carry their version.
    htmx = (VENDOR_DIR / "htmx.min.js").read_text(encoding="utf-8")
    sio = (VENDOR_DIR / "socket.io.min.js").read_text(encoding="utf-8")
    htmx_version = next(r["version"] for r in rows if r["package"] == "htmx.org")
    sio_version = next(r["version"] for r in rows if r["package"] == "socket.io-client")
    assert f'version="{htmx_version}"' in htmx
    assert f"Socket.IO v{sio_version}" in sio
