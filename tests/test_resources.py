"""potran.resources: where data files are, and the log of data reads that the book's build keeps."""
import json

from potran.resources import data_path


def test_data_path_logs_each_read_for_the_book(tmp_path, monkeypatch):
    log = tmp_path / "reads.jsonl"
    monkeypatch.setenv("POTRAN_DATA_LOG", str(log))
    monkeypatch.setenv("POTRAN_PAGE", "notebooks/main_table")
    monkeypatch.setenv("POTRAN_BUILD_STARTED", "2026-12-01T00:00:00+00:00")
    first = data_path("paper", "main_table.csv")
    data_path("groundtruth")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [
        {"page": "notebooks/main_table", "build": "2026-12-01T00:00:00+00:00", "path": str(first)},
        {"page": "notebooks/main_table", "build": "2026-12-01T00:00:00+00:00",
         "path": str(data_path("groundtruth"))},
    ]
    assert first.is_file()


def test_data_path_writes_nothing_without_a_log(tmp_path, monkeypatch):
    monkeypatch.delenv("POTRAN_DATA_LOG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert data_path("paper", "main_table.csv").is_file()
    assert list(tmp_path.iterdir()) == []
