/** The AwsAccount "local files" option: region from ~/.aws/config, keys from ~/.aws/credentials. */
import { homedir } from 'node:os';
import { readSideFile } from './side-files.ts';

/** Sections of an INI file: `[name]` → key/value pairs. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!.trim(), current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}

const expandHome = (path: string): string => (path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);

export interface AwsLocalValues {
  DefaultRegion?: string;
  AccessKeyID?: string;
  SecretAccessKey?: string;
}

export function readAwsLocalConfig(baseDir: string, configPath: string, credentialsPath: string, profile: string): AwsLocalValues {
  const config = parseIni(readSideFile(baseDir, expandHome(configPath)));
  const credentials = parseIni(readSideFile(baseDir, expandHome(credentialsPath)));
  const region = (config.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? config.get(profile))?.get('region');
  const keys = credentials.get(profile);
  if (!keys) throw new Error(`profile ${profile} not found in ${credentialsPath}`);
  return {
    ...(region && { DefaultRegion: region }),
    ...(keys.get('aws_access_key_id') && { AccessKeyID: keys.get('aws_access_key_id') }),
    ...(keys.get('aws_secret_access_key') && { SecretAccessKey: keys.get('aws_secret_access_key') }),
  };
}
