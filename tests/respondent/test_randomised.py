"""Randomised pages: the order is drawn once per response, kept on every visit, exported."""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import instruments.loader
from instruments import check_directory
from survey.services.exports import build_export
from tests.instruments.builders import MARK, RANDOMISED, THEMES, marked_line, mutate, write_dir

from .conftest import see_committed
from .test_conditions import LIKERT_3, _response, mini_link, post


@pytest.fixture
def randomised_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_dir(tmp_path / "instruments", {"themes.yaml": THEMES, "mini.yaml": RANDOMISED})
    monkeypatch.setattr(instruments.loader, "INSTRUMENT_DIR", directory)
    return directory


def _order(html: str) -> list[str]:
    return re.findall(r'<fieldset class="likert" id="(a\d)"', html)


def test_the_order_is_drawn_once_kept_on_every_visit_and_exported(
        randomised_dir: Path, db: Session, client: FlaskClient) -> None:
    links = [mini_link(db) for _ in range(6)]
    orders = []
    for link in links:
        first = _order(client.get(f"{link.url}/page/1").get_data(as_text=True))
        assert sorted(first) == ["a1", "a2", "a3"]
        assert _order(client.get(f"{link.url}/page/1").get_data(as_text=True)) == first  # reload
        response = _response(db, link)
        assert response.item_order == {"first": first}
        # The stored seed gives the stored order (reproducible for analysis).
        ids = ["a1", "a2", "a3"]
        random.Random(response.order_seed).shuffle(ids)
        assert ids == first
        orders.append(first)
    assert response.order_seed is not None
    link = links[0]
    post(client, link, 1, {"a1": "2"})  # saved and shown again: the same order
    assert _order(client.get(f"{link.url}/page/1").get_data(as_text=True)) == orders[0]
    post(client, link, 1, {"a1": "2"})
    post(client, link, 3, LIKERT_3)
    assert post(client, link, 4, {"supervised": "0"}).endswith("/thanks")
    see_committed(db)
    archive = zipfile.ZipFile(io.BytesIO(build_export(db, link.invitation.participant.study, None)))
    [row] = list(csv.DictReader(io.StringIO(archive.read("items_mini_v1.csv").decode())))
    assert [row[f"{i}_pos"] for i in orders[0]] == ["1", "2", "3"]
    assert "b1_pos" not in row  # only randomised pages have positions
    codebook = {r["item_id"]: r["randomised"] for r in csv.DictReader(
        io.StringIO(archive.read("codebook.csv").decode()))}
    assert (codebook["a1"], codebook["b1"]) == ("yes", "no")


def test_a_randomised_page_with_a_same_page_condition_is_refused(tmp_path: Path) -> None:
    text = mutate(RANDOMISED, "  - id: about_you\n    title: About you\n",
                  f"  - id: about_you\n    title: About you\n    randomise: true  {MARK}\n")
    problems = check_directory(write_dir(tmp_path, {"themes.yaml": THEMES, "mini.yaml": text}))
    found = [p for p in problems if p.field == "randomise"]
    assert [(p.line, p.item) for p in found] == [(marked_line(text), "useful"),
                                                  (marked_line(text), "long_hours")]
    assert "depends on supervised on the same page" in found[0].message
