"""Made-up credentials of every family the redactor knows, as real output carries them, and
ordinary log lines that must come through unchanged.

Tokens are generated (a fixed seed, the providers' documented prefixes, alphabets and lengths)
rather than written out, so this file holds nothing a secret scanner would flag. Each entry is
(family, line, secret): the line as a log, a config dump or a command line shows it, and the
part of it that must not survive.
"""

from __future__ import annotations

import random
import string

_RNG = random.Random(25)
ALNUM = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
UPPER = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def gen(n: int, alphabet: str = ALNUM) -> str:
    """``n`` random characters, with at least one digit and one letter where the alphabet has
    both (as a generated token has, almost always)."""
    if n < 2:
        return "".join(_RNG.choice(alphabet) for _ in range(n))
    while True:
        out = "".join(_RNG.choice(alphabet) for _ in range(n))
        letters = any(c.isalpha() for c in alphabet)
        digits = any(c.isdigit() for c in alphabet)
        if (not letters or any(c.isalpha() for c in out)) and (
            not digits or any(c.isdigit() for c in out)
        ):
            return out


def _uuid() -> str:
    return "-".join(gen(n, HEX) for n in (8, 4, 4, 4, 12))


def _jwt() -> str:
    return "eyJhbGciOiJIUzI1NiJ9." + "eyJ" + gen(40, URLSAFE) + "." + gen(43, URLSAFE)


def _token(prefix: str, n: int, alphabet: str = ALNUM, suffix: str = "") -> tuple[str, str]:
    value = prefix + gen(n, alphabet) + suffix
    return f"2026-12-04 12:00:01 INFO client: using {value} for requests", value


# (family, line, secret) for each row of ``TOKEN_SHAPES``, by the family's name there.
TOKENS: dict[str, tuple[str, str]] = {
    "GitHub": _token("ghp_", 36),
    "GitLab": _token("glpat-", 20, URLSAFE),
    "Bitbucket / Atlassian": _token("ATATT3xFfGF0", 40, URLSAFE),
    "npm": _token("npm_", 36),
    "PyPI": _token("pypi-AgEIcHlwaS5vcmc", 60, URLSAFE),
    "RubyGems": _token("rubygems_", 48, HEX),
    "Clojars": _token("CLOJARS_", 60, LOWER),
    "NuGet": _token("oy2", 43, LOWER),
    "Docker Hub": _token("dckr_pat_", 27, URLSAFE),
    "JFrog": _token("AKCp", 69),
    "ReadMe": _token("rdme_", 70, LOWER),
    "Sourcegraph": _token("sgp_", 40, HEX),
    "AWS access key": _token("AKIA", 16, UPPER),
    "AWS Bedrock": _token("ABSK", 120, B64),
    "Google API key": _token("AIza", 35, URLSAFE),
    "Google OAuth": _token("ya29.", 60, URLSAFE),
    "Azure AD client secret": _token(gen(3) + "8Q~", 34, ALNUM),
    "Alibaba": _token("LTAI", 20),
    "Tencent": _token("AKID", 32),
    "Yandex": _token("AQVN", 36, URLSAFE),
    "DigitalOcean": _token("dop_v1_", 64, HEX),
    "Cloudflare origin CA": _token("v1.0-" + gen(24, HEX) + "-", 146, HEX),
    "Heroku": _token("HRKU-AA", 58, URLSAFE),
    "Fly.io": _token("fo1_", 43, URLSAFE),
    "Databricks": _token("dapi", 32, HEX),
    "Scalingo": _token("tk-us-", 48, URLSAFE),
    "PlanetScale": _token("pscale_tkn_", 43, URLSAFE),
    "Supabase": _token("sbp_", 40, HEX),
    "Vercel": _token("vcp_", 56),
    "Netlify": _token("nfp_", 40),
    "OpenShift": _token("sha256~", 43, URLSAFE),
    "Pulumi": _token("pul-", 40, HEX),
    "HashiCorp Vault": _token("hvs.", 95, URLSAFE),
    "HashiCorp Terraform": _token(gen(14) + ".atlasv1.", 67, URLSAFE),
    "Doppler": _token("dp.pt.", 43),
    "1Password": _token("ops_eyJ", 250, B64),
    "age": _token("AGE-SECRET-KEY-1", 58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
    "Infracost": _token("ico-", 32),
    "Harness": _token("pat." + gen(22, URLSAFE) + "." + gen(24) + ".", 20),
    "Prefect": _token("pnu_", 36),
    "Octopus Deploy": _token("API-", 26, UPPER),
    "Dynatrace": _token("dt0c01." + gen(24, UPPER) + ".", 64, UPPER),
    "Grafana": _token("glsa_", 32, ALNUM, "_" + gen(8, HEX)),
    "New Relic": _token("NRAK-", 27, UPPER),
    "Sentry": _token("sntryu_", 64, HEX),
    "Postman": _token("PMAK-" + gen(24, HEX) + "-", 34, HEX),
    "Linear": _token("lin_api_", 40),
    "Notion": _token("ntn_" + gen(11, string.digits), 35),
    "Typeform": _token("tfp_", 59, URLSAFE),
    "Frame.io": _token("fio-u-", 64, URLSAFE),
    "Authress": _token(
        "sc_" + gen(10, LOWER) + "." + gen(5, LOWER) + ".acc_" + gen(20, LOWER) + ".", 60, URLSAFE
    ),  # fmt: skip
    "SettleMint": _token("sm_pat_", 16),
    "ClickHouse": _token("4b1d", 38),
    "Artifactory / Sonar": _token("squ_", 40, HEX),
    "Snyk": _token("snyk_uat.", 40, URLSAFE),
    "OpenAI / Anthropic": _token("sk-ant-api03-", 93, URLSAFE, "AA"),
    "Hugging Face": _token("hf_", 34, string.ascii_letters),
    "Perplexity": _token("pplx-", 48),
    "Groq": _token("gsk_", 52),
    "Replicate": _token("r8_", 37),
    "xAI": _token("xai-", 80),
    "Stripe": _token("sk_live_", 24),
    "Square": _token("sq0atp-", 22, URLSAFE),
    "Shopify": _token("shpat_", 32, HEX),
    "Shippo": _token("shippo_live_", 40, HEX),
    "Duffel": _token("duffel_test_", 43, URLSAFE),
    "EasyPost": _token("EZAK", 54),
    "Flutterwave": _token("FLWSECK_TEST-", 32, HEX, "-X"),
    "Plaid": _token("access-sandbox-", 0, HEX, _uuid()),
    "Mailchimp": _token("", 32, HEX, "-us12"),
    "Mailgun": _token("key-", 32, HEX),
    "Maxmind": _token(gen(6) + "_", 29, ALNUM, "_mmk"),
    "Slack": _token("xoxb-" + gen(12, string.digits) + "-" + gen(12, string.digits) + "-", 24),
    "Slack webhook": _token(
        "http://hooks.slack.com/services/T" + gen(8, UPPER) + "/B" + gen(8, UPPER) + "/", 24
    ),  # fmt: skip
    "Discord webhook": _token(
        "https://discord.com/api/webhooks/" + gen(18, string.digits) + "/", 68, URLSAFE
    ),  # fmt: skip
    "Microsoft Teams webhook": _token(
        "https://acme.webhook.office.com/webhookb2/"
        + _uuid()
        + "@"
        + _uuid()
        + "/IncomingWebhook/",
        32,
        HEX,
    ),  # fmt: skip
    "SendGrid": _token("SG." + gen(22, URLSAFE) + ".", 43, URLSAFE),
    "Sendinblue / Brevo": _token("xkeysib-" + gen(64, HEX) + "-", 16),
    "Twilio": _token("SK", 32, HEX),
    "Telegram bot": _token(gen(10, string.digits) + ":AA", 33, URLSAFE),
    "Discord bot": _token("MT" + gen(24) + "." + gen(6, URLSAFE) + ".", 38, URLSAFE),
    "Facebook": _token("EAAC", 120),
    "Twitter / X bearer": _token("A" * 22, 90),
    "Dropbox": _token("sl.", 135, URLSAFE),
    "Mapbox": _token("pk.eyJ" + gen(54) + ".", 22),
    "Defined Networking": _token("dnkey-" + gen(26, URLSAFE) + "-", 52, URLSAFE),
    "Intra42": _token("s-s4t2ud-", 64, HEX),
    "Adobe": _token("p8e-", 32),
    "Airtable": _token("pat" + gen(14) + ".", 64, HEX),
    "JSON Web Token": (f"Authorization ok; session {_jwt()} accepted", ""),
    "JSON Web Token, base64": _token("ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlK", 60, B64),
    "AWS secret in a URL": _token("https://b.s3.amazonaws.com/k?X-Amz-Signature=", 64, HEX),
    "Google signed URL": _token("https://storage.googleapis.com/b/o?X-Goog-Signature=", 64, HEX),
}
# A signed URL's secret is its signature: the rest of the address may stay.
for _family in ("AWS secret in a URL", "Google signed URL"):
    _line, _value = TOKENS[_family]
    TOKENS[_family] = (_line, _value.rsplit("=", 1)[1])
# The JWT's secret is the token itself: the line was built around it.
_jwt_line = TOKENS["JSON Web Token"][0]
TOKENS["JSON Web Token"] = (_jwt_line, _jwt_line.split()[3])


def _named(service: str, n: int, alphabet: str = LOWER) -> list[tuple[str, str, str]]:
    """A service's key as configuration and logs name it, in the shapes they write it."""
    out = []
    for shape in ("{s}={v}", "{S}_API_KEY: {v}", '{{"{s}_token": "{v}"}}', "{s} secret key = {v}",
                  "export {S}_SECRET='{v}'", "{s}Token := \"{v}\""):  # fmt: skip
        value = gen(n, alphabet)
        line = shape.format(s=service, S=service.upper(), v=value)
        out.append((f"name-anchored {service}", line, value))
    return out


#: Values found by the name before them: a service's name or a secret's.
NAMED: list[tuple[str, str, str]] = [
    *_named("adafruit", 32),
    *_named("datadog", 40),
    *_named("okta", 42, URLSAFE),
    *_named("asana", 16, string.digits),
    *_named("cloudflare", 40, URLSAFE),
    *_named("sumologic", 64),
    *_named("launchdarkly", 40, URLSAFE),
    *_named("zendesk", 40),
    ("secret word", "DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    ("secret word", 'config: {"user": "admin", "password": "hunter2 horse"}', "hunter2 horse"),
    ("secret word", "headers={'X-Api-Key': 'abcd1234efgh5678'}", "abcd1234efgh5678"),
    ("secret word", "python serve.py --token s3cr3tvalue123 --port 8080", "s3cr3tvalue123"),
    ("secret word", "Set-Cookie: sessionid=38afes7a8b0c; HttpOnly", "38afes7a8b0c"),
    ("secret word", "<password>Tr0ub4dor&amp;3</password>", "Tr0ub4dor"),
    ("secret word", '\\"client_secret\\": \\"' + "q8Zr2LmP0vXs" + '\\"', "q8Zr2LmP0vXs"),
    ("secret word", "okta api token = 00" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9", "aB3dE5fG7h"),
]  # fmt: skip
_azure_key = gen(86, B64)
NAMED.append(("secret word", f"AccountName=a;AccountKey={_azure_key}==;EndpointSuffix=core",
              _azure_key))  # fmt: skip

#: The shapes of real server logs: (shape, line, secret).
LOG_SHAPES: list[tuple[str, str, str]] = [
    ("URL password with / @ #", "connecting to redis://:p@ss/w#rd@cache:6379/0", "p@ss/w#rd"),
    ("URL password", "postgres://app:Sup3rS3cret@db.internal:5432/app", "Sup3rS3cret"),
    (".netrc line", "machine pypi.example.org login deploy password hunter", "hunter"),
    (".pgpass line", "db.internal:5432:app:app:Zq81-lmW_p", "Zq81-lmW_p"),
    ("password then spaces", "auth failed: password hunter2 rejected", "hunter2"),
    ("aws configure", "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCY"
     "EXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG"),
    ("X-Amz-Signature", "GET https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-"
     "Amz-Credential=AKIA" + "Q3EGRNDMZ7XNCSPR/20261204/us-east-1/s3/aws4_request&X-Amz-"
     "Signature=" + "9f" * 32, "9f9f9f9f9f9f9f9f9f9f"),
    ("X-Goog-Signature", "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&"
     "X-Goog-Signature=" + "a1" * 64, "a1a1a1a1a1a1a1a1a1a1"),
    ("Authorization: AWS", "Authorization: AWS AKIA" + "Q3EGRNDMZ7XNCSPR:frJIUN8DYpKDtOLCwo//yllqDzg=",
     "frJIUN8DYpKDtOLCwo"),
    ("Authorization: ApiKey", "Authorization: ApiKey dXNlcjpLZXkxMjM0NTY3ODk=", "dXNlcjpLZXkx"),
    ("Authorization: Basic", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("curl -H Bearer", "curl -H 'Authorization: Bearer " + "tk_9aZ2mQ7wL4pX1" + "' https://x/api",
     "tk_9aZ2mQ7wL4pX1"),
    ("curl -u", "curl -u deploy:Wh1sk3y-T4ngo https://x/api", "Wh1sk3y-T4ngo"),
    ("Docker auth", '{"auths": {"registry.example": {"auth": "ZGVwbG95OlMzY3IzdC1wYXNz"}}}',
     "ZGVwbG95OlMzY3IzdC1wYXNz"),
    ("Ocp-Apim-Subscription-Key", "Ocp-Apim-Subscription-Key: 3f7a9c2e5b8d4f1a6c0e9b2d7f4a8c1e",
     "3f7a9c2e5b8d4f1a6c0e9b2d7f4a8c1e"),
    ("Azure SAS", "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&sig=abcdEFGH1234%2Bxyz%3D"
     "&se=2026", "abcdEFGH1234%2Bxyz"),
    ("NuGet config", '<add key="ClearTextPassword" value="NuG3t-Pa55" />', "NuG3t-Pa55"),
    ("Kubernetes Secret", "kind: Secret\ndata:\n  password: c2VjcmV0LXBhc3M=\n", "c2VjcmV0LXBhc3M"),
]  # fmt: skip

_KEY_BODY = "\n".join(gen(64, B64) for _ in range(6))
KEYS: list[tuple[str, str, str]] = [
    ("PEM private key", f"loaded:\n-----BEGIN RSA PRIVATE KEY-----\n{_KEY_BODY}\n"
     "-----END RSA PRIVATE KEY-----\ndone", _KEY_BODY.splitlines()[2]),
    ("key cut by the tail's start", _KEY_BODY[40:] + "\n-----END PRIVATE KEY-----\nserver up",
     _KEY_BODY.splitlines()[3]),
    ("key cut by the tail's end", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + _KEY_BODY[:200],
     _KEY_BODY[70:110]),
    ("key in JSON", '{"private_key": "-----BEGIN PRIVATE KEY-----\\n'
     + _KEY_BODY.replace("\n", "\\n") + '\\n-----END PRIVATE KEY-----\\n"}', _KEY_BODY[:40]),
    ("PGP key block", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + _KEY_BODY
     + "\n-----END PGP PRIVATE KEY BLOCK-----", _KEY_BODY[200:240]),
]  # fmt: skip

#: Lines real servers print that hold no secret: tracebacks, paths, versions, addresses,
#: ports, pids, hashes, ids. Redaction must leave every one as it is.
ORDINARY = [
    "INFO 11-30 engine: max_num_batched_tokens=2048, max_model_len=4096",
    "epoch 3/10 loss=0.231 acc=0.91 at 127.0.0.1:8080, 512 tokens generated successfully",
    "Traceback (most recent call last): KeyError: 'token'",
    "uvicorn: Started server process [1234]; password hashing disabled in tests",
    "RuntimeError: context has already been set",
    '  File "/usr/lib/python3.11/multiprocessing/context.py", line 247, in set_start_method',
    "Fatal Python error: Segmentation fault at 0x00007f3a2c1b4e80 (most recent call first)",
    "commit=4f8a9c2e1b7d3f6a0e5c9b2d8f1a7e4c3b6d9f2a built from git",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "request_id=3f2c7a4e-9b1d-4e8a-b6c5-2d1f0e9a8b7c served in 12ms",
    "Successfully installed kserve-0.13.1 torch-2.13.0+cpu huggingface_hub==0.24.0",
    "tokenizer_mode=auto, tokenizer='facebook/opt-125m', skip_tokenizer_init=False",
    "sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "worker pid 4242 (ppid 4200) exited with code 0; access log at /var/log/access.log",
    "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)",
    'INFO:     127.0.0.1:51234 - "POST /v1/models/m:predict HTTP/1.1" 200 OK',
    "global_worker.function_actor_manager = FunctionActorManager(global_worker)",
    "authentication: none; api: v1; linear layer weight torch.Size([768, 768])",
    "Using the `WANDB_DISABLED` environment variable is deprecated",
    "Signature: spawn-main-guard-missing (the script starts processes at import)",
    "ImportError: cannot import name 'AutoTokenizer' from 'transformers' (unknown location)",
    "git+https://github.com/org/repo@v1.2.3#egg=pkg",
    "listening on [::]:50051 with 2 workers, grpc max message 104857600",
]
