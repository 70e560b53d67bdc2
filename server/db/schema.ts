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
/** Named app rules that application control allows (issue 3). `rule` is an AppRule as JSON. */
export interface AllowlistTable {
  id: string;
  name: string;
  name_key: string;
  description: string;
  rule: string;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}
/** Every revision of a policy (issue 3): `content` is its description, computers, users, duration and applications as JSON. */
export interface PolicyVersionsTable {
  policy_id: string;
  revision: number;
  name: string;
  content: string;
  created_by: string | null;
  created_at: string;
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
  /** The account on the computer (agent events and requests); part of the hash when set. */
  end_user: string | null;
  /** detail.justification, copied for the report's full-text filter; not hashed, checked by verify. */
  justification: string | null;
}
export interface AuditCheckpointsTable {
  id: string;
  seq: number;
  hash: string;
  from_seq: number;
  event_count: number;
  last_at: string;
  archive_file: string;
  archive_sha256: string;
  created_at: string;
  key_id: string;
  signature: string;
}

/** Elevation requests (issue 4). JSON columns: app, decided_by, approvals, revoked_by. */
export interface RequestsTable {
  id: string;
  computer_id: string;
  end_user: string;
  app: string;
  requested_duration: string;
  justification: string;
  status: string;
  created_at: string;
  updated_at: string;
  lapses_at: string | null;
  decided_at: string | null;
  decided_by: string | null;
  approvals: string;
  approvals_needed: number;
  granted_duration: string | null;
  starts_at: string | null;
  ends_at: string | null;
  note: string | null;
  decline_reason: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  extends_request_id: string | null;
  client_ref: string | null;
  decision_bundle_version: number | null;
  applied_at: string | null;
  /** Bumped by every change: the condition of each atomic decision. */
  version: number;
  /** When the deciding admin decided on their device, for a decision made offline and synced later (issue 5). */
  decided_offline_at: string | null;
}

/** Each replicated document's server stamp (issue 5): strictly increasing per collection; no document = a tombstone. */
export interface SyncChangesTable {
  collection: string;
  doc_id: string;
  updated_at: string;
  /** Only this console user replicates the document (outbox entries); null: every role that reads the collection. */
  owner_id: string | null;
}
/** The console's writes (issue 5), each run once by id. JSON columns: payload, result. */
export interface OutboxTable {
  id: string;
  owner_id: string;
  kind: string;
  payload: string;
  client_at: string;
  status: string;
  message: string | null;
  server_at: string | null;
  result: string | null;
  created_at: string;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
}
export interface NotificationPrefsTable {
  user_id: string;
  email_enabled: number;
  email_events: string;
  updated_at: string;
}
export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  secret: string;
  events: string;
  format: string;
  enabled: number;
  created_at: string;
  updated_at: string;
}
export interface NotificationDeliveriesTable {
  id: string;
  channel: string;
  target_id: string;
  event_seq: number;
  event_type: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  last_status: number | null;
  created_at: string;
  delivered_at: string | null;
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
  allowlist: AllowlistTable;
  policy_versions: PolicyVersionsTable;
  requests: RequestsTable;
  audit_checkpoints: AuditCheckpointsTable;
  sync_changes: SyncChangesTable;
  outbox: OutboxTable;
  push_subscriptions: PushSubscriptionsTable;
  notification_prefs: NotificationPrefsTable;
  webhooks: WebhooksTable;
  notification_deliveries: NotificationDeliveriesTable;
}

export type Db = Kysely<Database>;
export type Dialect = "sqlite" | "postgres";
