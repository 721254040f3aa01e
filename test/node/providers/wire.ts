/**
 * The providers' response bodies as their APIs send them, for the loopback
 * servers of the provider tests: one definition per wire format.
 */

/** Anthropic Messages API usage block. */
export const anthropicUsage = {
  input_tokens: 21,
  output_tokens: 9,
  cache_creation_input_tokens: null,
  cache_read_input_tokens: null,
  cache_creation: null,
  inference_geo: null,
  service_tier: "standard"
}

/** An Anthropic Messages API response with `content` blocks. */
export const anthropicMessage = (content: ReadonlyArray<unknown>, stop_reason: string, id = `msg_${stop_reason}`) => ({
  id,
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5",
  content,
  stop_reason,
  stop_sequence: null,
  usage: anthropicUsage
})

/** An OpenAI Responses API response with `output` items. */
export const openAiResponse = (id: string, output: ReadonlyArray<unknown>) => ({
  id,
  object: "response",
  model: "gpt-4.1",
  created_at: 1_790_000_000,
  status: "completed",
  output,
  usage: { input_tokens: 30, output_tokens: 11, total_tokens: 41 }
})
