"""Reply timing: how long after a step's email the lead replied, from the emails list frame.

Each received email (``ue_type`` 2) is matched to the latest campaign email sent before it
(``ue_type`` 1) in the same thread (``thread_id``; when a thread id is missing, the same
``campaign_id`` and ``lead``). The delay counts from that send; the step is the send's step.
Only the first reply after each send counts, and automatic replies (``is_auto_reply`` = 1) are
left out by default. Replies with no earlier send in the frame are kept as *unmatched* (no
delay) and counted in ``reply_timing``'s ``unmatched_replies`` column, never dropped silently.

Time zones: the API's analytics days are UTC days, but e-mails carry exact times.
``time_zone=`` shows send and reply times on any clock (``replies_by_hour`` counts replies per
hour of the day there); delays are the same on every clock.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

import numpy as np
import polars as pl

from instantly_nb.metrics._frame import ByArg, as_list, empty, require

UE_SENT_FROM_CAMPAIGN = 1
UE_RECEIVED = 2
BUCKET_HOURS: tuple[float, ...] = (1, 4, 12, 24, 48, 72, 168, 336)
EMAIL_COLS = ("ue_type", "timestamp_email", "thread_id", "lead", "campaign_id", "step")

DELAY_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(), "lead": pl.String(), "thread_id": pl.String(),
    "step": pl.String(), "sent_at": pl.Datetime("us", "UTC"),
    "replied_at": pl.Datetime("us", "UTC"), "hours": pl.Float64(), "matched": pl.Boolean(),
}
TIMING_TAIL: dict[str, pl.DataType] = {
    "bucket": pl.String(), "bucket_order": pl.Int64(), "bucket_start_hours": pl.Float64(),
    "bucket_end_hours": pl.Float64(), "replies_in_bucket": pl.UInt32(), "share": pl.Float64(),
    "cumulative_share": pl.Float64(), "replies": pl.UInt32(), "unmatched_replies": pl.UInt32(),
    "median_hours": pl.Float64(), "p25_hours": pl.Float64(), "p75_hours": pl.Float64(),
    "p90_hours": pl.Float64(), "mean_hours": pl.Float64(),
}


def reply_delays(emails_df: pl.DataFrame, *, exclude_auto_replies: bool = True,
                 time_zone: str = "UTC") -> pl.DataFrame:
    """One row per reply: the send it answers, and the delay in hours.

    Parameters
    ----------
    emails_df : pl.DataFrame
        emails.list frame (ue_type, timestamp_email, thread_id, lead, campaign_id, step;
        is_auto_reply optional).
    exclude_auto_replies : bool
        Leave out replies flagged ``is_auto_reply == 1`` (default).
    time_zone : str
        IANA zone (``"Europe/Berlin"``) in which ``sent_at`` and ``replied_at`` are shown;
        ``UTC`` by default. Delays in hours do not depend on it.

    Returns
    -------
    pl.DataFrame
        campaign_id, lead, thread_id, step (as text), sent_at, replied_at (in ``time_zone``),
        hours, matched (False when no earlier send was found; then sent_at and hours are null).
        ``step`` is the step number when the live API's ``"<subsequence>_<step>_<variant>"``
        text was split into ``step_number`` (see :mod:`instantly_nb.drift`), as the documented
        answer's plain step text is; the e-mails frame keeps the subsequence and variant.
    """
    require(emails_df, EMAIL_COLS, "reply_delays(emails)")
    zone = check_time_zone(time_zone)
    if emails_df.is_empty():
        return empty(_in_zone(DELAY_SCHEMA, zone))
    df = emails_df.with_columns(
        _utc(emails_df, "timestamp_email").alias("_ts"),
        _step_text(emails_df),
        pl.coalesce(pl.col("thread_id").cast(pl.String),
                    pl.concat_str([pl.col("campaign_id"), pl.col("lead")], separator="|"))
        .alias("_key"),
    ).filter(pl.col("_ts").is_not_null())
    code = pl.col("ue_type").cast(pl.Float64, strict=False)
    sends = df.filter(code == UE_SENT_FROM_CAMPAIGN).select(
        "_key", pl.col("_ts").alias("sent_at"), pl.col("step").alias("_send_step"),
        pl.col("_ts").alias("_ts"),
    ).sort("_ts")
    replies = df.filter(code == UE_RECEIVED)
    if exclude_auto_replies and "is_auto_reply" in df.columns:
        auto = pl.col("is_auto_reply").cast(pl.Float64, strict=False).fill_null(0.0)
        replies = replies.filter(auto != 1.0)
    replies = replies.sort("_ts")
    matched = replies.join_asof(
        sends, on="_ts", by="_key", strategy="backward", check_sortedness=False
    )
    out = matched.select(
        "campaign_id", "lead", "thread_id",
        pl.coalesce("_send_step", "step").alias("step"),
        "sent_at", pl.col("_ts").alias("replied_at"),
        ((pl.col("_ts") - pl.col("sent_at")).dt.total_microseconds() / 3.6e9).alias("hours"),
        pl.col("sent_at").is_not_null().alias("matched"),
    )
    # first reply per send; unmatched replies are all kept
    first = out.filter(pl.col("matched")).sort("replied_at").unique(
        ["thread_id", "lead", "campaign_id", "sent_at"], keep="first", maintain_order=True
    )
    rest = out.filter(~pl.col("matched"))
    both = pl.concat([first, rest]).cast(DELAY_SCHEMA).sort("replied_at")  # type: ignore[arg-type]
    if zone == "UTC":
        return both
    return both.with_columns(pl.col("sent_at", "replied_at").dt.convert_time_zone(zone))


def check_time_zone(time_zone: str) -> str:
    """``time_zone`` when it names an IANA zone, else a ValueError saying what is accepted."""
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"time_zone {time_zone!r} is not an IANA time zone name; use e.g. "
                         "'UTC', 'Europe/Berlin' or 'America/New_York'.") from None
    return time_zone


def _in_zone(schema: dict[str, pl.DataType], zone: str) -> dict[str, pl.DataType]:
    return {k: pl.Datetime("us", zone) if isinstance(v, pl.Datetime) else v
            for k, v in schema.items()}


def _step_text(emails_df: pl.DataFrame) -> pl.Expr:
    raw = pl.col("step").cast(pl.String)
    if "step_number" not in emails_df.columns:
        return raw
    return pl.coalesce(pl.col("step_number").cast(pl.String), raw).alias("step")


def replies_by_hour(emails_df: pl.DataFrame, *, time_zone: str = "UTC",
                    exclude_auto_replies: bool = True) -> pl.DataFrame:
    """Replies per hour of the day on the clock of ``time_zone``.

    Analytics days of the API are UTC days; e-mails carry exact times, so when people reply can
    be read on any clock.

    Returns
    -------
    pl.DataFrame
        hour (0-23, every hour present), replies, share (of all replies counted).
    """
    delays = reply_delays(emails_df, exclude_auto_replies=exclude_auto_replies,
                          time_zone=time_zone)
    counts = delays.group_by(pl.col("replied_at").dt.hour().cast(pl.Int64).alias("hour")).agg(
        pl.len().cast(pl.Int64).alias("replies"))
    hours = pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int64})
    out = hours.join(counts, on="hour", how="left").with_columns(pl.col("replies").fill_null(0))
    total = int(out["replies"].sum())
    return out.with_columns((pl.col("replies") / total if total else pl.lit(None, pl.Float64))
                            .alias("share")).sort("hour")


def _utc(df: pl.DataFrame, col: str) -> pl.Expr:
    dtype = df.schema[col]
    if dtype == pl.String:
        return pl.col(col).str.to_datetime(time_zone="UTC", strict=False, time_unit="us")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return pl.col(col).dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return pl.col(col).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise ValueError(f"reply_delays: {col!r} must be text or a datetime, got {dtype}")


def reply_timing(
    emails_df: pl.DataFrame,
    by: ByArg = "step",
    *,
    exclude_auto_replies: bool = True,
    bucket_hours: Sequence[float] = BUCKET_HOURS,
    time_zone: str = "UTC",
) -> pl.DataFrame:
    """Distribution of reply delays per step (or other group), in hour buckets.

    Parameters
    ----------
    emails_df : pl.DataFrame
        emails.list frame (see :func:`reply_delays`).
    by : str or list of str, optional
        Groups among campaign_id, step, lead, thread_id; ``None`` for one overall distribution.
    exclude_auto_replies : bool
        Leave out automatic replies (default).
    bucket_hours : sequence of float
        Increasing bucket edges in hours; a last open bucket holds longer delays.
    time_zone : str
        Zone of the timestamps behind the figures (see :func:`reply_delays`); the delays and
        therefore the buckets are the same in every zone.

    Returns
    -------
    pl.DataFrame
        One row per group and bucket: ``by`` columns, bucket (label such as ``"4-12h"``),
        bucket_order, bucket_start_hours, bucket_end_hours (null for the open bucket),
        replies_in_bucket, share, cumulative_share, and the group's replies (matched),
        unmatched_replies, median_hours, p25_hours, p75_hours, p90_hours, mean_hours.
    """
    groups = as_list(by)
    edges = [float(e) for e in bucket_hours]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or edges[0] <= 0:
        raise ValueError(f"bucket_hours must be positive and increasing, got {bucket_hours!r}")
    delays = reply_delays(emails_df, exclude_auto_replies=exclude_auto_replies,
                          time_zone=time_zone)
    require(delays, groups, "reply_timing")
    schema = {**{c: DELAY_SCHEMA[c] for c in groups}, **TIMING_TAIL}
    if delays.is_empty():
        return empty(schema)
    h = pl.col("hours")
    stats = delays.group_by(groups or pl.lit(0).alias("_all"), maintain_order=True).agg(
        pl.col("matched").sum().cast(pl.UInt32).alias("replies"),
        (~pl.col("matched")).sum().cast(pl.UInt32).alias("unmatched_replies"),
        h.median().alias("median_hours"), h.quantile(0.25, "linear").alias("p25_hours"),
        h.quantile(0.75, "linear").alias("p75_hours"),
        h.quantile(0.9, "linear").alias("p90_hours"), h.mean().alias("mean_hours"),
        h.drop_nulls().alias("_hours"),
    )
    rows = []
    for r in stats.to_dicts():
        counts = _bucket_counts(np.asarray(r.pop("_hours"), dtype=float), edges)
        total = int(counts.sum())
        cum = np.cumsum(counts)
        for i, c in enumerate(counts):
            start = 0.0 if i == 0 else edges[i - 1]
            end = edges[i] if i < len(edges) else None
            label = f"{start:g}-{end:g}h" if end is not None else f">{start:g}h"
            rows.append({**r, "bucket": label, "bucket_order": i, "bucket_start_hours": start,
                         "bucket_end_hours": end, "replies_in_bucket": int(c),
                         "share": c / total if total else None,
                         "cumulative_share": cum[i] / total if total else None})
    return pl.DataFrame(rows, schema=schema, strict=False)


def _bucket_counts(hours: np.ndarray, edges: list[float]) -> np.ndarray:
    # bucket i holds (edge[i-1], edge[i]]; the first starts at 0 inclusive
    idx = np.searchsorted(np.asarray(edges), hours, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)
