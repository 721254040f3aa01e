/**
 * A plain callback that sees every `ToolEvent` of the batches run under it,
 * nested sub-agents' included: how `Agent.stream` hands the executor's
 * events to its UI without a PubSub, a subscription and a forwarding fiber
 * per batch. The public `ToolEvents` PubSub is fed as well when provided;
 * with neither, the executor builds no event at all.
 */
import { Context } from "effect"
import type { ToolEvent } from "../ToolEvents.ts"

/** Called synchronously, in the order the events happen; must not throw. */
export type EventObserver = (event: ToolEvent) => void

/** The observer in force; none by default. */
export const CurrentEventObserver = Context.Reference<EventObserver | undefined>("toolgate/internal/EventObserver", {
  defaultValue: () => undefined
})
