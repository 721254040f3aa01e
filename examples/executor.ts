/**
 * The executor on its own (`npm run example examples/executor.ts`): one batch of tool calls,
 * as a model would issue them, through the gate. It prints each stage as the
 * executor publishes it, then each call's result, so you can see a policy
 * denial, an approval, a denial by the approver, a missing tool and bad
 * params, all as results the model would read.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Fiber, Layer, Schema, Stream } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { Approval, Executor, ToolEvents, ToolPolicy } from "toolgate"

const Read = Tool.make("Read", {
  description: "Read a file",
  parameters: Schema.Struct({ file_path: Schema.String }),
  success: Schema.String
}).annotate(Tool.Readonly, true)

const Write = Tool.make("Write", {
  description: "Write a file",
  parameters: Schema.Struct({ file_path: Schema.String, content: Schema.String }),
  success: Schema.String
})

const files = new Map([["notes.md", "# Notes\nship it"]])
const toolkit = Toolkit.make(Read, Write)
const handlers = toolkit.toLayer({
  Read: ({ file_path }) => Effect.succeed(files.get(file_path) ?? ""),
  Write: ({ content, file_path }) =>
    Effect.sync(() => {
      files.set(file_path, content)
      return `wrote ${content.length} bytes to ${file_path}`
    })
})

// The static gate: never touch /etc; reads need nobody's approval.
const policy = ToolPolicy.make(({ call, toolClass }) => {
  const path = (call.params as { file_path?: unknown } | undefined)?.file_path
  if (typeof path === "string" && path.startsWith("/etc/")) {
    return ToolPolicy.Verdict.Deny({ reason: "files under /etc are off limits" })
  }
  return toolClass === "ReadOnly" ? ToolPolicy.Verdict.Allow() : ToolPolicy.Verdict.Ask({ reason: "writes a file" })
})

// The dynamic gate, scripted here: a "human" who refuses to overwrite notes.
const human = Approval.make((request) => {
  const path = (request.call.params as { file_path: string }).file_path
  return path === "notes.md"
    ? Approval.ApprovalDecision.Deny({ reason: "do not overwrite my notes" })
    : Approval.ApprovalDecision.Allow()
})

const calls = [
  { id: "call_1", name: "Read", params: { file_path: "notes.md" } },
  { id: "call_2", name: "Write", params: { file_path: "summary.md", content: "ship it" } },
  { id: "call_3", name: "Write", params: { file_path: "notes.md", content: "" } },
  { id: "call_4", name: "Write", params: { file_path: "/etc/passwd", content: "root::0:0" } },
  { id: "call_5", name: "Delete", params: { file_path: "notes.md" } },
  { id: "call_6", name: "Read", params: { path: "notes.md" } }
]

const describeEvent = (event: ToolEvents.ToolEvent): string =>
  ToolEvents.ToolEvent.$match(event, {
    Pending: ({ call }) => `${call.id} ${call.name}: pending`,
    ApprovalRequested: ({ request }) => `${request.call.id} ${request.call.name}: waiting for approval (${request.reason})`,
    Decided: ({ allowed, call, decidedBy, reason }) =>
      `${call.id} ${call.name}: ${allowed ? "allowed" : "denied"} by ${decidedBy}${reason ? ` (${reason})` : ""}`,
    Started: ({ call }) => `${call.id} ${call.name}: started`,
    Finished: ({ result }) => `${result.id} ${result.name}: ${result.outcome._tag}`
  })

const program = Effect.gen(function*() {
  yield* Console.log("toolgate demo: one batch of model tool calls through the gate\n")
  const printer = yield* ToolEvents.stream.pipe(
    Stream.runForEach((event) => Console.log(`  event  ${describeEvent(event)}`)),
    Effect.forkChild
  )
  yield* Effect.yieldNow
  const results = yield* Executor.executeBatch(toolkit, calls)
  yield* Effect.yieldNow
  yield* Fiber.interrupt(printer)
  yield* Console.log("\nWhat the model reads back, in the order it asked:")
  for (const result of results) {
    yield* Console.log(`  ${result.id} ${result.name} ${result.isFailure ? "✗" : "✓"} ${JSON.stringify(result.result)}`)
  }
})

program.pipe(
  Effect.provide(Layer.mergeAll(handlers, ToolPolicy.layer(policy), Approval.layer(human), ToolEvents.layer)),
  NodeRuntime.runMain
)
