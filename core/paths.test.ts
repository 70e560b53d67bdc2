import { describe, expect, it } from "vitest";
import { ancestorKeys, baseName, isUnderFolder, pathKey, resolvedPathKey } from "./paths";

describe("paths", () => {
  it.each([
    ["/opt/tools/", "/opt/tools"],
    ["/opt//tools/./x/../y", "/opt/tools/y"],
    ["C:\\Program Files\\Tools\\", "c:/program files/tools"],
    ["c:/Program Files/../Tools", "c:/tools"],
    ["C:\\", "c:"],
    ["relative/x", null],
    ["\\\\server\\share\\x", null],
  ])("pathKey(%j) = %j", (p, key) => {
    expect(pathKey(p)).toBe(key);
  });

  it("accepts only resolved paths from the probe", () => {
    expect(resolvedPathKey("/opt/tools/x")).toBe("/opt/tools/x");
    expect(resolvedPathKey("/opt/tools/x/")).toBe("/opt/tools/x");
    expect(resolvedPathKey("/opt/tools/../x")).toBeNull();
    expect(resolvedPathKey("/opt//x")).toBeNull();
    expect(resolvedPathKey("C:\\Tools\\..\\x.exe")).toBeNull();
    expect(resolvedPathKey("C:\\Tools\\X.exe")).toBe("c:/tools/x.exe");
  });

  it("lists the folders that hold a path", () => {
    expect(ancestorKeys("/a/b/c")).toEqual(["/a/b", "/a", "/"]);
    expect(ancestorKeys("c:/a/b")).toEqual(["c:/a", "c:"]);
  });

  it("holds by whole segments, case-insensitively only for Windows paths", () => {
    expect(isUnderFolder("/opt/tool/x", "/opt/tool")).toBe(true);
    expect(isUnderFolder("/opt/toolbox/x", "/opt/tool")).toBe(false);
    expect(isUnderFolder("/OPT/tool/x", "/opt/tool")).toBe(false);
    expect(isUnderFolder("C:\\TOOLS\\x.exe", "c:/tools")).toBe(true);
    expect(isUnderFolder("C:\\Toolsbox\\x.exe", "C:\\Tools")).toBe(false);
    expect(isUnderFolder("D:\\Tools\\x.exe", "C:\\Tools")).toBe(false);
  });

  it("takes the base name with either separator on Windows", () => {
    expect(baseName("/usr/bin/dpkg")).toBe("dpkg");
    expect(baseName("C:\\Tools\\x.exe")).toBe("x.exe");
    expect(baseName("/odd\\name")).toBe("odd\\name");
  });
});
