"""hvac drives sys/generate-root against a real, initialized and unsealed Coffer server.
Run by test/compat/generate-root.test.ts with VAULT_ADDR and UNSEAL_KEYS (comma-separated) set;
prints one JSON line of observations."""
import base64
import json
import os

import hvac

keys = os.environ["UNSEAL_KEYS"].split(",")
client = hvac.Client(url=os.environ["VAULT_ADDR"])
out = {}

progress = client.sys.read_root_generation_progress()
out["started_before"] = progress["started"]
out["otp_length"] = progress["otp_length"]
out["required"] = progress["required"]

otp = "0123456789abcdefghijABCDEFGH"[: progress["otp_length"]]
started = client.sys.start_root_token_generation(otp=otp)
out["started"] = started["started"]
nonce = started["nonce"]

try:
    client.sys.generate_root(key=keys[0], nonce="wrong-nonce")
    out["wrong_nonce"] = "accepted"
except hvac.exceptions.InvalidRequest:
    out["wrong_nonce"] = "InvalidRequest"

first = client.sys.generate_root(key=keys[0], nonce=nonce)
out["progress_1"] = first["progress"]
out["complete_1"] = first["complete"]
out["read_progress"] = client.sys.read_root_generation_progress()["progress"]
done = client.sys.generate_root(key=keys[1], nonce=nonce)
out["complete"] = done["complete"]

# The CLI's -decode: base64 without padding, XORed with the OTP.
encoded = done["encoded_token"]
raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
token = bytes(a ^ b for a, b in zip(raw, otp.encode())).decode()
client.token = token
out["authenticated"] = client.is_authenticated()
out["policies"] = client.auth.token.lookup_self()["data"]["policies"]

client.sys.start_root_token_generation(otp=otp)
out["started_again"] = client.sys.read_root_generation_progress()["started"]
client.sys.cancel_root_generation()
out["started_after_cancel"] = client.sys.read_root_generation_progress()["started"]
print(json.dumps(out))
