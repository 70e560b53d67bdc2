// Settings: requests, Autonomous Approval, two-person approval. Everyone signed in reads; owner and admin write.
import { SettingsSchema } from "../../core/settings";
import { getSettings, updateSettings } from "../services/settings";
import { authedProcedure, procedureFor, router } from "../trpc";

export const settingsRouter = router({
  get: authedProcedure.output(SettingsSchema).query(({ ctx }) => getSettings(ctx.services)),
  update: procedureFor("settings.write")
    .input(SettingsSchema)
    .output(SettingsSchema)
    .mutation(({ ctx, input }) => updateSettings(ctx.services, input, ctx.user)),
});
