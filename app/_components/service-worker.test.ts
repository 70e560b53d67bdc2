import { describe, expect, it } from "vitest";
import { isWaitingUpdate } from "./service-worker";

describe("announcing a new version", () => {
  it("announces a worker that finished installing while another controls the page", () => {
    expect(isWaitingUpdate({ state: "installed" }, {})).toBe(true);
  });
  it("stays quiet on the first install (no controller yet) and while installing or once active", () => {
    expect(isWaitingUpdate({ state: "installed" }, null)).toBe(false);
    expect(isWaitingUpdate({ state: "installing" }, {})).toBe(false);
    expect(isWaitingUpdate({ state: "activated" }, {})).toBe(false);
    expect(isWaitingUpdate(null, {})).toBe(false);
  });
});
