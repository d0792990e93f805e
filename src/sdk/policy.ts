import type { CofferClient } from './client.js';
import { CofferClientError } from './errors.js';

/**
 * ACL policies through `sys/policies/acl` (the API the Vault CLI and Terraform use). Names are
 * lower-cased by the server.
 * @example
 * await client.policy.write('app', 'path "secret/data/app/*" { capabilities = ["read"] }');
 * const text = await client.policy.read('app');
 */
export class PolicyApi {
  readonly #client: CofferClient;

  constructor(client: CofferClient) {
    this.#client = client;
  }

  /** The policy names (`root` included). @example `const names = await client.policy.list();` */
  async list(): Promise<string[]> {
    const res = await this.#client.list('sys/policies/acl');
    return res?.data.keys ?? [];
  }

  /** A policy's text (HCL or JSON, as written); null when there is no such policy. @example `await client.policy.read('default')` */
  async read(name: string): Promise<string | null> {
    const secret = await this.#client.read(`sys/policies/acl/${name}`);
    if (secret === null) return null;
    const policy = secret.data?.['policy'];
    if (typeof policy !== 'string') throw new CofferClientError(`unexpected response from GET sys/policies/acl/${name}: no policy text`);
    return policy;
  }

  /** Creates or replaces a policy. @example `await client.policy.write('app', hclText)` */
  async write(name: string, policy: string): Promise<void> {
    await this.#client.request('PUT', `sys/policies/acl/${name}`, { policy });
  }

  /** Deletes a policy (no error when there is none). @example `await client.policy.delete('app')` */
  async delete(name: string): Promise<void> {
    await this.#client.request('DELETE', `sys/policies/acl/${name}`);
  }
}
