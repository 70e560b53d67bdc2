#!/usr/bin/env node
// The `jit` program (the end user's `jit run -- COMMAND`): loads its TypeScript source through tsx.
import { register } from "tsx/esm/api";

register();
await import("../agent/jit-cli.ts");
