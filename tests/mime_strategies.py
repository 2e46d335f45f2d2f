"""Hypothesis strategies for hostile mail: raw RFC 5322 bytes with odd charsets, broken
encoded words, bad transfer encodings, RFC 2231 file names and nested, half-closed multiparts
(what real MTAs hand over from spammers and broken clients), or plain random bytes."""

from __future__ import annotations

import string

from hypothesis import strategies as st

CHARSETS = (
    "utf-8",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "shift_jis",
    "gb2312",
    "utf-7",
    "utf-16",
    "x-unknown-charset",
    "",
    "utf-8'en",
    '"',
)
ENCODINGS = ("", "7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus")
LEAF_TYPES = (
    "text/plain",
    "text/html",
    "text/x-garbage",
    "application/octet-stream",
    "application/pdf",
    "image/png",
    "message/rfc822",
    "message/delivery-status",
    "",
    "nonsense",
)
MULTIPART = ("mixed", "alternative", "related", "report", "digest", "signed", "x-unknown")
HEADER_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=60,
)
TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "-_.=+/", max_size=30)


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    """``=?charset?B|Q?...?=``, valid or not."""
    charset = draw(st.sampled_from(CHARSETS))
    kind = draw(st.sampled_from("BQbqX"))
    text = draw(st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=30))
    return f"=?{charset}?{kind}?{text}?="


HEADER_VALUE = st.lists(st.one_of(HEADER_TEXT, encoded_word()), max_size=4).map(" ".join)
ADDRESS_HEADER = st.one_of(
    st.emails().map(str),
    st.tuples(HEADER_VALUE, st.emails()).map(lambda p: f'"{p[0]}" <{p[1]}>'),
    HEADER_VALUE,
    st.just("undisclosed-recipients:;"),
    st.just("<>"),
)


def _header(name: str, value: str) -> bytes:
    return f"{name}: {value}\r\n".encode("utf-8", "surrogateescape")


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(ENCODINGS))
    head = b""
    if ctype:
        params = f'; charset="{charset}"' if draw(st.booleans()) else ""
        head += _header("Content-Type", ctype + params)
    if cte:
        head += _header("Content-Transfer-Encoding", cte)
    if draw(st.booleans()):
        name = draw(st.one_of(HEADER_VALUE, TOKEN))
        form = draw(st.sampled_from(("plain", "2231", "encoded")))
        if form == "2231":
            disposition = f"attachment; filename*={charset}''{name}"
        elif form == "encoded":
            disposition = f'attachment; filename="{draw(encoded_word())}"'
        else:
            disposition = (
                f'{draw(st.sampled_from(("attachment", "inline", "")))}; filename="{name}"'
            )
        head += _header("Content-Disposition", disposition)
    body = draw(
        st.one_of(
            st.binary(max_size=300),
            st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.just(b"<p onclick=x()>hi</p><script>alert(1)</script>"),
            st.just(b"SGVsbG8=\r\n====\r\n!!!"),  # base64 with junk
            st.just(b"=ZZ=\r\n=\r\nsoft=\r\n"),  # broken quoted-printable
        )
    )
    return head + b"\r\n" + body


@st.composite
def part(draw: st.DrawFn, depth: int) -> bytes:
    if depth <= 0 or not draw(st.booleans()):
        return draw(leaf())
    boundary = draw(st.one_of(TOKEN.filter(bool), st.just(""), st.just('"')))
    children = draw(st.lists(part(depth - 1), max_size=3))
    sep = f"--{boundary}".encode()
    body = draw(HEADER_TEXT).encode() + b"\r\n"  # the preamble
    for child in children:
        body += sep + b"\r\n" + child + b"\r\n"
    if draw(st.booleans()):  # the closing boundary is often missing
        body += sep + b"--\r\n"
    subtype = draw(st.sampled_from(MULTIPART))
    return _header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"') + b"\r\n" + body


@st.composite
def mime_message(draw: st.DrawFn) -> bytes:
    """A whole message: top-level headers (each maybe missing) and a body of nested parts."""
    head = b""
    if draw(st.booleans()):
        head += _header("From", draw(ADDRESS_HEADER))
    for name in ("To", "Cc", "Reply-To"):
        if draw(st.booleans()):
            head += _header(name, draw(ADDRESS_HEADER))
    if draw(st.booleans()):
        head += _header("Subject", draw(HEADER_VALUE))
    if draw(st.booleans()):
        head += _header("Message-ID", draw(st.one_of(TOKEN, TOKEN.map(lambda t: f"<{t}@x>"))))
    for name in ("In-Reply-To", "References", "Date", "Auto-Submitted", "Precedence"):
        if draw(st.integers(0, 3)) == 0:
            head += _header(name, draw(HEADER_VALUE))
    if draw(st.booleans()):
        head += _header("MIME-Version", "1.0")
    return head + draw(part(depth=3))


# Either a structured hostile message or bytes with no structure at all.
MAIL_BYTES = st.one_of(mime_message(), st.binary(max_size=500))
