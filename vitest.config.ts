import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (x.test.ts); integration tests that need a real database or processes are x.int.test.ts
// and run twice in `npm test`: on SQLite, then with TEST_DB=postgres on PostgreSQL.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["core/**/*.test.ts", "agent/**/*.test.ts", "server/**/*.test.ts", "app/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["server/**/*.int.test.ts", "agent/**/*.int.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
