"""hvac 0.11 drives KV v1/v2, tokens, policies, mounts, wrapping, cubbyhole and sys calls against
a real Coffer dev server. Run by test/compat/hvac-kv.test.ts with VAULT_ADDR and VAULT_TOKEN set.

Every call's result is checked here (assert); the last stdout line is a JSON summary of
observations the node test compares with what Vault would answer."""
import json
import os
import warnings

import hvac
import requests

warnings.simplefilter("ignore")  # hvac 0.11 warns on its own deprecated helpers

ADDR = os.environ["VAULT_ADDR"]
ROOT = os.environ["VAULT_TOKEN"]
client = hvac.Client(url=ADDR, token=ROOT)
out = {}


def raises(fn, *args, **kwargs):
    """The name of the hvac exception a call raises, or 'ok'."""
    try:
        fn(*args, **kwargs)
        return "ok"
    except hvac.exceptions.VaultError as e:
        return type(e).__name__


def status_of(resp):
    """hvac returns a dict for 200 and the Response for anything else (204)."""
    return 200 if isinstance(resp, dict) else resp.status_code


# ---- KV v2 at secret/ (dev mode) -------------------------------------------------------------
kv2 = client.secrets.kv.v2
w1 = kv2.create_or_update_secret(path="app/db", secret={"user": "alice", "pass": "s3cret"})
assert w1["data"]["version"] == 1, w1
assert w1["data"]["destroyed"] is False and w1["data"]["deletion_time"] == "", w1
assert set(w1.keys()) >= {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"}, w1
w2 = kv2.create_or_update_secret(path="app/db", secret={"user": "alice", "pass": "n3w"}, cas=1)
assert w2["data"]["version"] == 2, w2
out["cas_mismatch"] = raises(kv2.create_or_update_secret, path="app/db", secret={"x": "1"}, cas=1)
try:
    kv2.create_or_update_secret(path="app/db", secret={"x": "1"}, cas=1)
except hvac.exceptions.InvalidRequest as e:
    out["cas_mismatch_errors"] = e.errors
out["cas_zero_existing"] = raises(kv2.create_or_update_secret, path="app/db", secret={"x": "1"}, cas=0)
kv2.create_or_update_secret(path="app/api", secret={"key": "k1"}, cas=0)
kv2.create_or_update_secret(path="top", secret={"a": 1})

latest = kv2.read_secret_version(path="app/db")
assert latest["data"]["data"] == {"user": "alice", "pass": "n3w"}, latest
assert latest["data"]["metadata"]["version"] == 2, latest
assert "custom_metadata" in latest["data"]["metadata"], latest
v1 = kv2.read_secret_version(path="app/db", version=1)
assert v1["data"]["data"]["pass"] == "s3cret", v1
out["read_missing"] = raises(kv2.read_secret_version, path="app/nope")

out["list_root"] = kv2.list_secrets(path="")["data"]["keys"]
out["list_app"] = kv2.list_secrets(path="app")["data"]["keys"]
out["list_missing"] = raises(kv2.list_secrets, path="nothing-here")

# patch: GET then POST with cas = the current version
p = kv2.patch(path="app/db", secret={"pass": "patched", "port": "5432"})
assert p["data"]["version"] == 3, p
out["patched"] = kv2.read_secret_version(path="app/db")["data"]["data"]
out["patch_missing"] = raises(kv2.patch, path="app/none", secret={"a": "b"})

# soft delete of the latest: a read answers 404 (hvac: InvalidPath), metadata shows deletion_time
r = kv2.delete_latest_version_of_secret(path="app/db")
assert status_of(r) == 204, r
out["read_deleted"] = raises(kv2.read_secret_version, path="app/db")
raw_deleted = client.adapter.request("get", "/v1/secret/data/app/db", raise_exception=False)
assert raw_deleted.status_code == 404, raw_deleted.status_code
body = raw_deleted.json()
assert body["data"]["data"] is None and body["data"]["metadata"]["version"] == 3, body
assert body["data"]["metadata"]["deletion_time"] != "", body
r = kv2.undelete_secret_versions(path="app/db", versions=[3])
assert status_of(r) == 204, r
assert kv2.read_secret_version(path="app/db")["data"]["data"]["pass"] == "patched"
kv2.delete_secret_versions(path="app/db", versions=[1])
kv2.destroy_secret_versions(path="app/db", versions=[2])
meta = kv2.read_secret_metadata(path="app/db")["data"]
out["meta_current"] = meta["current_version"]
out["meta_oldest"] = meta["oldest_version"]
out["meta_v1_deleted"] = meta["versions"]["1"]["deletion_time"] != ""
out["meta_v2_destroyed"] = meta["versions"]["2"]["destroyed"]
out["read_destroyed"] = raises(kv2.read_secret_version, path="app/db", version=2)

r = kv2.update_metadata(path="app/db", max_versions=5, cas_required=True, delete_version_after="1h")
assert status_of(r) == 204, r
meta = kv2.read_secret_metadata(path="app/db")["data"]
out["meta_after_update"] = [meta["max_versions"], meta["cas_required"], meta["delete_version_after"]]
out["cas_required_without_cas"] = raises(kv2.create_or_update_secret, path="app/db", secret={"a": "b"})
kv2.create_or_update_secret(path="app/db", secret={"a": "b"}, cas=3)

r = kv2.delete_metadata_and_all_versions(path="app/db")
assert status_of(r) == 204, r
out["read_after_delete_all"] = raises(kv2.read_secret_metadata, path="app/db")
out["list_app_after"] = kv2.list_secrets(path="app")["data"]["keys"]

r = kv2.configure(max_versions=7, cas_required=False, delete_version_after="30m")
assert status_of(r) == 204, r
out["config"] = kv2.read_configuration()["data"]
kv2.configure()  # hvac's defaults: max_versions=10, delete_version_after="0s"
out["config_defaults"] = kv2.read_configuration()["data"]

# ---- KV v1 on its own mount ------------------------------------------------------------------
client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
kv1 = client.secrets.kv.v1
r = kv1.create_or_update_secret(path="team/a", secret={"k": "v"}, mount_point="kv1")
assert status_of(r) == 204, r
r = kv1.create_or_update_secret(path="team/b", secret={"k": "w", "ttl": "1h"}, method="PUT", mount_point="kv1")
assert status_of(r) == 204, r
ra = kv1.read_secret(path="team/a", mount_point="kv1")
assert ra["data"] == {"k": "v"}, ra
out["kv1_lease_default"] = ra["lease_duration"]
out["kv1_lease_ttl"] = kv1.read_secret(path="team/b", mount_point="kv1")["lease_duration"]
out["kv1_list"] = kv1.list_secrets(path="team", mount_point="kv1")["data"]["keys"]
r = kv1.delete_secret(path="team/a", mount_point="kv1")
assert status_of(r) == 204, r
out["kv1_read_deleted"] = raises(kv1.read_secret, path="team/a", mount_point="kv1")

# ---- generic read/write/list/delete ----------------------------------------------------------
r = client.write("kv1/generic", foo="bar", n=3)
assert status_of(r) == 204, r
assert client.read("kv1/generic")["data"] == {"foo": "bar", "n": 3}
out["generic_read_missing"] = client.read("kv1/none")
out["generic_list"] = client.list("kv1/")["data"]["keys"]  # GET ?list=True
out["generic_list_missing"] = client.list("kv1/empty/")
client.delete("kv1/generic")
assert client.read("kv1/generic") is None
out["generic_kv2"] = client.read("secret/data/app/api")["data"]["data"]
out["generic_kv2_list"] = client.list("secret/metadata/app")["data"]["keys"]
out["kv1_wrong_shape"] = raises(client.write, "kv1/empty-write")

# cubbyhole through the generic calls
client.write("cubbyhole/mine", note="only me")
assert client.read("cubbyhole/mine")["data"] == {"note": "only me"}
out["cubby_list"] = client.list("cubbyhole")["data"]["keys"]

# ---- tokens ----------------------------------------------------------------------------------
client.sys.create_or_update_policy("minter", 'path "auth/token/create" { capabilities = ["update"] }')
tok = client.create_token(policies=["default", "minter"], ttl="1h", display_name="hvac", meta={"team": "a"})
auth = tok["auth"]
assert auth["client_token"] and auth["accessor"], tok
out["token_policies"] = auth["policies"]
out["token_renewable"] = auth["renewable"]
out["token_lease"] = auth["lease_duration"]
out["token_orphan"] = auth["orphan"]
out["token_type"] = auth["token_type"]
orphan = client.auth.token.create(policies=["default"], no_parent=True, ttl="10m")["auth"]
out["orphan_via_no_parent"] = orphan["orphan"]
orphan2 = client.create_token(policies=["default"], orphan=True, ttl="10m")["auth"]
out["orphan_via_create_orphan"] = orphan2["orphan"]

look = client.lookup_token(auth["client_token"])["data"]
out["lookup_display_name"] = look["display_name"]
out["lookup_meta"] = look["meta"]
assert look["accessor"] == auth["accessor"] and look["ttl"] <= 3600, look
look = client.auth.token.lookup(auth["client_token"])["data"]
assert look["id"] == auth["client_token"], look
look_acc = client.lookup_token(auth["accessor"], accessor=True)["data"]
out["lookup_accessor_hides_id"] = look_acc["id"]
look_acc = client.auth.token.lookup_accessor(auth["accessor"])["data"]
assert look_acc["display_name"] == "token-hvac", look_acc
# meta values are decoded weakly to strings, as Vault's TypeKVPairs does
typed = client.auth.token.create(policies=["default"], ttl="5m", meta={"build": 42, "ci": True})["auth"]
out["typed_meta"] = client.auth.token.lookup(typed["client_token"])["data"]["meta"]
self_look = client.lookup_token()["data"]
out["root_lookup_self_policies"] = self_look["policies"]
assert client.auth.token.lookup_self()["data"]["id"] == ROOT

ren = client.auth.token.renew(auth["client_token"], increment="2h")["auth"]
out["renew_lease"] = ren["lease_duration"]
ren = client.renew_token(auth["client_token"], increment=1800)["auth"]
out["renew_lease_2"] = ren["lease_duration"]

child = hvac.Client(url=ADDR, token=auth["client_token"])
out["child_authenticated"] = child.is_authenticated()
out["child_renew_self"] = child.auth.token.renew_self(increment="20m")["auth"]["lease_duration"]
# no increment: Vault extends by the token's own TTL, whatever that is now
out["child_renew_self_legacy"] = child.renew_self_token()["auth"]["lease_duration"] > 0
out["child_lookup_self"] = child.auth.token.lookup_self()["data"]["display_name"]
out["child_denied_kv"] = raises(child.secrets.kv.v2.read_secret_version, path="app/api")
caps = child.sys.get_capabilities(paths=["secret/data/x", "cubbyhole/x"])
out["child_caps_self"] = [caps["secret/data/x"], caps["cubbyhole/x"], "capabilities" in caps]

accessors = client.auth.token.list_accessors()["data"]["keys"]
assert auth["accessor"] in accessors, accessors
out["child_list_accessors"] = raises(child.auth.token.list_accessors)

assert client.revoke_token(orphan["accessor"], accessor=True) is None  # the legacy helper returns nothing
out["revoked_by_accessor"] = raises(client.auth.token.lookup, orphan["client_token"])
client.auth.token.revoke_accessor(orphan2["accessor"])
out["revoked_by_accessor_2"] = raises(client.auth.token.lookup, orphan2["client_token"])

grandchild = child.create_token(policies=["default"], ttl="10m")["auth"]
out["grandchild_orphan"] = grandchild["orphan"]
client.auth.token.revoke(auth["client_token"])
out["child_after_revoke"] = child.is_authenticated()
out["grandchild_after_parent_revoke"] = raises(client.auth.token.lookup, grandchild["client_token"])

t2 = client.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
c2 = hvac.Client(url=ADDR, token=t2)
r = c2.auth.token.revoke_self()
assert status_of(r) == 204, r
out["revoke_self_then_auth"] = c2.is_authenticated()
t3 = client.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
c3 = hvac.Client(url=ADDR, token=t3)
c3.revoke_self_token()
out["revoke_self_legacy_then_auth"] = c3.is_authenticated()
t4 = client.auth.token.create(policies=["default"], ttl="5m")["auth"]["client_token"]
client.revoke_token(t4)
out["revoke_token_legacy"] = raises(client.auth.token.lookup, t4)

# token roles
r = client.auth.token.create_or_update_role("ci", allowed_policies=["default", "reader"], orphan=True)
assert status_of(r) == 204, r
role = client.auth.token.read_role("ci")["data"]
out["role_allowed"] = role["allowed_policies"]
out["role_orphan"] = role["orphan"]
out["roles"] = client.auth.token.list_roles()["data"]["keys"]
out["roles_legacy"] = client.list_token_roles()["data"]["keys"]
rt = client.create_token(role="ci", policies=["reader"], ttl="10m")["auth"]
out["role_token_policies"] = rt["policies"]
out["role_token_orphan"] = rt["orphan"]
rt2 = client.auth.token.create(role_name="ci", ttl="10m")["auth"]
out["role_token_path"] = client.auth.token.lookup(rt2["client_token"])["data"]["path"]
r = client.auth.token.delete_role("ci")
assert status_of(r) == 204, r
out["role_deleted"] = raises(client.auth.token.read_role, "ci")

# ---- policies --------------------------------------------------------------------------------
HCL = 'path "secret/data/reader/*" {\n  capabilities = ["read", "list"]\n}\n'
r = client.sys.create_or_update_policy("Reader", HCL)
assert status_of(r) == 204, r
rp = client.sys.read_policy("reader")
out["policy_rules_hcl"] = rp["data"]["rules"] == HCL and rp["rules"] == HCL
out["policy_name"] = rp["data"]["name"]
client.sys.create_or_update_policy("jsonpol", {"path": {"secret/data/json/*": {"capabilities": ["read"]}}})
out["get_policy_json"] = json.loads(client.get_policy("jsonpol"))
out["get_policy_missing"] = client.get_policy("nope")
pols = client.sys.list_policies()
out["policies"] = sorted(pols["data"]["policies"])
assert pols["policies"] == pols["data"]["policies"]
out["policy_bad_hcl"] = raises(client.sys.create_or_update_policy, "bad", 'path "x" { capabilities = ["frobnicate"] }')
r = client.sys.delete_policy("jsonpol")
assert status_of(r) == 204, r
out["policy_deleted"] = raises(client.sys.read_policy, "jsonpol")
out["delete_default"] = raises(client.sys.delete_policy, "default")

# ---- mounts and auth methods -----------------------------------------------------------------
client.sys.enable_secrets_engine("kv", path="kvtmp", description="temp", options={"version": "2"}, config={"default_lease_ttl": "1h"})
mounts = client.sys.list_mounted_secrets_engines()
out["mount_listed"] = mounts["data"]["kvtmp/"]["type"]
out["mount_top_level_copy"] = mounts["kvtmp/"]["options"]
out["mount_option_version"] = client.sys.retrieve_mount_option("kvtmp", "version")
r = client.sys.tune_mount_configuration("kvtmp", default_lease_ttl="30m", max_lease_ttl="2h", description="tuned")
assert status_of(r) == 204, r
tune = client.sys.read_mount_configuration("kvtmp")
out["tune"] = [tune["data"]["default_lease_ttl"], tune["data"]["max_lease_ttl"], tune["data"]["description"]]
assert tune["default_lease_ttl"] == tune["data"]["default_lease_ttl"]
client.secrets.kv.v2.create_or_update_secret(path="moved", secret={"v": "1"}, mount_point="kvtmp")
r = client.sys.move_backend("kvtmp", "kvmoved")
assert status_of(r) in (200, 204), r
out["moved_data"] = client.secrets.kv.v2.read_secret_version(path="moved", mount_point="kvmoved")["data"]["data"]
out["old_mount_gone"] = "kvtmp/" in client.sys.list_mounted_secrets_engines()["data"]
r = client.sys.disable_secrets_engine("kvmoved")
assert status_of(r) == 204, r
out["disabled"] = "kvmoved/" in client.sys.list_mounted_secrets_engines()["data"]
out["enable_twice"] = raises(client.sys.enable_secrets_engine, "kv", path="kv1")
auths = client.sys.list_auth_methods()
out["auth_token"] = auths["data"]["token/"]["type"]
assert auths["token/"]["type"] == "token"
out["auth_tune_token"] = client.sys.read_auth_method_tuning("token")["data"]["token_type"]

# ---- response wrapping -----------------------------------------------------------------------
wrapped = client.create_token(policies=["default"], ttl="10m", wrap_ttl="2m")
wi = wrapped["wrap_info"]
assert wrapped["auth"] is None and wi["token"] and wi["ttl"] == 120, wrapped
out["wrap_creation_path"] = wi["creation_path"]
unwrapped = client.sys.unwrap(wi["token"])
out["unwrapped_token_policies"] = unwrapped["auth"]["policies"]
out["unwrap_twice"] = raises(client.sys.unwrap, wi["token"])
wrapped2 = client.auth.token.create(policies=["default"], ttl="10m", wrap_ttl="90s")["wrap_info"]
holder = hvac.Client(url=ADDR, token=wrapped2["token"])
out["unwrap_as_token"] = holder.sys.unwrap()["auth"]["renewable"]

rw = client.adapter.request("get", "/v1/secret/data/app/api", headers={"X-Vault-Wrap-TTL": "60"})
assert rw["data"] is None and rw["wrap_info"]["ttl"] == 60, rw
out["wrapped_read_path"] = rw["wrap_info"]["creation_path"]
out["unwrapped_read"] = client.sys.unwrap(rw["wrap_info"]["token"])["data"]["data"]
rw = client.read("secret/data/top", wrap_ttl="1m")
out["wrapped_read_ttl"] = rw["wrap_info"]["ttl"]
out["unwrapped_generic"] = client.sys.unwrap(rw["wrap_info"]["token"])["data"]["data"]

# ---- sys -------------------------------------------------------------------------------------
caps = client.sys.get_capabilities(paths=["secret/data/x"], token=ROOT)
out["caps_root"] = caps["capabilities"]
reader = client.auth.token.create(policies=["reader"], ttl="10m")["auth"]
caps = client.sys.get_capabilities(paths=["secret/data/reader/a", "sys/mounts"], token=reader["client_token"])
out["caps_reader"] = [caps["secret/data/reader/a"], caps["sys/mounts"]]
caps = client.sys.get_capabilities(paths=["secret/data/reader/a"], accessor=reader["accessor"])
out["caps_accessor"] = caps["capabilities"]
caps = client.sys.get_capabilities(paths=["secret/data/reader/a"])
out["caps_self_root"] = caps["capabilities"]
ks = client.sys.get_encryption_key_status()
term = ks["data"]["term"]
assert ks["term"] == term and "install_time" in ks["data"], ks
client.sys.rotate_encryption_key()
out["rotated"] = client.sys.get_encryption_key_status()["data"]["term"] - term
out["is_authenticated"] = client.is_authenticated()
out["bad_token_authenticated"] = hvac.Client(url=ADDR, token="s.nope").is_authenticated()
anonymous = hvac.Client(url=ADDR)
anonymous.token = None  # hvac falls back to VAULT_TOKEN
out["no_token_read"] = raises(anonymous.secrets.kv.v2.read_secret_version, path="top")
out["no_token_authenticated"] = anonymous.is_authenticated()
out["health"] = client.sys.read_health_status(method="GET")["initialized"]

# error bodies: hvac reads `errors` only when Content-Type is exactly application/json
resp = requests.get(ADDR + "/v1/secret/data/app/nope", headers={"X-Vault-Token": ROOT})
out["missing_content_type"] = resp.headers.get("Content-Type")
out["missing_body"] = resp.json()
try:
    client.secrets.kv.v2.read_secret_version(path="x", mount_point="nomount")
except hvac.exceptions.VaultError as e:
    out["no_mount_error"] = [type(e).__name__, e.errors]
print(json.dumps(out))
