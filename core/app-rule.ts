// App rules: how an application is recognised. Named as in the seed product's rule types.
import { z } from "zod";

const nonEmpty = (what: string) => z.string({ error: `expected ${what} (a string)` }).trim().min(1, `${what} must not be empty`).max(1024);

export const FileHashRuleSchema = z.strictObject({
  type: z.literal("fileHash"),
  sha256: z
    .string({ error: "expected a SHA-256 digest (64 hex characters)" })
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, { error: (iss) => `expected a SHA-256 digest (64 hex characters), got ${JSON.stringify(iss.input)}` })
    .transform((s) => s.toLowerCase()),
});
export const FolderPathRuleSchema = z.strictObject({
  type: z.literal("folderPath"),
  path: nonEmpty("a folder path").refine((p) => p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p), {
    error: (iss) => `expected an absolute folder path, got ${JSON.stringify(iss.input)}`,
  }),
});
export const VerifiedExecutableRuleSchema = z.strictObject({ type: z.literal("verifiedExecutable"), path: nonEmpty("an executable path or name") });
export const VendorRuleSchema = z.strictObject({ type: z.literal("vendor"), vendor: nonEmpty("a vendor name") });
export const ProductRuleSchema = z.strictObject({
  type: z.literal("product"),
  product: nonEmpty("a product name"),
  versions: z.string().trim().max(200).optional(),
});
export const ClsidRuleSchema = z.strictObject({
  type: z.literal("clsid"),
  clsid: z
    .string({ error: "expected a CLSID" })
    .trim()
    .regex(/^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/, {
      error: (iss) => `expected a CLSID like {00000000-0000-0000-0000-000000000000}, got ${JSON.stringify(iss.input)}`,
    }),
});

export const APP_RULE_TYPES = ["vendor", "product", "verifiedExecutable", "fileHash", "clsid", "folderPath"] as const;
export type AppRuleType = (typeof APP_RULE_TYPES)[number];

/** The seed product's words for each rule type, for the console. */
export const APP_RULE_LABELS: Record<AppRuleType, string> = {
  vendor: "Vendor",
  product: "Products",
  verifiedExecutable: "Verified Executable",
  fileHash: "File Hash",
  clsid: "CLSID",
  folderPath: "Folder Path",
};

export const AppRuleSchema = z.discriminatedUnion(
  "type",
  [VendorRuleSchema, ProductRuleSchema, VerifiedExecutableRuleSchema, FileHashRuleSchema, ClsidRuleSchema, FolderPathRuleSchema],
  { error: (iss) => (iss.code === "invalid_union" ? `expected a rule type, one of ${APP_RULE_TYPES.join(", ")}` : undefined) },
);
export type AppRule = z.infer<typeof AppRuleSchema>;

/** The field of each rule type that holds its main value (the console's "value" column). */
export const APP_RULE_VALUE_FIELD: Record<AppRuleType, string> = {
  vendor: "vendor",
  product: "product",
  verifiedExecutable: "path",
  fileHash: "sha256",
  clsid: "clsid",
  folderPath: "path",
};

export function describeAppRule(rule: AppRule): string {
  switch (rule.type) {
    case "fileHash":
      return `File Hash ${rule.sha256}`;
    case "folderPath":
      return `Folder Path ${rule.path}`;
    case "verifiedExecutable":
      return `Verified Executable ${rule.path}`;
    case "vendor":
      return `Vendor ${rule.vendor}`;
    case "product":
      return `Products ${rule.product}${rule.versions ? ` ${rule.versions}` : ""}`;
    case "clsid":
      return `CLSID ${rule.clsid}`;
  }
}
