"""A minimal SigV4 signer for the load generator: UNSIGNED-PAYLOAD, signing key
derived once per day, so signing costs two HMACs per request."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import quote

UNSIGNED = "UNSIGNED-PAYLOAD"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Signer:
    def __init__(self, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self._day = ""
        self._key = b""

    def _signing_key(self, day: str) -> bytes:
        if day != self._day:
            k = _hmac(("AWS4" + self.secret_key).encode(), day)
            for part in (self.region, "s3", "aws4_request"):
                k = _hmac(k, part)
            self._day, self._key = day, k
        return self._key

    def sign(self, method: str, host: str, path: str, query: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, now: dt.datetime | None = None) -> dict[str, str]:
        """Headers to send (including Authorization) for a request to `path`
        (already percent-encoded) with `query` (unencoded)."""
        now = now or dt.datetime.now(dt.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        out = {k.lower(): v for k, v in (headers or {}).items()}
        out.update({"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": UNSIGNED})
        names = sorted(out)
        canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                                   for k, v in sorted((query or {}).items()))
        canonical = "\n".join([method, path, canonical_query,
                               "".join(f"{n}:{out[n].strip()}\n" for n in names), ";".join(names), UNSIGNED])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._signing_key(day), to_sign.encode(), hashlib.sha256).hexdigest()
        out["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
        del out["host"]
        return out
