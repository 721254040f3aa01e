import { describe, expect, it } from "@effect/vitest"
import { Prompt } from "effect/ai"
import { Schema } from "effect"
import { ToolResult } from "toolgate"

describe("ToolResult", () => {
  it("converts to a Prompt.ToolResultPart that effect/ai's schema accepts", () => {
    const denied = ToolResult.notRun({ id: "c1", name: "Bash" }, ToolResult.Outcome.PolicyDenied({ reason: "rm is not allowed" }))
    const part = ToolResult.toPart(denied)
    expect(part).toMatchObject({ type: "tool-result", id: "c1", name: "Bash", isFailure: true, providerExecuted: false })
    expect(part.result).toEqual({ type: "execution-denied", reason: "Tool call Bash was denied by policy: rm is not allowed" })
    const encoded = Schema.encodeSync(Prompt.ToolResultPart)(part)
    expect(Schema.decodeUnknownSync(Prompt.ToolResultPart)(encoded).id).toBe("c1")
  })

  it("explains each outcome the model cannot run in one sentence", () => {
    expect(ToolResult.notRun({ id: "1", name: "X" }, ToolResult.Outcome.NotFound({ available: [] })).result)
      .toBe("There is no tool named \"X\". Available tools: none.")
    expect(ToolResult.notRun({ id: "1", name: "X" }, ToolResult.Outcome.InvalidParams({ message: "Missing key" })).result)
      .toBe("Invalid parameters for tool X: Missing key")
    expect(ToolResult.notRun({ id: "1", name: "X" }, ToolResult.Outcome.Cancelled({ phase: "running" })).result)
      .toEqual({ type: "execution-interrupted", reason: "Tool call X was cancelled while it ran; it may have partly completed." })
  })
})
