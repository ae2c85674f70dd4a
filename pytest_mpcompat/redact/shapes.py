"""Secrets found by where they stand in a line's structure: key material (with its armour line
or without it, as a tail cut in the middle of a key leaves it), the password of a URL (of any
characters), an ``Authorization`` header and the credentials after an authentication scheme,
and the password fields of ``.netrc`` and ``.pgpass`` lines."""

from __future__ import annotations

import re

__all__ = ["redact_keys", "redact_shapes"]

_KEY_KIND = r"[ A-Z0-9_-]{0,100}?PRIVATE KEY(?: BLOCK)?"
#: An armoured private key: its armour, its body (PGP's ``Key: value`` headers, lines of base64,
#: line breaks as text or as JSON writes them, or spaces where a shell flattened them) and its
#: END line, which a tail cut in the middle of the key lacks.
_PRIVATE_KEY = re.compile(
    rf"-----BEGIN{_KEY_KIND}-----"
    r"(?:[A-Z][\w-]*: [^\r\n\\]*|[A-Za-z0-9+/=\r\n]+|\\[rn]|[ \t]+)*"
    rf"(?:-----END{_KEY_KIND}-----)?"
)
#: The body of a key whose armour line was cut off (a tail that starts inside the key): the
#: lines of base64 (and PGP's ``Key: value`` headers) before its END line. ``\n`` stands for
#: a newline as JSON writes one.
_KEY_BODY = re.compile(
    rf"(?:(?:[A-Za-z0-9+/=]{{8,}}|[A-Z][\w-]*: [^\n\\]*)[ \t]*(?:\r?\n|\\r?\\n))+"
    rf"-----END{_KEY_KIND}-----"
)
#: PuTTY's key files: the private lines after their count, and the MAC.
_PUTTY = re.compile(r"(Private-Lines: \d+(?:\r?\n|\\n))(?:[A-Za-z0-9+/=]+(?:\r?\n|\\n))+")
#: The password of a URL: from the scheme's ``user:`` to the last ``@`` that a host follows,
#: so a password holding ``/``, ``@`` or ``#`` goes whole.
_URL_PASSWORD = re.compile(
    r"""(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:'"<>]*):([^\s'"<>`]+)@"""
    r"""(?=[\w.\[\]%-]+(?::\d+)?(?:[/?#\s'"`)>,;]|$))"""
)
_PORT = re.compile(r"\d+(?:/.*)?")
#: An Authorization header (or field): its scheme word stays, everything after it goes.
_AUTH_HEADER = re.compile(
    r"""(?i)\b((?:proxy-)?authori[sz]ation\\?["']?[ \t]*[:=][ \t]*\\?["']?)"""
    r"""((?:[A-Za-z][\w-]{1,30}[ \t]+)?)([^\r\n"'\\]{4,})"""
)
#: Credentials after an authentication scheme, wherever they stand ("-H 'Bearer x'").
_AUTH_SCHEME = re.compile(
    r"\b(Bearer|Basic|Token|Digest|Negotiate|NTLM|AWS4-HMAC-SHA256|AWS|ApiKey|Api-Key|SSWS"
    r"|SharedKey|SharedKeyLite|GenieKey|Splunk|OAuth|Hawk|HMAC)([ \t]+)([\w.~+/=:,-]{8,})"
)
_SCHEME_WORDS = ("Bearer", "Basic", "Token", "Digest", "Negotiate", "NTLM", "AWS", "Api", "SSWS",
                 "Shared", "Genie", "Splunk", "OAuth", "Hawk", "HMAC")  # fmt: skip
#: A Kubernetes Secret as YAML: the values under its ``data:`` or ``stringData:``.
_K8S_KIND = re.compile(r"""(?i)\bkind:[ \t]*["']?secret\b""")
_K8S_DATA = re.compile(
    r"(?m)^([ \t]*(?:data|stringData):[ \t]*\r?\n)((?:[ \t]+[\w.-]+:[^\n]*(?:\n|\Z))+)"
)
_K8S_VALUE = re.compile(r"(?m)^([ \t]+[\w.-]+:[ \t]*)(\S[^\n]*)")
#: ``machine host login user password secret`` (.netrc) and ``host:port:db:user:secret``
#: (.pgpass).
#: An Azure shared access signature in a URL (``...&sig=...``).
_SAS = re.compile(r"(?i)([?&;]sig=)[A-Za-z0-9%+/=]{16,}")
_NETRC = re.compile(r"(?i)(\blogin[ \t]+\S+[ \t]+(?:password|passwd)[ \t]+)(\S+)")
#: ``curl -u user:password`` (``--user``), and a NuGet config's ``<add key="Password" value="x"/>``.
_CURL_USER = re.compile(r"""(\s(?:-u|--user)(?:=|[ \t]+)["']?[^\s:"']*["']?:)["']?([^\s"']+)""")
_NUGET = re.compile(
    r"""(?i)(<add\s+key\s*=\s*"[^"]*(?:passw|secret|token|apikey)[^"]*"\s*value\s*=\s*")[^"]+"""
)
_PGPASS = re.compile(r"(?m)^([\w.*\[\]-]+:(?:\d+|\*):[^:\s]+:[^:\s]+:)(\S+)$")


def redact_keys(text: str, mark: str) -> str:
    """Key material, which spans lines: taken out before the text is redacted line by line."""
    if "PRIVATE KEY" in text:
        text = _PRIVATE_KEY.sub(lambda m: _key(m, mark), text)
        text = _KEY_BODY.sub(mark, text)
    if "Private-Lines" in text:
        text = _PUTTY.sub(lambda m: m.group(1) + mark + "\n", text)
    if _K8S_KIND.search(text):
        text = _K8S_DATA.sub(lambda m: m.group(1) + _K8S_VALUE.sub(rf"\1{mark}", m.group(2)), text)
    return text


def redact_shapes(text: str, mark: str) -> str:
    """Every secret of a shape that stays within its line."""
    if "://" in text and "@" in text:
        text = _URL_PASSWORD.sub(lambda m: _url(m, mark), text)
    if "sig=" in text or "SIG=" in text:
        text = _SAS.sub(lambda m: m.group(1) + mark, text)
    if "uthori" in text or "UTHORI" in text:
        text = _AUTH_HEADER.sub(lambda m: m.group(1) + m.group(2) + mark, text)
    if any(word in text for word in _SCHEME_WORDS):
        text = _AUTH_SCHEME.sub(lambda m: _scheme(m, mark), text)
    if "login" in text or "LOGIN" in text:
        text = _NETRC.sub(lambda m: m.group(1) + mark, text)
    if "-u" in text:
        text = _CURL_USER.sub(lambda m: m.group(1) + mark, text)
    if "<add" in text:
        text = _NUGET.sub(lambda m: m.group(1) + mark, text)
    if text.count(":") >= 4:
        text = _PGPASS.sub(lambda m: m.group(1) + mark, text)
    return text


def _key(m: re.Match[str], mark: str) -> str:
    """A key block's mark, and the line break that ends a key cut short (it is the text's)."""
    key = m.group(0)
    return mark + key[len(key.rstrip("\r\n")) :]


def _url(m: re.Match[str], mark: str) -> str:
    password = m.group(2)
    if _PORT.fullmatch(password) or password.startswith(mark):
        return m.group(0)  # host:port/path@..., not a password
    return f"{m.group(1)}:{mark}@"


def _scheme(m: re.Match[str], mark: str) -> str:
    value = m.group(3)
    if value.startswith("[redacted") or not any(c.isdigit() for c in value):
        if not (any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)):
            return m.group(0)  # "Basic authentication", "Token expired"
    return m.group(1) + m.group(2) + mark
