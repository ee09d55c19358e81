"""Result files of the benchmark (potran.bench.store): atomic writes and the cell store."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from potran.bench import store
from potran.bench.store import CellStore


def test_writers_create_folders_and_round_trip(tmp_path):
    assert store.write_bytes(tmp_path / "a" / "b" / "x.bin", b"\x00\x01") == tmp_path / "a" / "b" / "x.bin"
    assert (tmp_path / "a" / "b" / "x.bin").read_bytes() == b"\x00\x01"
    store.write_text(tmp_path / "t.txt", "caf\u00e9\n")
    assert (tmp_path / "t.txt").read_bytes() == "caf\u00e9\n".encode()
    store.write_json(tmp_path / "r.json", {"a": [1, 2.5], "b": None})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": [1, 2.5], "b": None}
    arrays = {"f": np.arange(6, dtype=np.float16).reshape(2, 3), "i": np.array([3, 1], np.int64)}
    store.write_npz(tmp_path / "s.npz", **arrays)
    with np.load(tmp_path / "s.npz") as back:
        assert sorted(back.files) == ["f", "i"]
        for key, value in arrays.items():
            assert back[key].dtype == value.dtype and np.array_equal(back[key], value)


def test_csv_keeps_floats_at_full_precision(tmp_path):
    frame = pd.DataFrame({"model": ["a", "b"], "score": [0.1 + 0.2, 1 / 3], "n": [1, 2]})
    store.write_csv(tmp_path / "t.csv", frame)
    back = pd.read_csv(tmp_path / "t.csv")
    assert list(back.columns) == ["model", "score", "n"]  # no index column
    assert back.score.tolist() == [0.1 + 0.2, 1 / 3]  # exactly, not rounded


def test_json_refuses_nan_and_leaves_no_file(tmp_path):
    with pytest.raises(ValueError):
        store.write_json(tmp_path / "x.json", {"a": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_leaves_the_old_file_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "cells" / "x.json"
    store.write_json(path, {"a": 1})

    def crash(src, dst):
        written.append(open(src, "rb").read())  # complete, under a temporary name
        raise OSError("disk pulled")

    written = []

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError, match="disk pulled"):
        store.write_json(path, {"a": 2})
    assert json.loads(written[0]) == {"a": 2}
    with pytest.raises(OSError):
        store.write_npz(tmp_path / "cells" / "y.npz", a=np.zeros(3))
    with pytest.raises(OSError):
        CellStore(tmp_path).save("m", "t", {"a": 3})
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.json"]  # no temporary left over


def test_cell_store_layout_and_round_trip(tmp_path):
    cells = CellStore(tmp_path / "out")
    assert cells.path("conv4_random", "fonts") == tmp_path / "out" / "cells" / "conv4_random__fonts.json"
    assert cells.load("conv4_random", "fonts") is None
    assert cells.records() == []  # no cells/ folder yet
    record = {"model": "conv4_random", "target": "fonts", "rows": [{"score": 0.5}]}
    assert cells.save("conv4_random", "fonts", record) == cells.path("conv4_random", "fonts")
    assert cells.load("conv4_random", "fonts") == record
    # another store object on the same folder (another process) sees the cell
    assert CellStore(tmp_path / "out").load("conv4_random", "fonts") == record
    cells.save("conv4_random", "fonts", dict(record, rows=[]))  # replaced, not appended
    assert cells.load("conv4_random", "fonts")["rows"] == []


def test_records_are_sorted_by_file_name_and_ignore_other_files(tmp_path):
    cells = CellStore(tmp_path)
    for model, target in [("b", "t2"), ("a", "t2"), ("b", "t1")]:
        cells.save(model, target, {"model": model, "target": target})
    (tmp_path / "cells" / ".b__t3.json.123.tmp").write_text("{half")  # a write in progress
    assert [(r["model"], r["target"]) for r in cells.records()] == [("a", "t2"), ("b", "t1"),
                                                                    ("b", "t2")]


def test_temporary_files_are_made_beside_the_destination(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.basename(src)))
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", spy)
    store.write_text(tmp_path / "sub" / "f.txt", "x")
    (folder, name), = seen
    # same folder (so os.replace is a rename within one file system), hidden, not *.json
    assert folder == str(tmp_path / "sub") and name.startswith(".f.txt.") and name.endswith(".tmp")


def test_damaged_cell_is_named_set_aside_and_missing(tmp_path):
    cells = CellStore(tmp_path)
    cells.save("m", "t", {"model": "m", "target": "t", "rows": [{"score": 0.5}]})
    path = cells.path("m", "t")
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # truncated mid-record
    with pytest.warns(store.DamagedCellWarning) as caught:
        assert cells.load("m", "t") is None
    (warning,) = caught
    assert str(path) in str(warning.message) and "m__t.json.damaged" in str(warning.message)
    assert not path.exists()
    assert (path.parent / "m__t.json.damaged").read_text() == text[: len(text) // 2]  # kept, not deleted
    # a second damaged copy of the same cell does not overwrite the first one
    path.write_bytes(b"\xff\xfe not utf-8")
    path2 = path.parent / "m__t.json.damaged.1"
    with pytest.warns(store.DamagedCellWarning, match="set aside as m__t.json.damaged.1"):
        assert cells.records() == []
    assert path2.read_bytes() == b"\xff\xfe not utf-8"
    path.write_text("[1, 2]\n")  # valid JSON, but not a record
    with pytest.warns(store.DamagedCellWarning, match="expected a JSON object, got list"):
        assert cells.load("m", "t") is None


def test_records_skip_a_damaged_cell_and_keep_the_others(tmp_path):
    cells = CellStore(tmp_path)
    for model in ("a", "b", "c"):
        cells.save(model, "t", {"model": model})
    cells.path("b", "t").write_text('{"model": "b",\n')
    with pytest.warns(store.DamagedCellWarning, match="b__t.json"):
        assert [r["model"] for r in cells.records()] == ["a", "c"]
    assert sorted(p.name for p in (tmp_path / "cells").iterdir()) == ["a__t.json", "b__t.json.damaged",
                                                                      "c__t.json"]


def test_the_scoring_grid_recomputes_a_damaged_cell(tmp_path):
    """Step 7 of issue 16: a truncated cell no longer stops `potran bench`; it is recomputed."""
    from test_runner import BENCH, bench_run

    calls = []
    first, _ = bench_run(tmp_path, calls)
    cells = CellStore(tmp_path)
    model, target = BENCH.models[1], BENCH.targets[0]
    path = cells.path(model, target)
    path.write_text(path.read_text()[:100])
    calls.clear()
    with pytest.warns(store.DamagedCellWarning, match=str(path)):
        again, _ = bench_run(tmp_path, calls)
    assert [c for c in calls if not c.endswith("/general")] == [f"{model}/{target}/train-n40"]
    assert (path.parent / f"{path.name}.damaged").exists()
    assert cells.load(model, target)["model"] == model
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), first.drop(columns="seconds"))
