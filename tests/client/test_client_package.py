"""The client's packaging promises: importable with httpx alone, and a declared public API."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import openliveness
import openliveness.client as client_pkg

FORBIDDEN = ("numpy", "onnxruntime", "dlib", "fastapi", "starlette", "sqlalchemy", "pydantic", "PIL", "cv2")
# httpx and what it may pull in (some only when installed: httpx imports its CLI's click, rich and pygments
# whenever they are present); anything else new is a heavy import.
ALLOWED_THIRD_PARTY = {
    "openliveness", "httpx", "httpcore", "h11", "h2", "hpack", "hyperframe", "anyio", "sniffio", "certifi",
    "idna", "brotli", "brotlicffi", "zstandard", "socksio", "typing_extensions", "exceptiongroup", "click",
    "rich", "pygments", "markdown_it", "mdurl",
}  # fmt: skip

PROBE = """
import json, sys
before = set(sys.modules)
import openliveness.client
new = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps(new))
"""


def test_import_pulls_in_nothing_but_httpx_and_stdlib() -> None:
    src = str(Path(openliveness.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True, timeout=60
    ).stdout
    new = set(json.loads(out))
    assert {"openliveness", "httpx"} <= new  # the probe really imported the client
    assert not new & set(FORBIDDEN), f"heavy modules imported: {sorted(new & set(FORBIDDEN))}"
    unexpected = {m for m in new if m not in sys.stdlib_module_names and m not in ALLOWED_THIRD_PARTY}
    assert not unexpected, f"importing openliveness.client imported {sorted(unexpected)}"


def test_all_is_declared_and_complete() -> None:
    exported = set(client_pkg.__all__)
    assert len(exported) == len(client_pkg.__all__)
    for name in exported:
        assert hasattr(client_pkg, name), name
    public = {name for name in vars(client_pkg) if not name.startswith("_")}
    assert public - exported == set(), "public names missing from __all__"


def test_every_public_class_and_method_has_a_docstring() -> None:
    missing = []
    for name in client_pkg.__all__:
        obj = getattr(client_pkg, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or (not callable(member) and not isinstance(member, property)):
                    continue
                if not (member.__doc__ or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_sync_and_async_clients_offer_the_same_methods_and_signatures() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            n: inspect.signature(m)
            for n, m in vars(cls).items()
            if not n.startswith("_") and inspect.isfunction(m) and n not in ("close", "aclose")
        }

    sync, asynchronous = public(client_pkg.FaceSessionClient), public(client_pkg.AsyncFaceSessionClient)
    assert sync.keys() == asynchronous.keys()
    assert len(sync) == 11
    for name, signature in sync.items():
        assert [p.name for p in signature.parameters.values()] == [
            p.name for p in asynchronous[name].parameters.values()
        ]
        assert inspect.iscoroutinefunction(getattr(client_pkg.AsyncFaceSessionClient, name))
        options = [p for p in signature.parameters.values() if p.name == "timeout"]
        assert options and options[0].kind is inspect.Parameter.KEYWORD_ONLY
