/**
 * The Messages API's own shapes, as the contract uses them. Type-only imports from the Anthropic
 * SDK: they erase at compile time, so nothing of the SDK enters the workflow sandbox, and no
 * parallel model of the API is invented (blocks keep their snake_case fields everywhere).
 */
export type {
  ContentBlock,
  Message,
  MessageCreateParamsBase,
  MessageParam,
  StopReason,
  TextBlockParam,
  ThinkingConfigParam,
  Tool,
  ToolChoice,
  ToolResultBlockParam,
  ToolUnion,
  ToolUseBlock,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
