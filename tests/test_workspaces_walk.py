"""The large listings of a side-by-side pull: lead chains as a Client walks them, every lead
written once, parts added from several chains at once."""

from __future__ import annotations

import threading

import polars as pl
import pytest

from instantly_nb import open_dataset
from instantly_nb.dataset import DatasetWriter, table_schema
from instantly_nb.errors import StoreError
from instantly_nb.workspaces_walk import chains, keep_once

IDS = {"campaigns.list": ["c1", "c2"], "lead_lists.list": ["l1"]}


def test_leads_are_split_into_one_chain_per_campaign_list_and_the_rest():
    planned = chains("leads.list", {}, IDS.__getitem__)
    assert planned == [{"campaign": "c1"}, {"campaign": "c2"}, {"list_id": "l1"},
                       {"in_campaign": False, "in_list": False}]
    assert chains("leads.list", {"search": "x"}, IDS.__getitem__) == [{"search": "x"}]
    assert chains("emails.list", {}, IDS.__getitem__) == [{}]


def test_a_lead_in_a_walked_campaign_and_a_list_is_kept_by_the_campaign_chain_only():
    page = pl.DataFrame({"id": ["a", "b", "c"], "campaign": ["c1", None, "gone"],
                         "list_id": ["l1", "l1", "l1"]})
    walked = frozenset({"c1", "c2"})
    assert keep_once(page, {"list_id": "l1"}, walked)["id"].to_list() == ["b", "c"]
    assert keep_once(page, {"campaign": "c1"}, walked).equals(page)
    rest = {"in_campaign": False, "in_list": False}
    assert keep_once(page, rest, walked).equals(page)


def test_parts_added_by_chains_side_by_side_are_all_kept(tmp_path):
    writer = DatasetWriter(tmp_path, "ws-1", part_bytes=500)  # a part every few batches
    writer.begin("campaigns.analytics", table_schema("campaigns.analytics"))

    def chain(k: int) -> None:
        for i in range(10):
            writer.add("campaigns.analytics", pl.DataFrame({"campaign_id": [f"c{k}-{i}"]}))
        writer.add("campaigns.analytics", pl.DataFrame({"campaign_id": []}, schema={
            "campaign_id": pl.String}))  # an empty batch writes nothing

    threads = [threading.Thread(target=chain, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.finish("campaigns.analytics")
    assert writer.rows["campaigns.analytics"] == 40
    parts = list((writer.staging / "campaigns.analytics").rglob("*.parquet"))
    assert 1 < len(parts) < 40
    writer.commit()
    ids = open_dataset(tmp_path)["campaigns.analytics"].collect()["campaign_id"]
    assert sorted(ids) == sorted(f"c{k}-{i}" for k in range(4) for i in range(10))


def test_a_listing_without_rows_still_gets_its_columns(tmp_path):
    writer = DatasetWriter(tmp_path, "ws-1")
    writer.begin("leads.list", table_schema("leads.list"))
    writer.finish("leads.list")
    writer.commit()
    table = open_dataset(tmp_path)["leads.list"].collect()
    assert table.height == 0 and "email" in table.columns and table.columns[-1] == "_extra"


def test_writers_sharing_a_bound_write_out_their_largest_table_and_lose_no_row(tmp_path):
    from instantly_nb.dataset import PART_BYTES, HeldRows, conform

    schema = table_schema("campaigns.analytics")
    frame = pl.DataFrame({"campaign_id": [f"c{i}" for i in range(50)]})
    one = int(conform(frame.with_columns(pl.col("campaign_id") + "-0-0"), schema).estimated_size())
    shared = HeldRows(limit=3 * one)
    writers = [DatasetWriter(tmp_path, f"ws-{k}", shared=shared) for k in range(3)]
    for w in writers:
        w.begin("campaigns.analytics", schema)
    most = 0
    for i in range(4):
        for k, w in enumerate(writers):
            w.add("campaigns.analytics", frame.with_columns(pl.col("campaign_id") + f"-{k}-{i}"))
            most = max(most, shared.total)
    assert most <= shared.limit < PART_BYTES  # each writer alone would hold everything until finish
    parts = {k: len(list((w.staging / "campaigns.analytics").rglob("*.parquet")))
             for k, w in enumerate(writers)}
    assert sum(parts.values()) >= 3  # written out along the way, not held
    for w in writers:
        w.finish("campaigns.analytics")
        w.commit()
    assert shared.total == 0
    table = open_dataset(tmp_path)["campaigns.analytics"].collect()
    assert table.height == 3 * 4 * 50 and table["campaign_id"].n_unique() == table.height


def test_conform_gives_the_same_frame_however_often_its_columns_come():
    from instantly_nb.dataset import EXTRA, conform, table_schema

    schema = table_schema("campaigns.analytics", ["campaign_id"])
    plain = pl.DataFrame({"campaign_id": ["c1"], "campaign_name": ["A"], "emails_sent_count": [3]})
    drifted = plain.with_columns(pl.lit(7).alias("new_field"))
    for _ in range(3):  # the expressions are made once per (schema, columns) and reused
        a, b = conform(plain, schema), conform(drifted, schema)
        assert a.columns == b.columns == list(schema)
        assert a.schema == b.schema
        assert a[EXTRA].to_list() == [None] and b[EXTRA].to_list() == ['{"new_field":7}']
        assert b["emails_sent_count"].to_list() == [3] and b["campaign_id"].to_list() == ["c1"]
    with pytest.raises(StoreError):
        conform(plain.with_columns(pl.lit("many").alias("emails_sent_count")), schema)


def test_a_walk_pauses_the_cyclic_collector_and_restores_it(tmp_path):
    import gc

    from instantly_nb import Client
    from instantly_nb.demo import DemoServer, Limits
    from instantly_nb.workspaces_walk import stream

    seen: list[bool] = []

    class Watching(DatasetWriter):
        def add(self, name: str, frame: pl.DataFrame) -> None:
            seen.append(gc.isenabled())
            super().add(name, frame)

    assert gc.isenabled()
    with DemoServer(size="tiny", limits=Limits(enabled=False)) as srv, \
            Client(api_key="demo-key-walk", base_url=srv.url, **srv.client_pacing()) as client:
        ids = {n: client.fetch(n)["id"].to_list() for n in ("campaigns.list", "lead_lists.list")}
        writer = Watching(tmp_path, client.workspace_id())
        rows = stream(client, writer, "leads.list", {}, ids.__getitem__, batch_pages=1)
    assert rows > 0 and len(seen) > 1
    assert not any(seen)  # every page batch was shaped with the collector paused
    assert gc.isenabled()  # and it runs again once the walk is done
