"""The e-mail variant of a report page (``instantly-nb report --email``).

E-mail programs run no scripts and drop ``<style>`` blocks, so the variant keeps what works
pasted into a message body: the header, the headline block, one line per account needing
action, every section's text, tables (reader columns, first :data:`EMAIL_ROWS` rows) and the
static chart pictures drawn at build time; styles are written inline on each element. Scripts, data blocks, buttons,
folded details and the contents list are left out; the full HTML report keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser

from .fragments import esc

__all__ = ["EMAIL_STYLES", "email_page", "inline_styles"]

#: (selector, declarations). A selector is one or two simple parts (``tag``, ``.class``,
#: ``tag.class``); two parts match an element inside another. Later rules add to earlier ones.
EMAIL_STYLES: tuple[tuple[str, str], ...] = (
    ("body", "margin:0;padding:12px;color:#1d2430;background:#fff;"
     "font:14px/1.5 -apple-system,'Segoe UI',Roboto,Arial,sans-serif"),
    ("h1", "font-size:22px;margin:0 0 6px"),
    ("h2", "font-size:18px;margin:22px 0 8px"),
    ("h3", "font-size:15px;margin:14px 0 4px"),
    ("a", "color:#2f5bd3"),
    ("dl.facts", "margin:0 0 12px;color:#5b6576;font-size:13px"),
    ("dt", "display:inline;font-weight:600"), ("dd", "display:inline;margin:0 14px 0 4px"),
    (".badge", "color:#b54708;font-weight:600;margin-left:4px"),
    ("section.headline", "background:#f6f8fb;border:1px solid #dde2ea;padding:4px 14px 10px"),
    (".period", "color:#5b6576;margin:0 0 8px"),
    (".figure", "display:inline-block;vertical-align:top;min-width:140px;margin:0 8px 8px 0;"
     "padding:6px 10px;background:#fff;border:1px solid #dde2ea"),
    (".label", "color:#5b6576;font-size:12px"),
    (".value", "font-size:20px;font-weight:700"),
    (".change", "font-size:12px;color:#5b6576"),
    (".noise", "color:#5b6576;font-style:italic"),
    ("section.alerts", "border:1px solid #f4c7c0;background:#fff8f6;padding:4px 14px 8px;"
     "margin-top:12px"),
    ("ul", "margin:4px 0;padding-left:18px"), ("ol", "margin:4px 0;padding-left:18px"),
    (".severity", "font-size:11px;font-weight:700;text-transform:uppercase;color:#b54708"),
    (".critical .severity", "color:#b42318"),
    (".count", "color:#5b6576"),
    (".details", "margin:2px 0 0;color:#5b6576;font-size:12px"),
    ("figure", "margin:10px 0 16px"),
    ("figcaption", "font-weight:600;margin-bottom:4px"),
    ("img", "max-width:100%;height:auto;border:0"),
    ("table", "border-collapse:collapse;font-size:13px;max-width:100%"),
    ("th", "text-align:left;background:#eef2f8;padding:3px 6px"),
    ("td", "padding:3px 6px;border-top:1px solid #dde"),
    (".num", "text-align:right"),
    (".note", "color:#5b6576;font-size:12px"), (".caption", "color:#5b6576;font-size:12px"),
    ("pre", "white-space:pre-wrap;background:#f6f8fb;padding:6px 10px;font-size:12px"),
    (".notice", "border-left:4px solid #b42318;background:#fff6f5;padding:6px 10px"),
    (".definitions", "font-size:12px;color:#5b6576;border-top:1px solid #dde2ea"),
    ("footer", "margin-top:20px;color:#5b6576;font-size:12px"),
)

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
_ACCOUNT_LINE = r'<details class="account[^"]*"><summary>.*?</summary></details>'
#: (pattern, replacement), applied in order to the page's own markup.
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r'<div class="toolbar">.*?</div>', re.DOTALL), ""),
    (re.compile(r'<nav class="toc".*?</nav>', re.DOTALL), ""),
    (re.compile(r'<div class="vis"></div>'), ""),
    (re.compile(r'<th scope="col" class="more-cell">Details</th>'), ""),
    (re.compile(r'<td class="more-cell">.*?</td>', re.DOTALL), ""),
    (re.compile(r'<p class="note">\d+ accounts?, worst first; open a line for its alerts\.</p>'),
     ""),
    # an account's own alerts: the line naming the account and its worst alert stays
    (re.compile(r"<ul>(?:(?!</?ul>).)*</ul></details>", re.DOTALL), "</details>"),
    (re.compile(r'<details class="more-accounts"><summary>Show (\d+) more accounts</summary>'
                rf"(?:{_ACCOUNT_LINE})*</details>", re.DOTALL),
     r'<p class="note">And \1 more accounts in the full report.</p>'),
    (re.compile(r"<details><summary>Show (\d+) more</summary>.*?</details>", re.DOTALL),
     r'<p class="note">And \1 more alerts in the full report.</p>'),
    (re.compile(r"<style>.*?</style>", re.DOTALL), ""),
    (re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>'), ""),
]
_TBODY = re.compile(r"<tbody>(.*?)</tbody></table>", re.DOTALL)
_ROW = re.compile(r"<tr>.*?</tr>", re.DOTALL)
#: Rows kept per table in the e-mail; the full report has them all.
EMAIL_ROWS = 12


def _cap_rows(match: re.Match[str]) -> str:
    rows = _ROW.findall(match.group(1))
    if len(rows) <= EMAIL_ROWS:
        return match.group(0)
    return (
        f"<tbody>{''.join(rows[:EMAIL_ROWS])}</tbody></table>"
        f'<p class="note">The first {EMAIL_ROWS} of {len(rows)} rows; the full report has '
        "them all.</p>"
    )


_DETAILS = re.compile(r"<details\b[^>]*>|</details>|<summary>|</summary>")


def _parse(selector: str) -> tuple[str | None, str | None]:
    tag, _, cls = selector.partition(".")
    return (tag or None), (cls or None)


def _matches(part: tuple[str | None, str | None], tag: str, classes: Sequence[str]) -> bool:
    want_tag, want_class = part
    return (want_tag is None or want_tag == tag) and (want_class is None or want_class in classes)


class _Inliner(HTMLParser):
    """Re-emits HTML with each element's matching declarations in its ``style`` attribute."""

    def __init__(self, rules: Sequence[tuple[str, str]]):
        super().__init__(convert_charrefs=False)
        self.rules = [([_parse(p) for p in sel.split()], style) for sel, style in rules]
        self.out: list[str] = []
        self.stack: list[tuple[str, list[str]]] = []

    def _style(self, tag: str, classes: list[str]) -> str:
        found = []
        for parts, style in self.rules:
            *outer, last = parts
            if not _matches(last, tag, classes):
                continue
            if outer and not any(_matches(outer[0], t, c) for t, c in self.stack):
                continue
            found.append(style)
        return ";".join(found)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = next((v or "" for k, v in attrs if k == "class"), "").split()
        style = self._style(tag, classes)
        kept = [(k, v) for k, v in attrs if k != "style"]
        if style:
            kept.append(("style", style))
        text = "".join(f" {k}" if v is None else f' {k}="{esc(v)}"' for k, v in kept)
        self.out.append(f"<{tag}{text}>")
        if tag not in _VOID:
            self.stack.append((tag, classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def inline_styles(html: str, rules: Sequence[tuple[str, str]] = EMAIL_STYLES) -> str:
    """Write the declarations of ``rules`` into the ``style`` attribute of matching elements."""
    inliner = _Inliner(rules)
    inliner.feed(html)
    inliner.close()
    return "".join(inliner.out)


def email_page(page: str, *, rules: Mapping[str, str] | None = None) -> str:
    """The e-mail variant of a full report page built by :func:`page.build_page`.

    Parameters
    ----------
    page : str
        The HTML report page.
    rules : Mapping[str, str], optional
        Extra ``selector -> declarations`` added after :data:`EMAIL_STYLES`.

    Returns
    -------
    str
        A page with no script, no style block and inline styles only.
    """
    text = _SCRIPT.sub("", page)
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _TBODY.sub(_cap_rows, text)
    text = _DETAILS.sub(lambda m: "</div>" if m.group(0).startswith("</") else "<div>", text)
    note = (
        '<p class="note">The full report (interactive charts, every column, CSV downloads) '
        "is the HTML file this message was made from.</p></body>"
    )
    text = text.replace("</body>", note, 1)
    return inline_styles(text, [*EMAIL_STYLES, *(rules or {}).items()])
