"""hvac 0.11 drives every transit method against a real Coffer dev server.
Run by test/compat/hvac-transit.test.ts (which mounts transit at transit/) with VAULT_ADDR and
VAULT_TOKEN set; prints one JSON line of observations (never key material)."""
import base64
import json
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
transit = client.secrets.transit
out = {}


def b64(s):
    return base64.b64encode(s.encode()).decode()


def unb64(s):
    return base64.b64decode(s).decode()


# create, read, list
transit.create_key(name="orders")
transit.create_key(name="signer", key_type="ecdsa-p256", exportable=True, allow_plaintext_backup=True)
transit.create_key(name="tenants", derived=True)
key = transit.read_key(name="orders")["data"]
out["read_type"] = key["type"]
out["read_latest"] = key["latest_version"]
out["list"] = sorted(transit.list_keys()["data"]["keys"])

# encrypt, decrypt, batch
ct = transit.encrypt_data(name="orders", plaintext=b64("order #1"))["data"]["ciphertext"]
out["ct_prefix"] = ct[:9]
out["decrypted"] = unb64(transit.decrypt_data(name="orders", ciphertext=ct)["data"]["plaintext"])
batch = transit.encrypt_data(name="orders", plaintext="", batch_input=[{"plaintext": b64("a")}, {"plaintext": b64("b")}])
out["batch_count"] = len(batch["data"]["batch_results"])
derived = transit.encrypt_data(name="tenants", plaintext=b64("doc"), context=b64("tenant-1"))["data"]["ciphertext"]
out["derived_roundtrip"] = unb64(transit.decrypt_data(name="tenants", ciphertext=derived, context=b64("tenant-1"))["data"]["plaintext"])
try:
    transit.encrypt_data(name="tenants", plaintext=b64("doc"))
    out["derived_without_context"] = "accepted"
except hvac.exceptions.InvalidRequest:
    out["derived_without_context"] = "InvalidRequest"

# rotate, rewrap, config, trim
transit.rotate_key(name="orders")
rewrapped = transit.rewrap_data(name="orders", ciphertext=ct)["data"]["ciphertext"]
out["rewrapped_prefix"] = rewrapped[:9]
transit.update_key_configuration(name="orders", min_decryption_version=2, deletion_allowed=True)
# hvac refuses min_encryption_version <= min_decryption_version in one call; Vault allows equal.
transit.update_key_configuration(name="orders", min_encryption_version=2)
try:
    transit.decrypt_data(name="orders", ciphertext=ct)
    out["old_ciphertext"] = "decrypted"
except hvac.exceptions.InvalidRequest:
    out["old_ciphertext"] = "InvalidRequest"
out["rewrapped_decrypted"] = unb64(transit.decrypt_data(name="orders", ciphertext=rewrapped)["data"]["plaintext"])
transit.trim_key(name="orders", min_version=2)
out["min_available"] = transit.read_key(name="orders")["data"]["min_available_version"]

# datakey
dk = transit.generate_data_key(name="orders", key_type="plaintext", bits=256)["data"]
out["datakey_len"] = len(base64.b64decode(dk["plaintext"]))
out["datakey_matches"] = transit.decrypt_data(name="orders", ciphertext=dk["ciphertext"])["data"]["plaintext"] == dk["plaintext"]
out["wrapped_has_plaintext"] = "plaintext" in transit.generate_data_key(name="orders", key_type="wrapped")["data"]

# hmac, sign, verify
mac = transit.generate_hmac(name="orders", hash_input=b64("msg"), algorithm="sha2-256")["data"]["hmac"]
out["hmac_valid"] = transit.verify_signed_data(name="orders", hash_input=b64("msg"), hmac=mac)["data"]["valid"]
sig = transit.sign_data(name="signer", hash_input=b64("msg"), hash_algorithm="sha2-384")["data"]["signature"]
out["sig_valid"] = transit.verify_signed_data(name="signer", hash_input=b64("msg"), signature=sig, hash_algorithm="sha2-384")["data"]["valid"]
out["sig_tampered"] = transit.verify_signed_data(name="signer", hash_input=b64("other"), signature=sig, hash_algorithm="sha2-384")["data"]["valid"]
transit.create_key(name="rsa", key_type="rsa-2048")
rsa_sig = transit.sign_data(name="rsa", hash_input=b64("msg"), signature_algorithm="pkcs1v15", marshaling_algorithm="asn1")["data"]["signature"]
out["rsa_valid"] = transit.verify_signed_data(name="rsa", hash_input=b64("msg"), signature=rsa_sig, signature_algorithm="pkcs1v15")["data"]["valid"]

# random, hash
out["random_len"] = len(base64.b64decode(transit.generate_random_bytes(n_bytes=24)["data"]["random_bytes"]))
out["hash"] = transit.hash_data(hash_input=b64("abc"), algorithm="sha2-256", output_format="hex")["data"]["sum"]

# export, backup, restore
exported = transit.export_key(name="signer", key_type="signing-key")["data"]
out["export_versions"] = sorted(exported["keys"].keys())
try:
    transit.export_key(name="orders", key_type="encryption-key")
    out["export_not_exportable"] = "exported"
except hvac.exceptions.InvalidRequest:
    out["export_not_exportable"] = "InvalidRequest"
backup = transit.backup_key(name="signer")["data"]["backup"]
transit.restore_key(backup=backup, name="signer-copy")
out["restored_type"] = transit.read_key(name="signer-copy")["data"]["type"]
out["restored_verifies"] = transit.verify_signed_data(name="signer-copy", hash_input=b64("msg"), signature=sig, hash_algorithm="sha2-384")["data"]["valid"]

# delete
transit.delete_key(name="orders")
try:
    transit.read_key(name="orders")
    out["deleted"] = False
except hvac.exceptions.InvalidPath:
    out["deleted"] = True

print(json.dumps(out))
