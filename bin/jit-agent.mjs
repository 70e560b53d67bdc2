#!/usr/bin/env node
// The `jit-agent` program: loads its TypeScript source through tsx, so the package runs without a compile step.
import { register } from "tsx/esm/api";

register();
await import("../agent/cli.ts");
