"""Generate the protobuf and gRPC code of proto/assignment/v1 into libs/api.

protoc names imports after the proto package (`from assignment.v1 import ...`);
the generated files live under the `assignment_engine.api` import root instead, so
the imports are rewritten. With --check, nothing is written and the exit status is
1 when the committed code differs from what the protos generate.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = ROOT / "libs/api/src/assignment_engine/api"
GENERATED_DIR = PACKAGE_DIR / "v1"
IMPORT_PATTERN = re.compile(r"^(from|import) assignment\.v1", re.MULTILINE)


def generate(out_dir: Path) -> None:
    import grpc_tools

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--plugin=protoc-gen-mypy_grpc={Path(sys.executable).parent / 'protoc-gen-mypy_grpc'}",
        f"--mypy_grpc_out={out_dir}",
        *protos,
    ]
    subprocess.run(command, check=True, cwd=PROTO_ROOT)
    generated = out_dir / "assignment" / "v1"
    for path in generated.iterdir():
        text = IMPORT_PATTERN.sub(r"\1 assignment_engine.api.v1", path.read_text())
        path.write_text(text)
    (generated / "__init__.py").write_text(
        '"""Generated from proto/assignment/v1; do not edit."""\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out)
        fresh = out / "assignment" / "v1"
        if args.check:
            comparison = filecmp.dircmp(fresh, GENERATED_DIR, ignore=["__pycache__"])
            stale = comparison.diff_files + comparison.left_only + comparison.right_only
            if stale:
                print(f"generated code is stale: {sorted(stale)}; run `make proto`")
                return 1
            return 0
        if GENERATED_DIR.exists():
            shutil.rmtree(GENERATED_DIR)
        shutil.copytree(fresh, GENERATED_DIR)
        (PACKAGE_DIR / "__init__.py").unlink(missing_ok=True)
    print(f"wrote {GENERATED_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
