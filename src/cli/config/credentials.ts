/**
 * A control plane entry's credentials, in the original's fields: CACert and, in Credentials, the
 * client certificate and key named after the control plane — all base64 of PEM. A bearer token
 * (THREEPORT_API_TOKEN, for CI) takes the certificate's place.
 */
import type { TlsCredentials } from '../../client/api-client.ts';
import { CliError } from '../errors.ts';
import type { ControlPlaneEntry } from './config-shape.ts';

const pemOf = (base64: string, what: string, entry: ControlPlaneEntry, path: string): string => {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) throw new CliError(`the ${what} of control plane "${entry.Name}" in ${path} is not base64 of a PEM block`);
  return text;
};

export const toBase64 = (pem: string): string => Buffer.from(pem).toString('base64');

export function credentialsOf(entry: ControlPlaneEntry, path: string, token?: string): { tls: TlsCredentials; token?: string } {
  if (!entry.CACert) {
    throw new CliError(`control plane "${entry.Name}" has AuthEnabled but no CACert in ${path}`, { hint: 'ask its admin for a config (tptctl user add writes one), or run tptctl up again for a control plane you started' });
  }
  const ca = pemOf(entry.CACert, 'CACert', entry, path);
  if (token) return { tls: { ca }, token };
  const credential = entry.Credentials?.find((candidate) => candidate.Name === entry.Name);
  if (!credential?.ClientCert || !credential.ClientKey) {
    throw new CliError(`no client certificate for control plane "${entry.Name}" in ${path} (Credentials with Name ${entry.Name})`, {
      hint: 'ask its admin for one (tptctl user add <you> --output <file> writes a config with it), or set THREEPORT_API_TOKEN to a token',
    });
  }
  return { tls: { ca, certificate: pemOf(credential.ClientCert, 'ClientCert', entry, path), key: pemOf(credential.ClientKey, 'ClientKey', entry, path) } };
}
