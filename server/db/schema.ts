// The database's tables as Kysely sees them. Times are ISO 8601 UTC text (sortable on both databases),
// JSON is text, booleans are 0/1: one set of queries runs on SQLite and PostgreSQL alike.
import type { Kysely } from "kysely";

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  role: string;
  disabled: number;
  created_at: string;
  updated_at: string;
}
export interface SessionsTable {
  id: string;
  user_id: string;
  secret_hash: string;
  created_at: string;
  expires_at: string;
  idle_expires_at: string;
}
export interface LoginThrottleTable {
  key: string;
  failures: number;
  first_failure_at: string;
  locked_until: string | null;
}
export interface ComputersTable {
  id: string;
  name: string;
  name_key: string;
  os: string;
  agent_version: string;
  token_hash: string;
  enrolled_at: string;
  last_seen_at: string | null;
  applied_bundle_version: number | null;
}
export interface EnrollmentTokensTable {
  id: string;
  token_hash: string;
  created_by: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  computer_id: string | null;
}
export interface PoliciesTable {
  id: string;
  name: string;
  name_key: string;
  description: string;
  computers: string;
  users: string;
  duration: string;
  applications: string;
  status: string;
  revision: number;
  deployed_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}
export interface BundlesTable {
  computer_id: string;
  version: number;
  issued_at: string;
  valid_until: string;
  body: string;
  signature: string;
  stale: number;
}
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}
export interface ServerKeysTable {
  id: string;
  public_key: string;
  private_key: string;
  created_at: string;
}
export interface EventsTable {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  policy_id: string | null;
  computer_id: string | null;
  request_id: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  computers: ComputersTable;
  enrollment_tokens: EnrollmentTokensTable;
  policies: PoliciesTable;
  bundles: BundlesTable;
  settings: SettingsTable;
  server_keys: ServerKeysTable;
  events: EventsTable;
}

export type Db = Kysely<Database>;
export type Dialect = "sqlite" | "postgres";
