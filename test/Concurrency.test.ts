import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { Tool } from "effect/ai"
import { Concurrency, ToolClass } from "toolgate"

const Read = Tool.make("Read", { parameters: Schema.Struct({}) }).annotate(Tool.Readonly, true)
const Write = Tool.make("Write", { parameters: Schema.Struct({}) })
const Deploy = Tool.make("Deploy", { parameters: Schema.Struct({}) })

describe("Concurrency", () => {
  it("routes reads, serial mutators, promoted mutators and recursive tools", () => {
    const pools = Concurrency.makeUnsafe({ tools: { Deploy: { concurrent: true } } })
    expect(pools.route(Read)).toBe("read")
    expect(pools.route(Write)).toBe("serial")
    expect(pools.route(Deploy)).toBe("concurrent")
    expect(pools.route(ToolClass.recursive(Write))).toBe("concurrent")
    expect(pools.route(ToolClass.recursive(Read))).toBe("concurrent")
  })

  it("fills missing settings with the defaults", () => {
    expect(Concurrency.makeUnsafe({ reads: 4 }).settings).toEqual({ ...Concurrency.defaults, reads: 4 })
    expect(Concurrency.defaults).toMatchObject({ reads: 20, concurrentMutators: 10, serialMutators: 1 })
  })

  it("rejects caps that are not whole numbers of at least 1, naming the setting", () => {
    expect(() => Concurrency.makeUnsafe({ reads: 0 })).toThrow("reads must be a whole number of at least 1, got 0")
    expect(() => Concurrency.makeUnsafe({ concurrentMutators: 1.5 })).toThrow("concurrentMutators")
    expect(() => Concurrency.makeUnsafe({ tools: { Deploy: { max: -1 } } })).toThrow("tools.Deploy.max")
  })
})
