"""hvac 0.11 drives the database secrets engine and the lease API against a real Coffer dev server.
Run by test/compat/hvac-database.test.ts (which mounts database/ and creates the MariaDB users)
with VAULT_ADDR, VAULT_TOKEN, DB_ADMIN, DB_ADMIN_PASSWORD, DB_NAME, ROOT_USER, STATIC_USER set;
prints one JSON line of observations (user names, never passwords)."""
import json
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
db = client.secrets.database
env = os.environ
out = {}

url = "{{username}}:{{password}}@tcp(127.0.0.1:3306)/"
db.configure(name="maria", plugin_name="mysql-database-plugin", allowed_roles=["app", "static"],
             connection_url=url, username=env["DB_ADMIN"], password=env["DB_ADMIN_PASSWORD"])
conn = db.read_connection(name="maria")["data"]
out["conn_plugin"] = conn["plugin_name"]
out["conn_has_password"] = env["DB_ADMIN_PASSWORD"] in json.dumps(conn)
out["connections"] = db.list_connections()["data"]["keys"]
db.reset_connection(name="maria")

create = ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'", "GRANT SELECT ON `" + env["DB_NAME"] + "`.canary TO '{{name}}'@'%'"]
db.create_role(name="app", db_name="maria", creation_statements=create, default_ttl="1h", max_ttl="2h")
role = db.read_role(name="app")["data"]
out["role_ttl"] = [role["default_ttl"], role["max_ttl"]]
out["roles"] = db.list_roles()["data"]["keys"]

creds = db.generate_credentials(name="app")
out["creds_keys"] = sorted(creds["data"].keys())
out["creds_lease_prefix"] = creds["lease_id"].rsplit("/", 1)[0]
out["dynamic_user"] = creds["data"]["username"]

lease = client.sys.read_lease(lease_id=creds["lease_id"])["data"]
out["lease_renewable"] = lease["renewable"]
renewed = client.sys.renew_lease(lease_id=creds["lease_id"], increment=600)
out["renewed_duration"] = renewed["lease_duration"]
out["listed"] = len(client.sys.list_leases(prefix="database/creds/app")["data"]["keys"])
client.sys.revoke_lease(lease_id=creds["lease_id"])
second = db.generate_credentials(name="app")
out["second_user"] = second["data"]["username"]
client.sys.revoke_prefix(prefix="database/creds/app")

db.create_static_role(name="static", db_name="maria", username=env["STATIC_USER"], rotation_statements=[], rotation_period=3600)
static_role = client.read("database/static-roles/static")["data"]  # hvac 0.11 has no read_static_role
out["static_username"] = static_role["username"]
out["static_period"] = static_role["rotation_period"]
out["static_roles"] = db.list_static_roles()["data"]["keys"]
static = db.get_static_credentials(name="static")["data"]
out["static_creds_keys"] = sorted(k for k in static.keys() if k in ("username", "password", "ttl", "last_vault_rotation", "rotation_period"))

db.configure(name="rooted", plugin_name="mysql-database-plugin", allowed_roles=[], connection_url=url,
             username=env["ROOT_USER"], password="initial-pw")
db.rotate_root_credentials(name="rooted")
db.reset_connection(name="rooted")  # connects with the new root password
out["rotated_root"] = True

db.delete_static_role(name="static")
db.delete_role(name="app")
db.delete_connection(name="rooted")
try:
    db.read_role(name="app")
    out["deleted_role"] = "still there"
except hvac.exceptions.InvalidPath:
    out["deleted_role"] = "InvalidPath"
print(json.dumps(out))
