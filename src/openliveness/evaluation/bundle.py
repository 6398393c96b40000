"""The capture bundle: one recorded attempt (challenge, frames and their metadata, label) as a folder or a .zip.

Layout (see docs/evaluation.md): `challenge.json`, `metadata.json` (`{"frames": [{"timestampMs", "stepIndex"}]}`),
`label.json` (`{"label": "bona_fide" | "print" | "replay" | "mask" | "injection" | "other", ...}`) and
`frame_000.jpg` ... one JPEG per metadata entry. Bundles are untrusted input: every read has a limit.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openliveness.liveness import Capture, CaptureFrame, Challenge
from openliveness.vision import FRAME_LIMITS, decode_image

from .metrics import ATTACK_SPECIES, BONA_FIDE

__all__ = [
    "LABELS",
    "Bundle",
    "BundleError",
    "BundleLimits",
    "BundleMeta",
    "FrameMeta",
    "Label",
    "find_bundles",
    "iter_bundles",
    "read_bundle",
    "read_bundle_meta",
    "write_bundle",
]

LABELS: tuple[str, ...] = (BONA_FIDE, *ATTACK_SPECIES)
_FRAME_NAME = re.compile(r"frame_(\d{3,4})\.jpg")


class BundleError(ValueError):
    """A bundle that cannot be read: the message names the bundle and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class BundleLimits:
    max_frames: int = 90
    max_frame_bytes: int = 2 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    max_total_bytes: int = 128 * 1024 * 1024
    max_zip_members: int = 200


@dataclass(frozen=True, slots=True)
class FrameMeta:
    timestamp_ms: float
    step_index: int | None


@dataclass(frozen=True, slots=True)
class Label:
    """`label` is `bona_fide` or an attack species; `source` and `conditions` are free-form notes (where the
    capture came from, the instrument, the room) carried into the report."""

    label: str
    source: str = ""
    conditions: dict[str, Any] = field(default_factory=dict)

    @property
    def is_attack(self) -> bool:
        return self.label != BONA_FIDE

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "source": self.source, "conditions": self.conditions}

    @classmethod
    def from_json(cls, data: Any) -> Label:
        if not isinstance(data, dict) or not isinstance(data.get("label"), str):
            raise ValueError('label.json must be an object with a string "label"')
        if data["label"] not in LABELS:
            raise ValueError(f"label {data['label']!r} is not one of {', '.join(LABELS)}")
        source = data.get("source", "")
        conditions = data.get("conditions", {})
        if not isinstance(source, str) or not isinstance(conditions, dict):
            raise ValueError('label.json: "source" must be a string and "conditions" an object')
        return cls(label=data["label"], source=source, conditions=conditions)


@dataclass(frozen=True, slots=True)
class BundleMeta:
    """A bundle without its frames' pixels: enough to list a dataset."""

    name: str
    challenge: Challenge
    label: Label
    frames: tuple[FrameMeta, ...]


@dataclass(frozen=True, slots=True)
class Bundle:
    name: str
    challenge: Challenge
    label: Label
    frames: tuple[FrameMeta, ...]
    jpegs: tuple[bytes, ...]

    def to_capture(self) -> Capture:
        """Decode the JPEGs (with the API's frame limits) into the engine's `Capture`."""
        images = []
        for index, data in enumerate(self.jpegs):
            try:
                images.append(decode_image(data, FRAME_LIMITS))
            except Exception as exc:  # the decoder's own errors say what is wrong with the pixels
                raise BundleError(f"{self.name}: frame_{index:03d}.jpg: {exc}") from exc
        return Capture(
            frames=tuple(
                CaptureFrame(image=image, timestamp_ms=m.timestamp_ms, step_index=m.step_index)
                for image, m in zip(images, self.frames, strict=True)
            )
        )


class _Source:
    """Reads members of a folder or a zip with size limits; names are looked up, never joined from input."""

    def __init__(self, path: Path, limits: BundleLimits) -> None:
        self.path = path
        self.limits = limits
        self.total = 0
        self.zip: zipfile.ZipFile | None = None
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise BundleError(f"{path}: not a readable zip file ({exc})") from exc
            infos = self.zip.infolist()
            if len(infos) > limits.max_zip_members:
                raise BundleError(f"{path}: {len(infos)} members, more than {limits.max_zip_members}")
            # Members may sit at the root or in one top-level folder (zipping a folder does that).
            self.members = {Path(i.filename).name: i for i in infos if not i.is_dir()}
        elif not path.is_dir():
            raise BundleError(f"{path}: no such bundle (a folder or a .zip)")

    def names(self) -> list[str]:
        if self.zip is not None:
            return list(self.members)
        return [p.name for p in self.path.iterdir() if p.is_file()]

    def read(self, name: str, limit: int) -> bytes:
        if self.zip is not None:
            info = self.members.get(name)
            if info is None:
                raise BundleError(f"{self.path}: {name} is missing")
            if info.file_size > limit:
                raise BundleError(f"{self.path}: {name} is {info.file_size} bytes, more than {limit} bytes")
            with self.zip.open(info) as fh:
                data = fh.read(limit + 1)  # the header's size is the sender's claim: read no more than allowed
        else:
            file = self.path / name
            if not file.is_file():
                raise BundleError(f"{self.path}: {name} is missing")
            with file.open("rb") as fh:
                data = fh.read(limit + 1)
        if len(data) > limit:
            raise BundleError(f"{self.path}: {name} is more than {limit} bytes")
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            raise BundleError(f"{self.path}: more than {self.limits.max_total_bytes} bytes in all")
        return data

    def json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name, self.limits.max_json_bytes))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(f"{self.path}: {name} is not valid JSON ({exc})") from exc

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _bundle_name(path: Path) -> str:
    return path.stem if path.suffix.lower() == ".zip" else path.name


def _read_meta(src: _Source, path: Path) -> BundleMeta:
    try:
        challenge = Challenge.from_json(src.json("challenge.json"))
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(f"{path}: challenge.json is not a valid challenge ({exc!r})") from exc
    try:
        label = Label.from_json(src.json("label.json"))
    except ValueError as exc:
        if isinstance(exc, BundleError):
            raise
        raise BundleError(f"{path}: {exc}") from exc
    meta = src.json("metadata.json")
    entries = meta.get("frames") if isinstance(meta, dict) else None
    if not isinstance(entries, list):
        raise BundleError(f'{path}: metadata.json must be an object with a "frames" list')
    if not entries:
        raise BundleError(f"{path}: metadata.json lists no frames")
    if len(entries) > src.limits.max_frames:
        raise BundleError(f"{path}: {len(entries)} frames, more than {src.limits.max_frames}")
    frames = []
    for i, e in enumerate(entries):
        t = e.get("timestampMs") if isinstance(e, dict) else None
        step = e.get("stepIndex") if isinstance(e, dict) else None
        if isinstance(t, bool) or not isinstance(t, (int, float)) or (step is not None and type(step) is not int):
            raise BundleError(
                f"{path}: metadata.json frame {i} needs a number timestampMs and an integer or null stepIndex"
            )
        frames.append(FrameMeta(float(t), step))
    return BundleMeta(name=_bundle_name(path), challenge=challenge, label=label, frames=tuple(frames))


def read_bundle_meta(path: Path, limits: BundleLimits | None = None) -> BundleMeta:
    src = _Source(path, limits or BundleLimits())
    try:
        return _read_meta(src, path)
    finally:
        src.close()


def read_bundle(path: Path, limits: BundleLimits | None = None) -> Bundle:
    """Read and check one bundle (its JPEGs stay encoded; `Bundle.to_capture()` decodes them).
    Raises `BundleError` saying what is wrong."""
    limits = limits or BundleLimits()
    src = _Source(path, limits)
    try:
        meta = _read_meta(src, path)
        expected = {f"frame_{i:03d}.jpg" for i in range(len(meta.frames))}
        present = {n for n in src.names() if _FRAME_NAME.fullmatch(n)}
        if present != expected:
            missing = sorted(expected - present)[:3]
            extra = sorted(present - expected)[:3]
            raise BundleError(
                f"{path}: metadata.json lists {len(meta.frames)} frames but the bundle holds {len(present)} frame files"
                + (f" (missing {', '.join(missing)})" if missing else "")
                + (f" (unexpected {', '.join(extra)})" if extra else "")
            )
        jpegs = tuple(src.read(f"frame_{i:03d}.jpg", limits.max_frame_bytes) for i in range(len(meta.frames)))
    finally:
        src.close()
    return Bundle(name=meta.name, challenge=meta.challenge, label=meta.label, frames=meta.frames, jpegs=jpegs)


def _metadata_json(frames: tuple[FrameMeta, ...]) -> dict[str, Any]:
    return {"frames": [{"timestampMs": f.timestamp_ms, "stepIndex": f.step_index} for f in frames]}


def write_bundle(bundle: Bundle, path: Path) -> Path:
    """Write `bundle` as a folder, or as a zip when `path` ends in .zip. Returns `path`."""
    if len(bundle.jpegs) != len(bundle.frames):
        raise BundleError(f"{bundle.name}: {len(bundle.jpegs)} JPEGs for {len(bundle.frames)} frame entries")
    files: dict[str, bytes] = {
        "challenge.json": json.dumps(bundle.challenge.to_json(), indent=1).encode(),
        "metadata.json": json.dumps(_metadata_json(bundle.frames), indent=1).encode(),
        "label.json": json.dumps(bundle.label.to_json(), indent=1).encode(),
    }
    files.update({f"frame_{i:03d}.jpg": data for i, data in enumerate(bundle.jpegs)})
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        # JPEGs do not compress: store them, deflate the JSON.
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in files.items():
                kind = zipfile.ZIP_STORED if name.endswith(".jpg") else zipfile.ZIP_DEFLATED
                zf.writestr(name, data, compress_type=kind)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (path / name).write_bytes(data)
    return path


def find_bundles(dataset: Path) -> list[Path]:
    """Bundles in a dataset folder (at any depth): folders holding `challenge.json`, and `.zip` files. Sorted."""
    if not dataset.is_dir():
        raise BundleError(f"{dataset}: not a folder")
    found = {p.parent for p in dataset.rglob("challenge.json")}
    found.update(p for p in dataset.rglob("*") if p.suffix.lower() == ".zip" and p.is_file())
    return sorted(found)


def iter_bundles(dataset: Path, limits: BundleLimits | None = None) -> Iterator[Bundle]:
    for path in find_bundles(dataset):
        yield read_bundle(path, limits)
