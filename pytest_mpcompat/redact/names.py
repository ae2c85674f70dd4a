"""Values found by the name before them: a setting, field, header, flag or XML element whose name
says it holds a secret (``DB_PASSWORD=x``, ``"api_key": "x"``, ``X-Api-Key: x``, ``--token x``,
``<password>x</password>``, ``password hunter2``), or names a service whose credentials it
holds (``adafruit=...``, ``datadog_app ... = ...``).

Two strengths of name. A *secret word* (password, token, secret, credential, ...) makes any
value after ``=`` or ``:`` a secret unless it says nothing (a number, ``true``, ``none``, a
path, a version, ``***``), and a value after a space one if it looks made up (letters and
digits mixed). A *service or key word* (a provider's name, ``signature``, ``auth``, a
``*_key``) makes a value a secret only when it looks random: long, and mixing letters with
digits or cases. Hashes, addresses and ids after other names (``commit=``, ``pid=``) stay.
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = ["SECRET_WORDS", "SERVICE_WORDS", "redact_named", "says_nothing"]

#: Words whose value is a secret whatever it looks like.
SECRET_WORDS = (
    "passw", "pwd", "passphrase", "passcode", "secret", "token", "api_key", "apikey", "api-key",
    "private_key", "privatekey", "private-key", "access_key", "accesskey", "access-key",
    "account_key", "accountkey", "account-key", "sharedaccesskey", "shared_access_key",
    "master_key", "masterkey", "encryption_key", "credential", "cookie", "session_id",
    "sessionid", "session-id", "client_secret",
    "bearer", "jwt", "conn_str", "connection_string", "connectionstring",
)  # fmt: skip
#: Words whose value is a secret when it looks random: services whose credentials logs carry,
#: and names of keys and signatures.
SERVICE_WORDS = (
    # kinds of key
    "signature", "signing", "auth", "_key", "-key", "key_", "key-", "licen", "dsn", "webhook",
    "sas", "subscription", "access", "creds", "api",
    # providers
    "adafruit", "adobe", "airtable", "algolia", "alibaba", "aliyun", "anthropic", "asana",
    "atlassian", "jira", "confluence", "auth0", "authress", "azure", "beamer", "bitbucket",
    "bittrex", "braintree", "circleci", "cisco", "meraki", "clickhouse", "cloudflare", "codecov",
    "cohere", "coinbase", "confluent", "contentful", "databricks", "datadog", "dd_api", "dd_app",
    "digitalocean", "discord", "docker", "doppler", "drone", "droneci", "dropbox", "duffel",
    "dynatrace", "easypost", "etsy", "facebook", "fastly", "finicity", "finnhub", "firebase",
    "flickr", "flutterwave", "frameio", "freshbooks", "gcp", "github", "gitlab", "gitter",
    "gocardless", "google", "grafana", "groq", "hashicorp", "terraform", "heroku", "hubspot",
    "huggingface", "infracost", "intercom", "intra42", "jfrog", "artifactory", "kraken", "kucoin",
    "launchdarkly", "linear", "linkedin", "linked_in", "linked-in", "lob", "looker", "mailchimp",
    "mailgun", "mapbox", "mattermost", "messagebird", "message_bird", "message-bird", "mistral",
    "netlify", "newrelic", "new_relic", "new-relic", "npm", "nytimes", "octopus", "okta",
    "onelogin", "openai", "pagerduty", "paypal", "plaid", "planetscale", "postman", "prefect",
    "privateai", "private_ai", "pulumi", "pypi", "rapidapi", "razorpay", "readme", "replicate",
    "rubygems", "scalingo", "segment", "sendbird", "sendgrid", "sendinblue", "brevo", "sentry",
    "shippo", "shopify", "sidekiq", "slack", "snyk", "sonar", "square", "squarespace", "stripe",
    "sumo", "sumologic", "supabase", "telegr", "contribsys", "travis", "twilio", "twitch",
    "twitter", "typeform", "vault", "vercel", "wandb", "yandex", "zendesk",
)  # fmt: skip

#: Every word, lower-cased, and whether it is a secret word.
_WORDS = tuple((w.lower(), True) for w in SECRET_WORDS) + tuple(
    (w.lower(), False) for w in SERVICE_WORDS
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
#: Names that contain a secret word but hold no secret (a tokenizer's settings).
_NOT_SECRET_NAMES = re.compile(r"(?i)tokeniz|tokenis|_tokens?_?(?:ids?|count|len|num)|num_tokens")
#: What may come between a name and its value: closing quotes or brackets, then an operator
#: (``=``, ``:``, ``:=``, ``=>``, ``?=``, ``||``, ``>`` closing an XML tag) and an opening quote,
#: or spaces only (``password hunter2``, ``--token x``).
_BETWEEN = re.compile(
    r"""(?P<close>(?:\\?["'`]|\])*)[ \t]*(?:(?P<op>:=|=>|\?=|\|\||=(?!=)|:(?!:)|>)"""
    r"""[ \t]*(?P<quote>\\?["'`])?|(?P<space>[ \t]+)(?P<squote>\\?["'`])?)"""
)
#: A few more words between a name and its operator (``okta api token = x``).
_MORE_WORDS = re.compile(r"(?:[ \t]+[\w.-]+){1,3}?(?=[ \t]*(?:[=:]|\?=))")
_UNQUOTED = re.compile(r"""[^\s"'`,;&<>()\[\]{}\\|]+""")
#: Values that say nothing secret.
_HARMLESS = re.compile(
    r"""(?ix)
    [-+]?\d{1,14}(?:\.\d+)?[a-z]{0,3}   # a number, a size or a duration (not a long id)
    | true|false|none|null|nil|undefined|yes|no|on|off|enabled?|disabled?|required|optional
    | unset|empty|missing|not[_-]?set|default|auto|redacted|masked|hidden|changeme
    | [*x.#-]+ | \[redacted\].* | [$%]\{?\w+\}?%? | \$\(.*\) | \{\{.*\}\} | <[\w-]+>
    | v?\d+(?:\.\d+)+(?:[-+.]?\w+)*     # a version
    | (?:[a-z]:)?[/\\~.][\w./\\~-]*      # a path
    | (?:str|int|bytes|bool|Optional|SecretStr|SecretBytes|Any|Union)\b.*
    """
)
_MAX_QUOTED = 400


def redact_named(text: str, mark: str) -> str:
    """``text`` with the value after every secret-naming name replaced by ``mark``."""
    out: list[str] = []
    done = 0
    for start, end, strong in _words(text):
        if start < done:
            continue
        while start > done and text[start - 1] in _NAME_CHARS:
            start -= 1
        while end < len(text) and text[end] in _NAME_CHARS:
            end += 1
        name = text[start:end].lower()
        if _NOT_SECRET_NAMES.search(name):
            continue
        strong = strong or any(w in name for w in SECRET_WORDS)
        found = _value(text, start, end, strong)
        if found is None:
            continue
        vstart, vend = found
        if text.startswith(mark, vstart):
            continue
        out += [text[done:vstart], mark]
        done = vend
    return "".join(out) + text[done:] if out else text


def _words(text: str) -> list[tuple[int, int, bool]]:
    """Where each word stands in ``text`` (any case), in order: found with ``str.find``, which
    costs far less than one pattern of every word. A service's name counts only as a word of
    its own (``lob`` in ``lob_key``, ``LobKey``, not in ``global``)."""
    lower = text.lower()
    found = []
    for word, strong in _WORDS:
        at = lower.find(word)
        while at >= 0:
            end = at + len(word)
            if strong or word[0] in "_-" or _alone(text, at, end):
                found.append((at, end, strong))
            at = lower.find(word, at + 1)
    found.sort()
    return found


def _alone(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    left = not before.isalpha() or (before.islower() and text[start].isupper())
    right = (
        not after.isalpha()
        or after.isupper()
        or (after == "s" and not text[end + 1 : end + 2].isalpha())
    )
    return left and right


def says_nothing(value: str) -> bool:
    """A value no secret has: a number, a word such as ``true`` or ``none``, a path, a
    version, a placeholder."""
    return _HARMLESS.fullmatch(value) is not None


def _value(text: str, start: int, end: int, strong: bool) -> tuple[int, int] | None:
    """Where the secret after the name ``text[start:end]`` is, or None."""
    found = _after(text, start, end, strong, _BETWEEN.match(text, end))
    if found is None:  # a few more words, then an operator: "okta api token = x"
        more = _MORE_WORDS.match(text, end)
        if more is not None and more.end() - end <= 30:
            between = _BETWEEN.match(text, more.end())
            if between is not None and between.group("op"):
                found = _after(text, start, end, strong, between)
    return found


def _after(
    text: str, start: int, end: int, strong: bool, between: re.Match[str] | None
) -> tuple[int, int] | None:
    if between is None or (between.group("op") is None and between.group("space") is None):
        return None
    op = between.group("op")
    if op == ">" and not (start > 0 and text[start - 1] == "<"):
        return None  # only <name>value</name>
    flag = start > 0 and text[start - 1] == "-" or text.startswith("-", start)
    quote = between.group("quote") or between.group("squote")
    vstart = between.end()
    vend = text.find(quote, vstart, vstart + _MAX_QUOTED) if quote else -1
    if vend < 0 or "\n" in text[vstart:vend]:  # unquoted, or its quote never closes
        run = _UNQUOTED.match(text, vstart)
        if run is None:
            return None
        vend = run.end()
    value = text[vstart:vend]
    if len(value) < 4 or says_nothing(value) or value.startswith(("=", "http")):
        return None
    if op is None and not flag:  # name, spaces, value: a secret only if it looks made up
        if not (_made_up(value) and (strong or _random(value))):
            return None
    elif not strong and not _random(value):
        return None
    return vstart, vend


def _classes(value: str) -> tuple[bool, bool, bool]:
    return (
        any(c.islower() for c in value),
        any(c.isupper() for c in value),
        any(c.isdigit() for c in value),
    )


def _made_up(value: str) -> bool:
    """Letters mixed with digits or symbols, or in mixed case inside the word: ``hunter2``,
    ``p@ss``, ``aB3x``; not an English word or an identifier."""
    lower, upper, digit = _classes(value)
    if digit and (lower or upper):
        return True
    if any(not c.isalnum() and c not in "_-." for c in value) and (lower or upper):
        return True
    return lower and upper and not value[1:].islower() and not value.isupper()


def _random(value: str) -> bool:
    """Long and varied enough to be generated: at least 10 characters mixing letters and
    digits (or 15 digits: a client id, or 12 letters changing case as random text does, not as
    ``CamelCase`` does), with the spread of characters random text has."""
    if len(value) < 10:
        return False
    if value.isdigit():
        return len(value) >= 15
    lower, upper, digit = _classes(value)
    if not (digit and (lower or upper)):
        letters = [c for c in value if c.isalpha()]
        pairs = zip(letters, letters[1:], strict=False)
        changes = sum(a.islower() != b.islower() for a, b in pairs)
        if len(letters) < 12 or changes < 0.35 * len(letters):
            return False
    return _entropy(value) >= 2.8


def _entropy(value: str) -> float:
    """Shannon entropy, bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())
