"""The parts of a fan-out shaped together give the frame of the parts shaped one by one and
joined: same rows in part order, same columns and dtypes, drift or not, in groups of any size."""

from __future__ import annotations

import copy
import random
import time
from typing import Any

import polars as pl
import pytest

from instantly_nb import fallbacks, frames, parts
from instantly_nb.endpoints import ENDPOINTS


class _Client:
    max_workers = 4


class _Prepared:
    """Stands for a prepared request: which part's answers to give."""

    def __init__(self, index: int):
        self.index = index

    def canonical(self) -> dict[str, Any]:
        return {}


def _run(monkeypatch, name: str, bodies: list[list[Any]], columns: list[dict[str, str]],
         group: int, workers: int = 4) -> pl.DataFrame:
    rng = random.Random(group)

    def fetch_bodies(client, endpoint, prepared, walk):
        time.sleep(rng.random() / 500)  # parts end in another order than they started
        return bodies[prepared.index]

    monkeypatch.setattr(fallbacks, "fetch_bodies", fetch_bodies)
    monkeypatch.setattr(parts, "GROUP_ROWS", group)
    client = _Client()
    client.max_workers = workers
    planned = [parts.Part(prepared=_Prepared(i), columns=c)  # type: ignore[arg-type]
               for i, c in enumerate(columns)]
    return parts.run(client, None, name, ENDPOINTS[name], planned, max_pages=None,  # type: ignore[arg-type]
                     progress=False)


def _one_by_one(name: str, bodies: list[list[Any]], columns: list[dict[str, str]]
                ) -> pl.DataFrame:
    alone = [parts.with_columns(frames.from_bodies(name, b), c)
             for b, c in zip(bodies, columns, strict=True)]
    out = pl.concat(alone, how="diagonal_relaxed")
    return out.unique(maintain_order=True) if name == "accounts.analytics_daily" else out


def _steps(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"step": str(rng.randint(0, 3)), "variant": str(rng.randint(0, 2)),
             "sent": rng.randint(0, 50), "opened": rng.randint(0, 9),
             "unique_opened": rng.randint(0, 9), "replies": 1, "unique_replies": 1,
             "clicks": 0, "unique_clicks": 0} for _ in range(n)]


DRIFTS = {
    "clean": lambda rows: None,
    "extra field typed differently in two parts": lambda rows: (
        rows[1][0].update(zz_new=3), rows[4][0].update(zz_new="three")),
    "extra field boolean in one part, number in another": lambda rows: (
        rows[1][0].update(zz_flag=True), rows[3][1].update(zz_flag=2)),
    "a value that goes to a _raw column": lambda rows: rows[3][0].update(opened="many"),
    "number as text, converted silently": lambda rows: rows[3][2].update(sent="7"),
    "the junk step row the API adds": lambda rows: rows[5].append(
        {"step": None, "variant": None, "sent": 0, "opened": 0}),
}


@pytest.mark.parametrize("group", [1, 3, 10_000])
@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_a_fan_out_shaped_together_is_the_parts_shaped_one_by_one(monkeypatch, drift, group):
    rows = [_steps(n, i) for i, n in enumerate([2, 1, 0, 3, 1, 2, 1, 0])]
    DRIFTS[drift](rows)
    bodies = [[copy.deepcopy(r)] for r in rows]
    columns = [{"campaign_id": f"c{i % 3}"} for i in range(len(rows))]
    together = _run(monkeypatch, "campaigns.analytics_steps", bodies, columns, group)
    expected = _one_by_one("campaigns.analytics_steps", bodies, columns)
    assert together.columns == expected.columns
    assert together.schema == expected.schema
    assert together.equals(expected)
    assert together["campaign_id"].to_list() == expected["campaign_id"].to_list()
    assert together.height == sum(map(len, rows)) - (drift == "the junk step row the API adds")


@pytest.mark.parametrize("group", [2, 10_000])
def test_rows_repeated_across_parts_are_dropped_and_phantom_rows_too(monkeypatch, group):
    def day(account: str, date: str, sent: int) -> dict[str, Any]:
        return {"date": date, "email_account": account, "sent": sent, "bounced": 0}

    bodies = [[[day("a@x.io", "2026-01-01", 3), day("", "2026-01-01", 0)]],
              [[day("a@x.io", "2026-01-01", 3), day("b@x.io", "2026-01-02", 4)]],
              [[]]]
    columns = [{}, {}, {}]
    together = _run(monkeypatch, "accounts.analytics_daily", bodies, columns, group)
    expected = _one_by_one("accounts.analytics_daily", bodies, columns)
    assert together.equals(expected) and together.schema == expected.schema
    assert together.select("email_account", "sent").rows() == [("a@x.io", 3), ("b@x.io", 4)]


def test_all_parts_empty_give_the_declared_columns_and_the_fan_out_column(monkeypatch):
    bodies = [[[]], [[]], [[]]]
    columns = [{"campaign_id": f"c{i}"} for i in range(3)]
    together = _run(monkeypatch, "campaigns.analytics_steps", bodies, columns, 10_000)
    expected = _one_by_one("campaigns.analytics_steps", bodies, columns)
    assert together.height == 0
    assert together.schema == expected.schema
    assert together.columns[0] == "campaign_id"


def test_a_part_that_fails_to_shape_is_named(monkeypatch):
    bodies = [[[]], [{"not": "a list"}], [[]]]
    columns = [{"campaign_id": f"c{i}"} for i in range(3)]
    with pytest.raises(Exception) as info:
        _run(monkeypatch, "campaigns.analytics_steps", bodies, columns, 10_000, workers=1)
    assert getattr(info.value, "part", None) is not None
    assert info.value.part.columns == {"campaign_id": "c1"}  # type: ignore[attr-defined]


def test_a_clean_fan_out_is_shaped_once_and_a_drifted_one_part_by_part(monkeypatch):
    shaped: list[int] = []
    to_frame = frames.to_frame
    monkeypatch.setattr(frames, "to_frame", lambda name, rows: (shaped.append(len(rows)),
                                                                to_frame(name, rows))[1])
    rows = [_steps(n, i) for i, n in enumerate([2, 1, 0, 3])]
    columns = [{"campaign_id": f"c{i}"} for i in range(4)]
    _run(monkeypatch, "campaigns.analytics_steps", [[r] for r in rows], columns, 10_000)
    assert shaped == [6]
    shaped.clear()
    rows[1][0]["zz_new"] = 1
    _run(monkeypatch, "campaigns.analytics_steps", [[r] for r in rows], columns, 10_000)
    assert shaped == [6, 2, 1, 0, 3]
