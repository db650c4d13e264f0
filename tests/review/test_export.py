"""manage.py export_drawings: what training and Quick, Draw! tools read."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guessgame.game.models import Drawing
from guessgame.review import export, services
from tests.factories import DrawingFactory

pytestmark = pytest.mark.django_db


def run_export(out, *args) -> str:
    from io import StringIO

    stdout = StringIO()
    call_command("export_drawings", "--out", str(out), *args, stdout=stdout, stderr=StringIO())
    return stdout.getvalue()


@pytest.fixture
def reviewed(staff):
    """Two approved, one relabelled 3 -> 8, one rejected, one unreviewed, one blank."""
    approved = DrawingFactory.create_batch(2, label=1)
    services.review_approve(drawings=approved, reviewer=staff)
    relabelled = DrawingFactory(label=3, drawn_digit=8, wrong=True)
    services.review_relabel(drawings=[relabelled], label=8, reviewer=staff)
    rejected = DrawingFactory(label=5)
    services.review_reject(drawings=[rejected], reviewer=staff)
    unreviewed = DrawingFactory(label=7)
    blank = DrawingFactory(label=2, blank=True, strokes=[], pixels=bytes(784))
    return {
        "approved": approved,
        "relabelled": relabelled,
        "rejected": rejected,
        "unreviewed": unreviewed,
        "blank": blank,
    }


def test_the_npz_holds_images_labels_ids_and_metadata(tmp_path, reviewed):
    output = run_export(tmp_path)

    from training.data import load_player_drawings

    with np.load(tmp_path / "drawings.npz", allow_pickle=False) as archive:
        ids = archive["ids"]
        assert archive["images"].shape == (4, 28, 28)
        assert archive["images"].dtype == np.uint8
        assert archive["labels"].dtype == np.int64
        expected = [*reviewed["approved"], reviewed["relabelled"], reviewed["unreviewed"]]
        assert ids.tolist() == [d.pk for d in expected]
        assert archive["labels"].tolist() == [1, 1, 8, 7]
        assert archive["original_labels"].tolist() == [1, 1, 3, 7]
        assert archive["review_statuses"].tolist() == [
            "approved",
            "approved",
            "relabelled",
            "unreviewed",
        ]
        first = Drawing.objects.get(pk=ids[0])
        assert archive["images"][0].tobytes() == bytes(first.pixels)
        for key in export.METADATA:
            assert len(archive[key]) == 4, key
    split = load_player_drawings(tmp_path / "drawings.npz")
    assert len(split) == 4
    assert "Exported 4 drawings" in output


def test_rejected_and_blank_drawings_are_never_exported(tmp_path, reviewed):
    run_export(tmp_path, "--format", "all")

    with np.load(tmp_path / "drawings.npz") as archive:
        ids = set(archive["ids"].tolist())
    assert reviewed["rejected"].pk not in ids
    assert reviewed["blank"].pk not in ids
    keys = {json.loads(line)["key_id"] for line in (tmp_path / "drawings.ndjson").open()}
    assert str(reviewed["rejected"].pk) not in keys


def test_asking_for_rejected_drawings_is_refused(tmp_path, reviewed):
    with pytest.raises(CommandError, match="never exported"):
        run_export(tmp_path, "--status", "approved,rejected")
    assert not (tmp_path / "drawings.npz").exists()


def test_statuses_and_dates_narrow_the_export(tmp_path, reviewed, staff):
    old = DrawingFactory(label=4, created_at=timezone.now() - timedelta(days=10))
    services.review_approve(drawings=[old], reviewer=staff)

    run_export(tmp_path / "a", "--status", "approved", "--status", "relabelled")
    with np.load(tmp_path / "a" / "drawings.npz") as archive:
        assert set(archive["review_statuses"].tolist()) == {"approved", "relabelled"}
        assert old.pk in archive["ids"]

    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    run_export(tmp_path / "b", "--since", since)
    with np.load(tmp_path / "b" / "drawings.npz") as archive:
        assert old.pk not in archive["ids"]
        assert len(archive["ids"]) == 4

    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    run_export(tmp_path / "c", "--until", until)
    with np.load(tmp_path / "c" / "drawings.npz") as archive:
        assert archive["ids"].tolist() == [old.pk]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "yesterday"], "YYYY-MM-DD"),
        (["--since", "2030-01-02", "--until", "2030-01-01"], "after"),
        (["--status", "maybe"], "Unknown review status"),
    ],
)
def test_bad_options_get_a_sentence(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        run_export(tmp_path, *args)


def test_the_ndjson_is_quickdraw_raw_format(tmp_path, reviewed):
    run_export(tmp_path, "--format", "ndjson")

    lines = (tmp_path / "drawings.ndjson").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    relabelled = next(r for r in records if r["key_id"] == str(reviewed["relabelled"].pk))
    assert set(relabelled) == {
        "key_id",
        "word",
        "recognized",
        "timestamp",
        "countrycode",
        "drawing",
        "not_digit",
    }
    assert relabelled["word"] == "8" and relabelled["not_digit"] is False
    assert relabelled["recognized"] is False  # guessed 4 for an 8
    assert relabelled["countrycode"] == ""
    assert relabelled["timestamp"].endswith(" UTC")
    for stroke in relabelled["drawing"]:
        xs, ys, ts = stroke
        assert len(xs) == len(ys) == len(ts) > 0
        assert all(isinstance(t, int) for t in ts)
        assert ts == sorted(ts)
    assert relabelled["drawing"] == reviewed["relabelled"].strokes
    approved = next(r for r in records if r["key_id"] == str(reviewed["approved"][0].pk))
    assert approved["recognized"] is True
    assert (tmp_path / "drawings.npz").exists(), "the NPZ is always written"


def test_beside_the_raw_ndjson_is_quickdraws_simplified_format(tmp_path, reviewed):
    run_export(tmp_path, "--format", "ndjson")

    raw = [json.loads(line) for line in (tmp_path / "drawings.ndjson").open()]
    simplified = [json.loads(line) for line in (tmp_path / "drawings_simplified.ndjson").open()]
    assert [r["key_id"] for r in simplified] == [r["key_id"] for r in raw]
    for record in simplified:
        assert set(record) == {*raw[0]}
        xs = [x for stroke in record["drawing"] for x in stroke[0]]
        ys = [y for stroke in record["drawing"] for y in stroke[1]]
        assert all(len(stroke) == 2 for stroke in record["drawing"]), "no times"
        assert all(isinstance(v, int) for v in xs + ys)
        assert min(xs) == 0 and min(ys) == 0 and max(max(xs), max(ys)) == 255


def test_pngs_come_with_a_manifest(tmp_path, reviewed):
    run_export(tmp_path, "--format", "png")

    with (tmp_path / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    relabelled = next(r for r in rows if int(r["id"]) == reviewed["relabelled"].pk)
    assert (relabelled["label"], relabelled["original_label"]) == ("8", "3")
    from PIL import Image

    image = Image.open(tmp_path / relabelled["path"])
    assert image.size == (28, 28)
    assert np.asarray(image).tobytes() == bytes(reviewed["relabelled"].pixels)
    assert relabelled["path"].startswith("png/8/")
    assert (tmp_path / "drawings.npz").exists(), "the NPZ is always written"
    assert not (tmp_path / "drawings.ndjson").exists()


@pytest.mark.parametrize(
    "args", [["--format", "png,ndjson"], ["--format", "png", "--format", "ndjson"]]
)
def test_pngs_and_ndjson_are_added_to_the_npz_together(tmp_path, reviewed, args):
    output = run_export(tmp_path, *args)

    for name in ("drawings.npz", "manifest.csv", "drawings.ndjson"):
        assert (tmp_path / name).exists(), name
    assert len(list((tmp_path / "png").rglob("*.png"))) == 4
    assert "(npz, png, ndjson)" in output


def test_an_unknown_format_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(CommandError, match="Unknown format csv"):
        run_export(tmp_path, "--format", "png,csv")
    assert not tmp_path.joinpath("drawings.npz").exists()


def test_a_restarted_export_leaves_no_png_under_an_old_label(tmp_path, reviewed, staff):
    unreviewed = reviewed["unreviewed"]
    run_export(tmp_path, "--format", "png")
    assert (tmp_path / "png" / "7" / f"{unreviewed.pk}.png").exists()

    services.review_relabel(drawings=[unreviewed], label=1, reviewer=staff)
    services.review_reject(drawings=[reviewed["approved"][0]], reviewer=staff)
    output = run_export(tmp_path, "--format", "png")

    assert not (tmp_path / "png" / "7").exists()
    assert (tmp_path / "png" / "1" / f"{unreviewed.pk}.png").exists()
    on_disk = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "png").rglob("*.png")}
    with (tmp_path / "manifest.csv").open() as handle:
        assert on_disk == {row["path"] for row in csv.DictReader(handle)}
    assert f"png/1/{reviewed['approved'][0].pk}.png" not in on_disk, "rejected since"
    assert "1 written, 2 already there, 2 no longer exported removed" in output


def test_the_same_data_gives_the_same_bytes(tmp_path, reviewed):
    run_export(tmp_path / "one", "--format", "all")
    run_export(tmp_path / "two", "--format", "all")

    for name in ("drawings.npz", "drawings.ndjson", "manifest.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_second_run_skips_pngs_already_written_and_replaces_leftovers(tmp_path, reviewed):
    run_export(tmp_path, "--format", "all")
    first_png = sorted((tmp_path / "png").rglob("*.png"))[0]
    written_at = first_png.stat().st_mtime_ns
    (tmp_path / "drawings.npz.tmp").write_bytes(b"half a file from a killed run")
    (tmp_path / "drawings.npz").unlink()

    output = run_export(tmp_path, "--format", "all")

    assert "0 written, 4 already there" in output
    assert first_png.stat().st_mtime_ns == written_at
    assert not (tmp_path / "drawings.npz.tmp").exists()
    with np.load(tmp_path / "drawings.npz") as archive:
        assert len(archive["ids"]) == 4


def test_a_dry_run_counts_per_label_and_writes_nothing(tmp_path, reviewed):
    output = run_export(tmp_path / "out", "--dry-run", "--format", "all")

    assert not (tmp_path / "out").exists()
    assert "Would export 4 drawings" in output
    counts = {
        int(line.split()[0]): int(line.split()[1])
        for line in output.splitlines()
        if line.strip()[:1].isdigit()
    }
    assert counts[1] == 2 and counts[8] == 1 and counts[7] == 1 and counts[3] == 0


def test_a_drawing_never_preprocessed_is_preprocessed_for_the_export(tmp_path):
    drawing = DrawingFactory(label=0, pixels=None, prediction_status=Drawing.Prediction.PENDING)

    run_export(tmp_path)

    with np.load(tmp_path / "drawings.npz") as archive:
        assert archive["ids"].tolist() == [drawing.pk]
        assert archive["images"][0].max() == 255


def test_every_format_says_which_drawings_the_model_called_not_a_digit(tmp_path, reviewed):
    scribble = DrawingFactory(label=6, not_a_digit=True)
    run_export(tmp_path, "--format", "all")

    with np.load(tmp_path / "drawings.npz", allow_pickle=False) as archive:
        ids = archive["ids"].tolist()
        flags = dict(zip(ids, archive["not_digits"].tolist(), strict=True))
        guesses = dict(zip(ids, archive["predicted_digits"].tolist(), strict=True))
        assert archive["not_digits"].dtype == bool
    assert flags[scribble.pk] is True and guesses[scribble.pk] == -1
    assert sum(flags.values()) == 1
    with (tmp_path / "manifest.csv").open() as handle:
        rows = {int(r["id"]): r for r in csv.DictReader(handle)}
    assert rows[scribble.pk]["not_digit"] == "1" and rows[scribble.pk]["predicted_digit"] == "-1"
    assert {r["not_digit"] for pk, r in rows.items() if pk != scribble.pk} == {"0"}
    records = [json.loads(line) for line in (tmp_path / "drawings.ndjson").open()]
    by_id = {int(r["key_id"]): r for r in records}
    assert by_id[scribble.pk]["not_digit"] is True and by_id[scribble.pk]["recognized"] is False
    assert not any(r["not_digit"] for pk, r in by_id.items() if pk != scribble.pk)


def test_a_missing_parent_folder_is_one_line_and_nothing_is_created(tmp_path, reviewed):
    out = tmp_path / "nonexistent" / "deep" / "export"

    with pytest.raises(CommandError) as raised:
        run_export(out)

    message = str(raised.value)
    assert "\n" not in message
    assert f"the folder {out.parent} does not exist" in message
    assert not (tmp_path / "nonexistent").exists()


def test_an_out_path_that_is_a_file_is_refused(tmp_path, reviewed):
    taken = tmp_path / "drawings.txt"
    taken.write_text("not a folder")

    with pytest.raises(CommandError, match="it is a file, not a folder"):
        run_export(taken)


def test_an_unwritable_folder_is_refused_before_any_work(tmp_path, reviewed):
    import os

    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # running as root: permissions do not apply
        pytest.skip("root can write anywhere")

    with pytest.raises(CommandError, match="is not writable"):
        run_export(locked / "export")


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_nothing_to_export_fails_with_a_sentence_and_writes_no_file(tmp_path, dry_run):
    out = tmp_path / "export"

    with pytest.raises(CommandError, match="Nothing to export"):
        run_export(out, *dry_run)

    assert not out.exists()
