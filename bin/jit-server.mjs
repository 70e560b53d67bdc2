#!/usr/bin/env node
// The `jit-server` program: loads its TypeScript source through tsx, so the package runs without a compile step.
import { register } from "tsx/esm/api";

register();
await import("../server/cli/jit-server.ts");
