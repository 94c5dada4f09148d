"""Markdown to HTML for report text: raw HTML escaped, only inline images, safe links.

Markdown cells and ``text/markdown`` outputs may hold text from the API (a campaign name in an
f-string), so raw HTML is shown as text, never as markup. Images load only from ``data:`` URLs
(a remote image would be a network request when the report is opened); other images are shown
as their alt text. Links keep working but open without a referrer.
"""

from __future__ import annotations

import re
from typing import Any

import mistune

__all__ = ["render_markdown"]

_INLINE_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


class _SafeRenderer(mistune.HTMLRenderer):
    """HTML renderer that never emits a remote image nor an unsafe link."""

    def image(self, text: str, url: str, title: str | None = None) -> str:
        # ``text`` is the already escaped HTML of the alt text; keep its entities as they are.
        alt = self.escape_attribute(mistune.util.striptags(text))
        if _INLINE_IMAGE.match(url):
            return f'<img src="{self.escape_attribute(url)}" alt="{alt}" />'
        return f'<span class="omitted-image">[image: {alt or "omitted"}]</span>'

    def link(self, text: str, url: str, title: str | None = None) -> str:
        href = self.safe_url(url)
        attrs = f' title="{self.escape_attribute(title)}"' if title else ""
        return f'<a href="{href}"{attrs} rel="noopener noreferrer">{text}</a>'

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        # Notebook headings sit under the report title: keep h1 for the page itself.
        tag = f"h{min(level + 1, 6)}"
        return f"<{tag}>{text}</{tag}>\n"


_MARKDOWN = mistune.create_markdown(
    escape=True, renderer=_SafeRenderer(escape=True), plugins=["table", "strikethrough"]
)


def render_markdown(text: str) -> str:
    """Render Markdown to HTML with raw HTML escaped and remote images dropped.

    Examples
    --------
    >>> render_markdown("**<b>hi</b>**")
    '<p><strong>&lt;b&gt;hi&lt;/b&gt;</strong></p>\\n'
    """
    return str(_MARKDOWN(text))
