"""End to end through the CLI: simulated bundles -> `openliveness eval --json`; real photos -> `eval-verify`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openliveness.cli import main

SHARED_PIVOT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "verification" / "deepface"


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1, "--json prints one JSON object and nothing else"
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_eval_on_simulated_bundles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = tmp_path / "ds"
    assert main(["simulate", "--dataset", str(dataset), "--count", "4", "--species-mix", "bona_fide,print"]) == 0
    assert (
        main(
            [
                "simulate",
                "--dataset",
                str(dataset / "zips"),
                "--count",
                "1",
                "--seed",
                "7",
                "--species-mix",
                "replay",
                "--zip",
            ]
        )
        == 0
    )
    (dataset / "broken").mkdir()
    (dataset / "broken" / "challenge.json").write_text("{}")
    capsys.readouterr()
    out = tmp_path / "report"
    js = run_json(capsys, ["eval", str(dataset), "--out", str(out), "--json", "--jobs", "1", "--no-progress"])
    assert js["bundles"] == 6 and js["unreadable_bundles"] == 1
    assert js["bona_fide"] == 2 and js["attacks"] == 3
    apcer = js["apcer"]
    assert isinstance(apcer, dict) and set(apcer) == {"print", "replay"}
    assert apcer["print"]["total"] == 2 and apcer["replay"]["total"] == 1
    for key in ("bpcer", "acer", "accuracy", "false_accepts", "uncertain_share", "apcer_max", "bpcer_at_apcer"):
        assert key in js
    for name in ("report.html", "bundles.csv", "det.png", "scores.png", "decisions.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    with (out / "bundles.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and sum(1 for r in rows if r["error"]) == 1
    assert all(r["decision"] in ("realface", "spoofface", "uncertain") for r in rows if not r["error"])
    html = (out / "report.html").read_text()
    assert "challenge.json is not a valid challenge" in html
    # Species with no sample are named, so an APCER of 0 % over print and replay is not read as full protection.
    assert "No samples of: " in html and "injection" in html.split("No samples of: ")[1].split("</p>")[0]


def test_eval_on_an_empty_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "no bundles" in capsys.readouterr().err


def test_eval_verify_on_real_photos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matplotlib import cbook
    from skimage import data

    astronaut = data.astronaut()
    Image.fromarray(astronaut).save(tmp_path / "astronaut.png")
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(tmp_path / "astronaut_mirrored.png")
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        im.convert("RGB").save(tmp_path / "grace.jpg")
        im.convert("RGB").resize((im.width // 2, im.height // 2)).save(tmp_path / "grace_small.jpg")
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text(
        "file_x,file_y,decision\n"
        "astronaut.png,astronaut_mirrored.png,Yes\n"
        f"{tmp_path / 'grace.jpg'},somewhere/else/grace_small.jpg,Yes\n"  # absolute; base-name fallback
        "astronaut.png,grace.jpg,No\n"
        "astronaut_mirrored.png,grace_small.jpg,No\n"
    )
    out = tmp_path / "report"
    js = run_json(capsys, ["eval-verify", str(csv_path), "--out", str(out), "--json"])
    assert js["pairs"] == 4 and js["genuine_pairs"] == 2 and js["impostor_pairs"] == 2
    assert js["false_accepts"] == 0 and js["accuracy"] == 1.0 and js["eer"] == 0.0
    for name in ("report.html", "pairs.csv", "roc.png", "scores.png", "summary.json"):
        assert (out / name).stat().st_size > 0, name


def test_eval_verify_refuses_a_csv_without_the_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.csv").write_text("a,b\n1,2\n")
    assert main(["eval-verify", str(tmp_path / "p.csv")]) == 2
    assert "needs the columns file_x, file_y, decision" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED_PIVOT / "face-recognition-pivot.csv").is_file(), reason="../shared/data absent")
def test_eval_verify_on_shared_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 20 same-person and 20 different-people pairs (the full 280 run in bench/verify_accuracy.py), absolute paths.
    with (SHARED_PIVOT / "face-recognition-pivot.csv").open() as fh:
        every = list(csv.DictReader(fh))
    rows = [r for r in every if r["decision"] == "Yes"][:20] + [r for r in every if r["decision"] == "No"][:20]
    with (tmp_path / "pairs.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file_x", "file_y", "decision"])
        for r in rows:
            w.writerow([SHARED_PIVOT / Path(r["file_x"]).name, SHARED_PIVOT / Path(r["file_y"]).name, r["decision"]])
    js = run_json(capsys, ["eval-verify", str(tmp_path / "pairs.csv"), "--out", str(tmp_path / "r"), "--json"])
    assert js["pairs"] == 40 and js["pairs_without_face"] == 0
    assert js["genuine_pairs"] == 20 and js["impostor_pairs"] == 20
    assert isinstance(js["accuracy"], float) and js["accuracy"] >= 0.9
