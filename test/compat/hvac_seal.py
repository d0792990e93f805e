"""hvac 0.11 drives init, unseal, seal-status, health and seal against a real Coffer server.
Run by test/compat/hvac.test.ts with VAULT_ADDR set; prints one JSON line of observations."""
import json
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"])
out = {}
out["initialized_before"] = client.sys.is_initialized()
out["health_uninit"] = client.sys.read_health_status(method="GET").status_code
init = client.sys.initialize(secret_shares=5, secret_threshold=3)
keys = init["keys"]
out["num_keys"] = len(keys)
out["initialized_after"] = client.sys.is_initialized()
out["sealed_after_init"] = client.sys.is_sealed()
status = client.sys.read_seal_status()
out["t"], out["n"] = status["t"], status["n"]
r = client.sys.submit_unseal_key(keys[0])
out["progress_1"] = r["progress"]
r = client.sys.submit_unseal_keys(keys[1:3])
out["sealed_after_quorum"] = r["sealed"]
out["is_sealed"] = client.sys.is_sealed()
health = client.sys.read_health_status(method="GET")
out["health_active"] = health["initialized"] and not health["sealed"]
out["health_head"] = client.sys.read_health_status().status_code
client.token = init["root_token"]
out["authenticated"] = client.is_authenticated()
out["key_status_term"] = client.sys.get_encryption_key_status()["data"]["term"]
client.sys.rotate_encryption_key()
out["key_status_term_after_rotate"] = client.sys.get_encryption_key_status()["data"]["term"]
client.sys.seal()
out["sealed_after_seal"] = client.sys.is_sealed()
out["health_sealed"] = client.sys.read_health_status(method="GET").status_code
try:
    client.sys.submit_unseal_key("00" * 33)
    out["bad_key"] = "accepted"
except hvac.exceptions.InvalidRequest as e:
    out["bad_key"] = "InvalidRequest"
r = client.sys.submit_unseal_keys(keys[2:5])
out["sealed_after_reunseal"] = r["sealed"]
print(json.dumps(out))
