"""Deterministic identifiers, timestamps and the word pools the demo workspace is made of.

Ids follow the API's UUIDv7 layout: the first 48 bits are the creation time in milliseconds, so
sorting ids sorts records by creation. The other bits come from a hash of (seed, kind, number),
so the same seed always yields the same ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import numpy as np

__all__ = [
    "DAY_MS",
    "day_date",
    "day_ms",
    "iso_ms",
    "iso_date",
    "ms_of_uuid",
    "iso_ms_texts",
    "uid",
    "uid_at",
    "uids_at",
]

DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _hash_int(seed: int, kind: str, number: int, nbytes: int = 10) -> int:
    digest = hashlib.blake2b(f"{seed}:{kind}:{number}".encode(), digest_size=nbytes).digest()
    return int.from_bytes(digest, "big")


def uid_at(ms: int, seed: int, kind: str, number: int) -> str:
    """A UUIDv7-shaped id whose time part is ``ms`` (milliseconds since the epoch)."""
    rand = _hash_int(seed, kind, number)
    value = (int(ms) & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    h = f"{value:032x}"  # what str(uuid.UUID(int=value)) writes, without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGITS = np.array([c for c in range(36) if c not in (8, 13, 18, 23)])  # hex columns of an id
_MS_BITS = (1 << 48) - 1


def uids_at(ms: np.ndarray, seed: int, kind: str, numbers: list[int]) -> list[str]:
    """``[uid_at(m, seed, kind, k) for m, k in zip(ms, numbers)]``, the bit layout done on
    arrays: only the hashes are computed one at a time."""
    n = len(numbers)
    if n == 0:
        return []
    base = hashlib.blake2b(f"{seed}:{kind}:".encode(), digest_size=10)
    parts = []
    for k in numbers:  # the hash of "{seed}:{kind}:{k}", continued from the common prefix
        h = base.copy()
        h.update(b"%d" % k)
        parts.append(h.digest())
    d = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(n, 10)
    raw = np.empty((n, 16), dtype=np.uint8)
    stamp = (np.asarray(ms, dtype=np.int64) & _MS_BITS).astype(">u8")
    raw[:, :6] = stamp.view(np.uint8).reshape(n, 8)[:, 2:]
    # the 12 hash bits 62..73 after the version nibble 7, then the variant bits 10, bits 0..61
    raw[:, 6] = 0x70 | ((d[:, 0] & 3) << 2) | (d[:, 1] >> 6)
    raw[:, 7] = ((d[:, 1] & 0x3F) << 2) | (d[:, 2] >> 6)
    raw[:, 8] = 0x80 | (d[:, 2] & 0x3F)
    raw[:, 9:] = d[:, 3:]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _DIGITS[0::2]] = _HEX[raw >> 4]
    text[:, _DIGITS[1::2]] = _HEX[raw & 15]
    joined = text.tobytes().decode("ascii")
    return [joined[i:i + 36] for i in range(0, 36 * n, 36)]


def uid(seed: int, kind: str, number: int, base_ms: int = 1_700_000_000_000) -> str:
    """An id for record ``number`` of ``kind`` whose time part grows with ``number``."""
    return uid_at(base_ms + number, seed, kind, number)


def ms_of_uuid(text: str) -> int | None:
    """The time part of a UUIDv7 (``None`` when ``text`` is not a UUID)."""
    try:
        value = uuid.UUID(text).int
    except (ValueError, AttributeError, TypeError):
        return None
    return value >> 80


def iso_ms(ms: int | np.integer) -> str:
    """Milliseconds since the epoch -> ``2026-08-13T11:12:14.330Z``."""
    days, rest = divmod(int(ms), DAY_MS)
    day = _DAY_TEXT.get(days)
    if day is None:
        day = _day_text(days)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{day}T{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}Z"


def iso_ms_texts(ms: np.ndarray) -> list[str]:
    """``[iso_ms(m) for m in ms]``, written by numpy in one call."""
    text = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"),
                                 unit="ms")
    return [f"{t}Z" for t in text.tolist()]


_DAY_TEXT: dict[int, str] = {}


def _day_text(days: int) -> str:
    """``YYYY-MM-DD`` of ``days`` after 1970-01-01 (remembered: a workspace spans few days)."""
    text = (_EPOCH + dt.timedelta(days=days)).strftime("%Y-%m-%d")
    if len(_DAY_TEXT) < 100_000:
        _DAY_TEXT[days] = text
    return text


def iso_date(day: dt.date) -> str:
    """``YYYY-MM-DD`` text of a day, as the API writes dates."""
    return day.isoformat()


def day_date(first_day: dt.date, day_index: int) -> dt.date:
    """The calendar date of history day ``day_index`` (0 = first day of the history)."""
    return first_day + dt.timedelta(days=int(day_index))


def day_ms(first_day: dt.date, day_index: int | np.ndarray) -> int | np.ndarray:
    """Midnight UTC of history day ``day_index`` in epoch milliseconds."""
    base = int(dt.datetime(first_day.year, first_day.month, first_day.day, tzinfo=dt.UTC)
               .timestamp() * 1000)
    return base + np.asarray(day_index, dtype=np.int64) * DAY_MS


FIRST_NAMES = (
    "Ava", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wes", "Xenia", "Yusuf", "Zoe", "Amelie", "Bruno", "Carla", "Dmitri", "Emma", "Felix",
    "Greta", "Hana", "Ivan", "Julia", "Karim", "Lena", "Marco", "Nadia", "Oscar", "Priya",
    "Rafael", "Sofia", "Theo", "Uma", "Victor", "Wanda", "Yara", "Zane", "Chloé", "José",
)
LAST_NAMES = (
    "Adler", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quint", "Rossi",
    "Schmidt", "Tanaka", "Ulrich", "Varga", "Weber", "Xu", "Young", "Zimmer", "Andersen", "Brown",
    "Chen", "Dietrich", "Evans", "Fontaine", "Gruber", "Horvat", "Iqbal", "Jovanovic", "Keller",
    "Lopez", "Müller", "Novak", "O'Brien", "Patel", "Ramos", "Silva", "Torres", "Vogel", "Wolf",
)
COMPANY_WORDS = (
    "Acme", "Bright", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper",
    "Kestrel", "Lumen", "Meadow", "Nimbus", "Orbit", "Pinnacle", "Quartz", "Riverside", "Summit",
    "Tidal", "Umbra", "Vertex", "Willow", "Zenith", "Atlas", "Beacon", "Cedar", "Drift", "Echo",
    "Falcon", "Glacier", "Horizon", "Ion", "Jade", "Keystone", "Lattice", "Mosaic", "Northstar",
)
COMPANY_SUFFIXES = ("Labs", "Systems", "Analytics", "Logistics", "Health", "Media", "Capital",
                    "Robotics", "Software", "Foods", "Energy", "Studio", "Partners", "Works")
JOB_TITLES = (
    "CEO", "Founder", "Head of Sales", "VP Marketing", "Growth Lead", "CTO", "Sales Manager",
    "Operations Director", "RevOps Manager", "Account Executive", "Marketing Manager", "COO",
)
SENDER_DOMAINS = (
    "getnorthwind.example", "northwind-mail.example", "tryorbital.example", "orbital-hq.example",
    "usebeacon.example", "beacon-team.example", "meetlumen.example", "lumen-sales.example",
)
