/**
 * The seam between auth methods and the identity store. Auth methods (src/auth/*) hand the
 * login's alias to an EntityResolver; the identity store (src/core/identity) implements it.
 */
export interface AliasInput {
  /** Accessor of the auth mount the login came through (aliases are per mount). */
  readonly mountAccessor: string;
  readonly mountType: string;
  /** The alias name: a userpass username, an AppRole role id, a JWT user_claim value. */
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** External group names from the login (a JWT groups claim), for group aliases. */
  readonly groupNames?: readonly string[];
}

export interface EntityResolver {
  /** Finds or creates the entity for this alias; returns its id (Vault: created on first login). */
  resolveAlias(input: AliasInput): Promise<{ entityId: string }>;
}
