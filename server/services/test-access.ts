// Test access: the bundle a computer would decide with right now, for the console to run core's decide() on.
import { AppError } from "../../core/app-error";
import type { Bundle } from "../../core/bundle";
import { currentBundle } from "./bundles";
import type { ServiceContext } from "./context";

export async function bundlePreview(ctx: ServiceContext, computerId: string): Promise<{ bundle: Bundle; serverTime: string }> {
  const computer = await ctx.db.selectFrom("computers").select(["id", "name"]).where("id", "=", computerId).executeTakeFirst();
  if (!computer) throw new AppError("not_found", "No such computer.");
  const signed = await currentBundle(ctx, computer);
  return { bundle: signed.bundle, serverTime: ctx.now().toISOString() };
}
