// Reads a secret from the terminal without echoing it.
import { createInterface } from "node:readline";

export function readSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    return Promise.reject(new Error("no terminal to ask for the password: set JIT_PASSWORD"));
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stdout.write(question);
    out._writeToOutput = () => {};
    rl.question("", (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
  });
}
