"""hvac 0.11 drives the userpass, AppRole and JWT auth methods against a real Coffer dev server.
Run by test/compat/hvac-auth.test.ts with VAULT_ADDR, VAULT_TOKEN, JWT_PUBKEY (PEM) and JWT_TOKEN
(a JWT signed with that key) set; prints one JSON line of observations (never a secret)."""
import json
import os

import hvac

addr = os.environ["VAULT_ADDR"]
admin = hvac.Client(url=addr, token=os.environ["VAULT_TOKEN"])
out = {}


def fresh():
    return hvac.Client(url=addr)


def error_kind(fn):
    try:
        fn()
        return "accepted"
    except hvac.exceptions.VaultError as e:
        return type(e).__name__


admin.sys.create_or_update_policy(name="hvac-p", policy='path "secret/*" { capabilities = ["read"] }')

# --- userpass ---------------------------------------------------------------------------
admin.sys.enable_auth_method("userpass")
up = admin.auth.userpass
up.create_or_update_user(username="alice", password="pw-alice", policies="hvac-p", token_ttl="30m")
up.create_or_update_user(username="bob", password="pw-bob")
out["up_read_policies"] = up.read_user("alice")["data"]["token_policies"]
out["up_read_ttl"] = up.read_user("alice")["data"]["token_ttl"]
out["up_list"] = sorted(up.list_user()["data"]["keys"])
user = fresh()
login = user.auth.userpass.login("alice", "pw-alice")
out["up_login_policies"] = login["auth"]["policies"]
out["up_login_ttl"] = login["auth"]["lease_duration"]
out["up_is_authenticated"] = user.is_authenticated()
out["up_wrong_password"] = error_kind(lambda: fresh().auth.userpass.login("alice", "nope"))
out["up_unknown_user"] = error_kind(lambda: fresh().auth.userpass.login("nobody", "nope"))
up.update_password_on_user(username="bob", password="pw-bob-2")
out["up_new_password"] = "auth" in fresh().auth.userpass.login("bob", "pw-bob-2")
up.delete_user("bob")
out["up_after_delete"] = sorted(up.list_user()["data"]["keys"])

# --- approle ----------------------------------------------------------------------------
admin.sys.enable_auth_method("approle")
ar = admin.auth.approle
ar.create_or_update_approle(role_name="ci", token_policies=["hvac-p"], secret_id_num_uses=3, token_ttl="15m", secret_id_ttl="1h")
out["ar_list_roles"] = ar.list_roles()["data"]["keys"]
out["ar_read_role_uses"] = ar.read_role("ci")["data"]["secret_id_num_uses"]
role_id = ar.read_role_id("ci")["data"]["role_id"]
ar.update_role_id("ci", "ci-role-id")
out["ar_custom_role_id"] = ar.read_role_id("ci")["data"]["role_id"]
generated = ar.generate_secret_id("ci", metadata={"job": "build"}, cidr_list=["127.0.0.0/8"])["data"]
out["ar_generated_keys"] = sorted(generated.keys())
out["ar_accessors_listed"] = generated["secret_id_accessor"] in ar.list_secret_id_accessors("ci")["data"]["keys"]
out["ar_lookup_metadata"] = ar.read_secret_id("ci", generated["secret_id"])["data"]["metadata"]
out["ar_accessor_lookup_uses"] = ar.read_secret_id_accessor("ci", generated["secret_id_accessor"])["data"]["secret_id_num_uses"]
client = fresh()
approle_login = client.auth.approle.login("ci-role-id", generated["secret_id"])
out["ar_login_metadata"] = approle_login["auth"]["metadata"]
out["ar_login_ttl"] = approle_login["auth"]["lease_duration"]
out["ar_is_authenticated"] = client.is_authenticated()
custom = ar.create_custom_secret_id("ci", "hvac-custom-secret-1")["data"]
out["ar_custom_secret"] = custom["secret_id"] == "hvac-custom-secret-1"
ar.destroy_secret_id("ci", "hvac-custom-secret-1")
out["ar_destroyed_login"] = error_kind(lambda: fresh().auth.approle.login("ci-role-id", "hvac-custom-secret-1"))
ar.destroy_secret_id_accessor("ci", generated["secret_id_accessor"])
out["ar_destroyed_by_accessor"] = error_kind(lambda: fresh().auth.approle.login("ci-role-id", generated["secret_id"]))
ar.delete_role("ci")
out["ar_after_delete"] = error_kind(lambda: ar.list_roles())

# --- jwt --------------------------------------------------------------------------------
admin.sys.enable_auth_method("jwt")
jwt = admin.auth.jwt
jwt.configure(jwt_validation_pubkeys=[os.environ["JWT_PUBKEY"]], bound_issuer="https://ci.example")
out["jwt_config_issuer"] = jwt.read_config()["data"]["bound_issuer"]
jwt.create_role(
    name="ci",
    role_type="jwt",
    user_claim="sub",
    allowed_redirect_uris=[],
    bound_audiences=["coffer"],
    bound_claims={"ref": "main"},
    claim_mappings={"repository": "repo"},
    token_policies=["hvac-p"],
    token_ttl="5m",
)
out["jwt_list_roles"] = jwt.list_roles()["data"]["keys"]
out["jwt_read_role_type"] = jwt.read_role("ci")["data"]["role_type"]
jwt_client = fresh()
jwt_auth = jwt_client.auth.jwt.jwt_login(role="ci", jwt=os.environ["JWT_TOKEN"])["auth"]
out["jwt_login_metadata"] = jwt_auth["metadata"]
out["jwt_login_ttl"] = jwt_auth["lease_duration"]
out["jwt_is_authenticated"] = jwt_client.is_authenticated()
out["jwt_forged"] = error_kind(lambda: fresh().auth.jwt.jwt_login(role="ci", jwt=os.environ["JWT_TOKEN"][:-4] + "AAAA"))
jwt.delete_role("ci")
out["jwt_after_delete"] = error_kind(lambda: jwt.read_role("ci"))

print(json.dumps(out))
