"""Credentials recognised by their shape alone, wherever they appear: a provider's fixed prefix
(``ghp_``, ``shpat_``, ``dp.pt.``, ``AKIA``) or a structure no ordinary text has (a JWT, a
webhook address). One row per family, as the providers document their tokens and as the
maintained secret scanners list them; a new family is a new row.

Each row is (family, keywords, pattern): a pattern is tried only on text that holds one of
its keywords (as gitleaks does; most text holds none, and a few ``in`` tests cost far less than
a scan by a hundred patterns). Patterns are matched case-sensitively unless they say
``(?i:...)``, and never inside a longer word (the character before and after must not be a
letter or digit), so ``dapi`` in ``rapidapi`` or ``SK`` in a hash is left alone.
"""

from __future__ import annotations

import functools
import re

__all__ = ["TOKEN_SHAPES", "redact_tokens"]

_B64 = r"[A-Za-z0-9+/]"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

TOKEN_SHAPES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # Source hosting and package registries
    ("GitHub", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{40,}"),
    ("GitLab", ("gl", "GR1348941", "_gitlab_session="),
     r"gl(?:pat|dt|ft|rt|soat|ffct|imt|oas|agent|cbt|ptt|rrt|wt)-[\w-]{20,}(?:\.[0-9a-z]{9})?"
     r"|glrt-t\d_[\w-]{20,}|GR1348941[\w-]{20,}|_gitlab_session=[0-9a-z]{32}"),
    ("Bitbucket / Atlassian", ("ATAT", "ATCTT3", "BBDC-"),
     r"ATAT[A-Za-z0-9_=-]{30,}|ATCTT3[A-Za-z0-9_=-]{30,}|BBDC-[A-Za-z0-9+/]{40,}"),
    ("npm", ("npm_",), r"npm_[A-Za-z0-9]{36}"),
    ("PyPI", ("pypi-AgEIcHlwaS5vcmc",), r"pypi-AgEIcHlwaS5vcmc[\w-]{20,}"),
    ("RubyGems", ("rubygems_",), r"rubygems_[0-9a-f]{48}"),
    ("Clojars", ("CLOJARS_", "clojars_", "Clojars_"), r"(?i:CLOJARS_)[a-z0-9]{60}"),
    ("NuGet", ("oy2",), r"oy2[a-z0-9]{43}"),
    ("Docker Hub", ("dckr_",), r"dckr_(?:pat|oat)_[\w-]{20,}"),
    ("JFrog", ("AKCp", "cmVmd"), r"AKCp[A-Za-z0-9]{60,}|cmVmd[A-Za-z0-9]{50,}"),
    ("ReadMe", ("rdme_",), r"rdme_[a-z0-9]{60,}"),
    ("Sourcegraph", ("sgp_",),
     r"sgp_(?:[0-9a-fA-F]{16}|local)_[0-9a-fA-F]{40}|sgp_[0-9a-fA-F]{40}"),
    # Clouds
    ("AWS access key",
     ("A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA",
      "APKA"),
     r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"),
    ("AWS Bedrock", ("ABSK", "bedrock-api-key-"),
     r"ABSK[A-Za-z0-9+/]{100,}={0,2}|bedrock-api-key-[A-Za-z0-9+/]{20,}={0,2}"),
    ("Google API key", ("AIza",), r"AIza[\w-]{35}"),
    ("Google OAuth", ("ya29.", "1//0", "GOCSPX-"),
     r"ya29\.[\w-]{20,}|1//0[\w-]{30,}|GOCSPX-[\w-]{20,}"),
    ("Azure AD client secret", ("Q~",), r"[\w~.]{3}\dQ~[\w~.-]{31,34}"),
    ("Alibaba", ("LTAI",), r"LTAI[A-Za-z0-9]{20}"),
    ("Tencent", ("AKID",), r"AKID[A-Za-z0-9]{32}"),
    ("Yandex", ("AQVN", "YC", "t1."),
     r"AQVN[\w-]{35,38}|YC[\w-]{38}|t1\.[\w-]+={0,2}\.[\w-]{86}={0,2}"),
    ("DigitalOcean", ("_v1_",), r"do[opr]_v1_[0-9a-f]{64}"),
    ("Cloudflare origin CA", ("v1.0-",), r"v1\.0-[0-9a-f]{24}-[0-9a-f]{146}"),
    ("Heroku", ("HRKU-AA",), r"HRKU-AA[\w-]{58}"),
    ("Fly.io", ("fo1_", "fm1", "fm2_"),
     r"fo1_[\w-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3}"),
    ("Databricks", ("dapi",), r"dapi[0-9a-f]{32}(?:-\d)?"),
    ("Scalingo", ("tk-us-",), r"tk-us-[\w-]{48}"),
    ("PlanetScale", ("pscale_",), r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32,64}"),
    ("Supabase", ("sbp_", "sb_secret_"), r"sbp_[0-9a-f]{40}|sb_secret_[\w-]{20,}"),
    ("Vercel", ("vc",), r"vc[piakr]_[A-Za-z0-9]{24,}"),
    ("Netlify", ("nfp_",), r"nfp_[A-Za-z0-9]{36,}"),
    ("OpenShift", ("sha256~",), r"sha256~[\w-]{43}"),
    ("Pulumi", ("pul-",), r"pul-[0-9a-f]{40}"),
    ("HashiCorp Vault", ("hvs.", "hvb.", "hvr.", "s."),
     r"hv[sbr]\.[\w-]{24,}|s\.(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{24}"),
    ("HashiCorp Terraform", (".atlasv1.",), r"[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,70}"),
    ("Doppler", ("dp.",), r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}"),
    ("1Password", ("A3-", "ops_eyJ"),
     r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}"
     r"|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"
     r"|ops_eyJ[A-Za-z0-9+/]{100,}={0,3}"),
    ("age", ("AGE-SECRET-KEY-1",), r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}"),
    ("Infracost", ("ico-",), r"ico-[A-Za-z0-9]{32}"),
    ("Harness", ("pat.", "sat."), r"(?:pat|sat)\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    ("Prefect", ("pnu_",), r"pnu_[A-Za-z0-9]{36}"),
    ("Octopus Deploy", ("API-",), r"API-[A-Z0-9]{26}"),
    ("Dynatrace", ("dt0c01.",), r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
    ("Grafana", ("glc_", "glsa_", "eyJrIjoi"),
     r"glc_[A-Za-z0-9+/]{32,}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
     r"|eyJrIjoi[A-Za-z0-9]{60,}={0,3}"),
    ("New Relic", ("NRAK-", "NRII-", "NRJS-", "NRAA-"), r"NR(?:AK|II|JS|AA)-[A-Za-z0-9-]{19,40}"),
    ("Sentry", ("sntrys_", "sntryu_"), r"sntry[su]_[A-Za-z0-9+/=_]{40,}"),
    ("Postman", ("PMAK-",), r"PMAK-[0-9a-f]{24}-[0-9a-f]{34}"),
    ("Linear", ("lin_",), r"lin_(?:api|oauth)_[A-Za-z0-9]{40}"),
    ("Notion", ("ntn_", "secret_"),
     r"(?:ntn|secret)_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}"),
    ("Typeform", ("tfp_",), r"tfp_[\w.=-]{59}"),
    ("Frame.io", ("fio-u-",), r"fio-u-[\w=-]{64}"),
    ("Authress", (".acc",),
     r"(?:sc|ext|scauth"
     r"|authress)_[A-Za-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}"),
    ("SettleMint", ("sm_",), r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}"),
    ("ClickHouse", ("4b1d",), r"4b1d[A-Za-z0-9]{38}"),
    ("Artifactory / Sonar", ("squ_", "sqp_", "sqa_"), r"sq[upa]_[0-9a-f]{40}"),
    ("Snyk", ("snyk_",), r"snyk_(?:uat|sat|oat)\.[\w.-]{30,}"),
    # AI providers
    ("OpenAI / Anthropic", ("sk-",),
     r"sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-|admin\d\d-)?)?[\w-]{20,}"),
    ("Hugging Face", ("hf_", "api_org_"), r"hf_[A-Za-z0-9]{20,}|api_org_[A-Za-z]{34}"),
    ("Perplexity", ("pplx-",), r"pplx-[A-Za-z0-9]{48}"),
    ("Groq", ("gsk_",), r"gsk_[A-Za-z0-9]{48,}"),
    ("Replicate", ("r8_",), r"r8_[A-Za-z0-9]{37}"),
    ("xAI", ("xai-",), r"xai-[A-Za-z0-9]{60,}"),
    # Payments and commerce
    ("Stripe", ("_live_", "_test_", "_prod_", "whsec_"),
     r"(?:sk|rk|pk|whsec)_(?:live|test|prod)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{32,}"),
    ("Square", ("EAAA", "sq0"), r"(?:EAAA|sq0atp-|sq0csp-)[\w-]{22,60}"),
    ("Shopify", ("shp",), r"shp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}"),
    ("Shippo", ("shippo_",), r"shippo_(?:live|test)_[0-9a-fA-F]{40}"),
    ("Duffel", ("duffel_",), r"duffel_(?:test|live)_[\w=-]{43}"),
    ("EasyPost", ("EZAK", "EZTK"), r"EZ[AT]K[A-Za-z0-9]{54}"),
    ("Flutterwave", ("FLW",), r"FLW(?:SEC|PUB)K(?:_TEST)?-[a-h0-9]{12,32}(?:-X)?"),
    ("Plaid", ("access-",),
     r"access-(?:sandbox|development"
     r"|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    ("Mailchimp", ("-us",), r"[0-9a-f]{32}-us\d{1,2}"),
    ("Mailgun", ("key-",), r"(?:key|pubkey)-[0-9a-f]{32}"),
    ("Maxmind", ("_mmk",), r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk"),
    # Messaging
    ("Slack", ("xox", "xapp-"),
     r"xox[abposre]-[A-Za-z0-9-]{8,}|xapp-\d-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-[\w-]{20,}"),
    ("Slack webhook", ("hooks.slack.com",),
     r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[\w+/-]{20,}"),
    ("Discord webhook", ("/api/webhooks/",),
     r"(?:https?://)?(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}"),
    ("Microsoft Teams webhook", ("webhook.office.com", "logic.azure.com"),
     r"https://[\w.-]+\.webhook\.office\.com/webhookb2/[\w@/-]{40,}"
     r"|https://[\w.-]+\.logic\.azure\.com[\w/:-]*\?[\w=&%.-]*sig=[\w%-]{20,}"),
    ("SendGrid", ("SG.",), r"SG\.[\w-]{16,}\.[\w-]{16,}|SG\.[\w=.-]{66}"),
    ("Sendinblue / Brevo", ("sib-",),
     r"xkeysib-[0-9a-f]{64}-[A-Za-z0-9]{16}|xsmtpsib-[0-9a-f]{64}-[A-Za-z0-9]{16}"),
    ("Twilio", ("SK",), r"SK[0-9a-fA-F]{32}"),
    ("Telegram bot", (":A",), r"\d{5,16}:A[\w-]{34}"),
    ("Discord bot", (".",), r"[MNO][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,}"),
    ("Facebook", ("EAA", "|", "%"), r"EAA[MC][A-Za-z0-9]{60,}|\d{15,16}(?:\||%7C|%)[\w-]{27,40}"),
    ("Twitter / X bearer", ("AAAAAAAAAAAAAAAAAAAA",), r"A{20,}[A-Za-z0-9%]{60,}"),
    ("Dropbox", ("sl.", "AAAAAAAAAA"), r"sl\.[\w=-]{100,}|[a-z0-9]{11}AAAAAAAAAA[\w=-]{43}"),
    ("Mapbox", ("k.eyJ",), r"[ps]k\.eyJ[\w-]{20,}\.[\w-]{20,}"),
    ("Defined Networking", ("dnkey-",), r"dnkey-[\w=-]{26}-[\w=-]{52}"),
    ("Intra42", ("s-s4t2",), r"s-s4t2(?:ud|af)-[0-9a-f]{64}"),
    ("Adobe", ("p8e-",), r"p8e-[A-Za-z0-9]{32}"),
    ("Airtable", ("pat",), r"pat[A-Za-z0-9]{14}\.[0-9a-f]{64}"),
    # Generic structures
    ("JSON Web Token", ("ey",),
     r"eyJ[\w-]{10,}={0,2}\.[\w-]{4,}={0,2}\.[\w-]*"
     r"|ey[A-Za-z0-9]{17,}\.ey[\w/\\-]{17,}\.(?:[\w/\\-]{10,}={0,2})?"),
    ("JSON Web Token, base64", ("ZXlK",), r"ZXlK[\w+/-]{40,}={0,2}"),
    ("AWS secret in a URL", ("X-Amz-",),
     r"X-Amz-(?:Signature|Security-Token|Credential)=[^&\s\"'<>]{8,}"),
    ("Google signed URL", ("X-Goog-",), r"X-Goog-(?:Signature|Credential)=[^&\s\"'<>]{8,}"),
)  # fmt: skip


def redact_tokens(text: str, mark: str) -> str:
    """``text`` with every token of a family in ``TOKEN_SHAPES`` replaced by ``mark``."""
    present = tuple(
        n for n, (_, keywords, _) in enumerate(TOKEN_SHAPES) if any(k in text for k in keywords)
    )
    return _pattern(present).sub(mark, text) if present else text


@functools.lru_cache(maxsize=1024)
def _pattern(families: tuple[int, ...]) -> re.Pattern[str]:
    """One pattern for the families whose keywords a text holds. Not \\b: a token glued to a
    name by "_" ("model_hf_...") is still a token."""
    either = "|".join(TOKEN_SHAPES[n][2] for n in families)
    return re.compile(f"(?<![A-Za-z0-9])(?:{either})(?![A-Za-z0-9])")
