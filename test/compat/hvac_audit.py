"""hvac 0.11 drives the audit endpoints (enable, list, audit-hash, disable) against a real Coffer.
Run by test/compat/hvac-audit.test.ts with VAULT_ADDR, VAULT_TOKEN and AUDIT_FILE set; prints one
JSON line of observations."""
import json
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
path = os.environ["AUDIT_FILE"]
out = {}
r = client.sys.enable_audit_device(
    device_type="file", description="hvac file device", options={"file_path": path, "hmac_accessor": False}
)
out["enable_status"] = r.status_code
r = client.sys.enable_audit_device(device_type="file", path="second", options={"file_path": path + ".2"})
out["enable_path_status"] = r.status_code
devices = client.sys.list_enabled_audit_devices()
out["listed"] = sorted(devices["data"].keys())
out["listed_top_level"] = "file/" in devices
out["file_type"] = devices["data"]["file/"]["type"]
out["file_description"] = devices["data"]["file/"]["description"]
out["file_options"] = devices["data"]["file/"]["options"]
h = client.sys.calculate_hash(path="file", input_to_hash=os.environ["VAULT_TOKEN"])
out["hash_prefix"] = h["data"]["hash"].split(":")[0]
with open(path) as f:
    out["token_hash_in_log"] = h["data"]["hash"] in f.read()
try:
    client.sys.enable_audit_device(device_type="file", options={"file_path": path})
    out["duplicate"] = "accepted"
except hvac.exceptions.InvalidRequest as e:
    out["duplicate"] = "InvalidRequest"
try:
    client.sys.enable_audit_device(device_type="carrier-pigeon", path="bird")
    out["unknown_type"] = "accepted"
except hvac.exceptions.InvalidRequest:
    out["unknown_type"] = "InvalidRequest"
r = client.sys.disable_audit_device(path="second")
out["disable_status"] = r.status_code
out["after_disable"] = sorted(client.sys.list_enabled_audit_devices()["data"].keys())
print(json.dumps(out))
