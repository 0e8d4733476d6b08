/**
 * An MCP `tools/call` result as `tool_result` content. Pure: unit-tested in test/unit/mcp.test.ts.
 *
 * - `text` blocks stay text; one text block alone becomes the result's plain string.
 * - `image` blocks of a type the Messages API takes (JPEG, PNG, GIF, WebP) become base64 image blocks.
 * - Anything else (audio, embedded resources, resource links, other image types, blocks of a
 *   later protocol version) becomes a text block holding the block's JSON, so nothing the server
 *   said is lost and the model can still read it.
 * - No content blocks but `structuredContent` (or an old server's `toolResult`): its JSON as
 *   text (servers SHOULD send both, but need not).
 *
 * Size is not capped here: the tool activity cuts every result to the run's `toolResultMaxBytes`.
 */
import type { ToolResultBlockParam } from '../../contract/messages.js';

/** The fields of a `CallToolResult` this mapping reads (the SDK's type, loosely: servers vary). */
export interface McpCallResultLike {
  content?: readonly unknown[] | undefined;
  structuredContent?: unknown;
  isError?: boolean | undefined;
  /** The 2024-10-07 protocol's result shape. */
  toolResult?: unknown;
}

type Block = Exclude<ToolResultBlockParam['content'], string | undefined>[number];

const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** The `tool_result` content for an MCP call's result. */
export function mcpResultContent(result: McpCallResultLike): string | Block[] {
  const content = Array.isArray(result.content) ? result.content : [];
  if (content.length === 0) {
    const structured = result.structuredContent ?? result.toolResult;
    if (structured === undefined || structured === null) return '';
    return typeof structured === 'string' ? structured : (JSON.stringify(structured) ?? '');
  }
  const blocks = content.map(toBlock);
  const [only] = blocks;
  if (blocks.length === 1 && only?.type === 'text') return only.text;
  return blocks;
}

function toBlock(item: unknown): Block {
  const b = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  if (b.type === 'text' && typeof b.text === 'string') return { type: 'text', text: b.text };
  if (b.type === 'image' && typeof b.data === 'string' && typeof b.mimeType === 'string' && IMAGE_TYPES.has(b.mimeType)) {
    const media_type = b.mimeType as 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
    return { type: 'image', source: { type: 'base64', media_type, data: b.data } };
  }
  return { type: 'text', text: JSON.stringify(item) ?? String(item) };
}
