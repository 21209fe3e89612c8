/** What an application is made of, as its controller records it in Children (read by the controller, describe and why). */
import type { ApiObject } from './kind.ts';

export interface ChildRecord {
  /** What it is to the application: workload, runtime, secret-definition, dependency:<name>, … */
  Role: string;
  Kind: string;
  ID: number;
  Name: string;
  /** Made by the application (removed with it), or only used. */
  Made: boolean;
  /** Of the fields last written, for made children. */
  Fingerprint?: string;
}

export const childRecordsOf = (application: ApiObject): ChildRecord[] => (Array.isArray(application.Children) ? (application.Children as ChildRecord[]) : []);
