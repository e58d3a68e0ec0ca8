"""Signs the dev server's demo admin in, as a browser would, and prints the session cookie.

Usage: ready_admin.py http://localhost:PORT  → prints `porter_session=...` (full session:
activated, authenticator app enrolled with pyotp, organisation set up).
"""

import re
import sys

import pyotp
import requests

PASSWORD = "fuzzing harbour lantern 58"  # pragma: allowlist secret (a throwaway demo account)
base = sys.argv[1].rstrip("/")
s = requests.Session()
s.headers.update({"Origin": base, "Content-Type": "application/json"})


def post(path, body=None):
    r = s.post(base + path, json=body or {}, timeout=10)
    if r.status_code >= 400:
        sys.exit(f"{path}: {r.status_code} {r.text}")
    return r.json() if r.content else {}


mails = requests.get(base + "/_dev/outbox.json", timeout=10).json()
mail = next(m for m in mails if "admin@demo.test" in m["to"])
token = re.search(r"/activate\?token=([0-9a-f]{64})", mail["body"]).group(1)
post("/api/activation", {"token": token, "password": PASSWORD, "password_confirm": PASSWORD})
post("/api/login/identify", {"email": "admin@demo.test"})
post("/api/login/password", {"email": "admin@demo.test", "password": PASSWORD})
secret = post("/api/mfa/totp")["secret"]
post("/api/mfa/totp/confirm", {"code": pyotp.TOTP(secret).now()})
post("/api/setup", {"organisation_name": "Demo Company"})
cookie = next(c for c in s.cookies if c.name.endswith("porter_session"))
print(f"{cookie.name}={cookie.value}")
