/**
 * What we report as `version`: the Vault API level we match, with Coffer's own version as
 * build metadata. Vault clients and Terraform gate features on this semver.
 */
export const COFFER_VERSION = '0.1.0';
export const VERSION = `1.17.0+coffer.${COFFER_VERSION}`;
/** The release's build date, as sys/seal-status and sys/version-history report it. */
export const BUILD_DATE = '2026-11-29T00:00:00Z';
