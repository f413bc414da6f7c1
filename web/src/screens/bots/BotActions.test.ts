import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors";
import { describeActionError } from "./BotActions";

describe("describeActionError", () => {
  it("says a refused transition from its state, with the way out", () => {
    const err = new ApiError(409, "invalid_bot_transition", "Cannot start a bot that is halted.", {
      current_status: "halted",
      action: "start",
      allowed: ["stop"],
      hint: "A circuit breaker halted it: reset the breaker (Risk → Circuit breakers, or POST /api/v1/risk/breakers/reset) and it becomes paused, ready to start again.",
    });
    const text = describeActionError(err, "start");
    expect(text).toContain("Cannot start: the bot is halted. You can stop it.");
    expect(text).toContain("reset the breaker");
  });

  it("keeps the server's own sentence for any other 409 (a bot without capital)", () => {
    const err = new ApiError(409, "no_allocated_capital", "Allocate capital to the bot before starting it.", {
      current_status: "created",
      allocated: "0",
      asset: "ZAR",
    });
    const text = describeActionError(err, "start");
    expect(text).not.toContain("the bot is created");
    expect(text).toContain("Allocate capital");
  });
});
