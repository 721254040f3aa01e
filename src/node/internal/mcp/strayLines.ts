/**
 * Stray lines on an upstream's stdout. MCP over stdio is one JSON-RPC
 * message a line, but careless servers print a banner or a log line there
 * too; effect's stdio client treats that as a broken connection and the
 * server never starts. The gateway spawns upstreams through this decorator
 * of the `ChildProcessSpawner`, which passes on the lines that are JSON
 * objects or arrays and reports every other line on stderr, so one stray
 * line costs a log line, never the server.
 *
 * A decorator rather than a transport of our own: the rest of effect's
 * stdio transport (framing, limits, shutdown) stays as it is.
 */
import { Effect, Stream } from "effect"
import { ChildProcessSpawner } from "effect/process"

const looksLikeJson = (line: string) => {
  const t = line.trimStart()
  return t.startsWith("{") || t.startsWith("[")
}

/**
 * The spawner of the current context, with each child's stdout filtered to
 * its JSON lines; `server` names the upstream in the stderr report.
 */
export const filtering = (server: string) =>
  Effect.map(ChildProcessSpawner.ChildProcessSpawner, (spawner) =>
    ChildProcessSpawner.make((command) =>
      Effect.map(spawner.spawn(command), (handle) =>
        ChildProcessSpawner.makeHandle({
          ...handle,
          stdout: handle.stdout.pipe(
            Stream.decodeText(),
            Stream.splitLines,
            Stream.filterEffect((line) =>
              looksLikeJson(line) || line.trim() === ""
                ? Effect.succeed(true)
                : Effect.as(
                  Effect.logWarning(`toolgate mcp: ${server}: skipped a line on stdout that is not MCP: ${JSON.stringify(line.slice(0, 200))}`),
                  false
                )
            ),
            Stream.map((line) => line + "\n"),
            Stream.encodeText
          )
        })
      )
    ))
